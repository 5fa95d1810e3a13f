// Starts a local DynamoDB: the official emulator (DynamoDB Local, Java) when it can run here,
// dynalite (pure Node) otherwise. Used by the local stack and the integration tests.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Log, silentLog } from '../../shared/observability/logger.js';

export type DynamoDbEngine = 'dynamodb-local' | 'dynalite';

export interface StartDynamoDbOptions {
  engine?: DynamoDbEngine | 'auto';
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Keep the data in this directory instead of in memory. */
  persistDir?: string;
  log?: Log;
}

export interface RunningDynamoDb {
  engine: DynamoDbEngine;
  endpoint: string;
  stop(): Promise<void>;
}

/** Where the postinstall script (install-dynamodb-local.mjs) unpacks the emulator. */
export const DYNAMODB_LOCAL_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '.cache',
  'dynamodb-local',
);
const JAR = join(DYNAMODB_LOCAL_DIR, 'DynamoDBLocal.jar');
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_CHARS = 4_000;

let javaCheck: { ok: true } | { ok: false; why: string } | undefined;

function checkJava(): { ok: true } | { ok: false; why: string } {
  if (!javaCheck) {
    const result = spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 15_000 });
    if (result.error) javaCheck = { ok: false, why: `'java -version' failed: ${result.error.message}` };
    else if (result.status !== 0)
      javaCheck = { ok: false, why: `'java -version' exited with ${result.status}: ${result.stderr.trim()}` };
    else javaCheck = { ok: true };
  }
  return javaCheck;
}

/** Why DynamoDB Local cannot run here, or undefined when it can. */
function dynamoDbLocalUnavailable(): string | undefined {
  if (!existsSync(JAR))
    return `the DynamoDB Local jar is not at ${JAR} (npm install runs local/engines/install-dynamodb-local.mjs)`;
  const java = checkJava();
  return java.ok ? undefined : `Java is not usable (${java.why}); DynamoDB Local needs Java 17+`;
}

/** The engines that can start on this machine, DynamoDB Local first. */
export function availableEngines(): DynamoDbEngine[] {
  return dynamoDbLocalUnavailable() === undefined ? ['dynamodb-local', 'dynalite'] : ['dynalite'];
}

export async function startDynamoDb(options: StartDynamoDbOptions = {}): Promise<RunningDynamoDb> {
  const log = options.log ?? silentLog;
  const requested = options.engine ?? 'auto';
  let engine: DynamoDbEngine;
  if (requested === 'auto') {
    const unavailable = dynamoDbLocalUnavailable();
    engine = unavailable === undefined ? 'dynamodb-local' : 'dynalite';
    log.info(
      unavailable === undefined
        ? 'DynamoDB engine: dynamodb-local (the official emulator: jar present and Java works)'
        : `DynamoDB engine: dynalite, because ${unavailable}`,
    );
  } else {
    engine = requested;
  }
  if (options.persistDir) mkdirSync(options.persistDir, { recursive: true });
  return engine === 'dynamodb-local' ? startDynamoDbLocal(options, log) : startDynalite(options, log);
}

// ---- dynalite ----------------------------------------------------------------------------------

async function startDynalite(options: StartDynamoDbOptions, log: Log): Promise<RunningDynamoDb> {
  let dynalite: typeof import('dynalite').default;
  try {
    dynalite = (await import('dynalite')).default;
  } catch (error) {
    throw new Error(`dynalite is not installed (it is a devDependency): ${(error as Error).message}`);
  }
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: options.persistDir });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('dynalite did not report a TCP port');
  const endpoint = `http://127.0.0.1:${address.port}`;
  log.info('dynalite listening', { endpoint, persistDir: options.persistDir ?? 'in memory' });
  let stopped: Promise<void> | undefined;
  return {
    engine: 'dynalite',
    endpoint,
    stop() {
      stopped ??= new Promise<void>((resolvePromise, reject) => {
        // Keep-alive sockets from SDK clients would hold close() open.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolvePromise()));
      });
      return stopped;
    },
  };
}

// ---- DynamoDB Local ------------------------------------------------------------------------------

/** Children still running, killed when this process goes away (they live in their own process group). */
const running = new Set<ChildProcess>();
let exitHooksInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', () => {
    for (const child of running) killGroup(child, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      for (const child of running) killGroup(child, 'SIGKILL');
      // Nobody else listens: restore the default (terminate) by re-raising without us.
      if (process.listenerCount(signal) === 1) {
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/** Listens on `port` (0 = any) on all interfaces, as the JVM will, and gives it back. */
async function probePort(port: number): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} is already in use`) : error),
    );
    probe.listen(port, () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address !== null
          ? resolvePromise(address.port)
          : reject(new Error('no free port')),
      );
    });
  });
}

/** Any HTTP answer (even an error about a missing signature) means the server is up. */
async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
      signal: AbortSignal.timeout(1_000),
    });
    return true;
  } catch {
    return false;
  }
}

async function startDynamoDbLocal(options: StartDynamoDbOptions, log: Log): Promise<RunningDynamoDb> {
  const unavailable = dynamoDbLocalUnavailable();
  if (unavailable) throw new Error(`Cannot start DynamoDB Local: ${unavailable}. Use engine 'dynalite' instead.`);

  // Checked even when given: otherwise a server already on the port would answer for the JVM.
  const port = await probePort(options.port ?? 0).catch((error: Error) => {
    throw new Error(`Cannot start DynamoDB Local: ${error.message}`);
  });
  const storage = options.persistDir ? ['-dbPath', resolve(options.persistDir)] : ['-inMemory'];
  const args = [
    `-Djava.library.path=${join(DYNAMODB_LOCAL_DIR, 'DynamoDBLocal_lib')}`,
    '-jar',
    JAR,
    ...storage,
    // One database whatever the credentials and region: every local client sees the same tables.
    '-sharedDb',
    '-disableTelemetry',
    '-port',
    String(port),
  ];
  installExitHooks();
  // detached: its own process group, so stop() can kill the JVM and anything it started.
  const child = spawn('java', args, { cwd: DYNAMODB_LOCAL_DIR, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const keepTail = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  const exited = new Promise<void>((resolvePromise) => {
    child.once('exit', () => {
      running.delete(child);
      resolvePromise();
    });
  });
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
    running.delete(child);
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  const started = Date.now();
  for (;;) {
    const failure =
      spawnError?.message ??
      (child.exitCode !== null || child.signalCode !== null
        ? `java exited (${child.exitCode ?? child.signalCode})`
        : Date.now() > deadline
          ? `DynamoDB Local did not answer on port ${port} within ${START_TIMEOUT_MS / 1000} s`
          : undefined);
    if (failure) {
      killGroup(child, 'SIGKILL');
      running.delete(child);
      throw new Error(`Cannot start DynamoDB Local: ${failure}. Java output (tail):\n${output.trim() || '(none)'}`);
    }
    if (await answers(endpoint)) break;
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
  }
  log.info('DynamoDB Local listening', {
    endpoint,
    persistDir: options.persistDir ?? 'in memory',
    startMs: Date.now() - started,
  });

  let stopped: Promise<void> | undefined;
  return {
    engine: 'dynamodb-local',
    endpoint,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null || spawnError) return;
        killGroup(child, 'SIGTERM');
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
        running.delete(child);
      })();
      return stopped;
    },
  };
}
