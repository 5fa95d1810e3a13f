// Runs an operator command (bin/retry.ts, health.ts, circuit.ts, notifications.ts) as a real child process.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
// Taken at import, before a local stack writes the functions' settings into process.env.
const OPERATOR_ENV = { ...process.env };

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  script: 'retry' | 'health' | 'circuit' | 'notifications',
  args: string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `bin/${script}.ts`, ...args], {
      cwd: ROOT,
      env: { ...OPERATOR_ENV, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** A port nothing listens on: taken from the OS, then given back. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as { port: number };
  await new Promise((closed) => server.close(closed));
  return port;
}
