// `npm start` passes the functions' settings from the shell to the functions: a bad one stops the start
// naming it (it used to be ignored in silence), a good one is listed in the banner.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUNCTION_SETTINGS, functionSettingsFrom } from '../../local/function-settings.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Runs local/start.ts until it prints `until` (then stops it with SIGINT) or exits by itself. */
function start(env: Record<string, string>, until: RegExp): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        API_PORT: '0',
        LAMBDA_PORT: '0',
        DYNAMODB_PORT: '0',
        SQS_PORT: '0',
        SES_PORT: '0',
        WACHAP_SANDBOX_PORT: '0',
        SECRETS_MANAGER_PORT: '0',
        DYNAMODB_ENGINE: 'dynalite',
        ...env,
      },
    });
    let out = '';
    const read = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (until.test(out)) child.kill('SIGINT');
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('error', fail);
    child.on('close', (code) => done({ code, out }));
  });
}

describe('function settings from the shell', () => {
  it('covers the configuration table, but not what the stack itself sets', () => {
    for (const name of ['ADMIN_EMAIL', 'ALERT_COOLDOWN_MINUTES', 'MAX_RETRIES', 'WACHAP_MAX_SENDS_PER_SECOND']) {
      expect(FUNCTION_SETTINGS).toContain(name);
    }
    for (const name of [
      'WACHAP_TIMEOUT_MS',
      'POWERTOOLS_LOG_LEVEL',
      'PROVIDER_PROBE_INTERVAL_SECONDS',
      'RECIPIENT_LIMITS',
      'EMAIL_FROM',
      'EMAIL_FALLBACK_CATEGORIES',
      'EMAIL_FALLBACK_BEFORE_EXPIRY_SECONDS',
    ]) {
      expect(FUNCTION_SETTINGS).toContain(name);
    }
    for (const name of ['TABLE_NAME', 'SEND_QUEUE_URL', 'WACHAP_ACCESS_TOKEN', 'AWS_REGION', 'PATH']) {
      expect(FUNCTION_SETTINGS).not.toContain(name);
    }
    expect(functionSettingsFrom({ ADMIN_EMAIL: 'me@example.com', MAX_RETRIES: '', PATH: '/bin' })).toEqual({
      ADMIN_EMAIL: 'me@example.com',
    });
  });

  it('a bad setting stops npm start, naming it', async () => {
    const run = await start({ ADMIN_EMAIL: 'not-an-email' }, /local stack ready/);

    expect(run.code).toBe(1);
    expect(run.out).toMatch(/could not start: .*ADMIN_EMAIL/);
  }, 60_000);

  it('a good one is passed, and the banner lists what it passed', async () => {
    const run = await start({ ADMIN_EMAIL: 'me@example.com', ALERT_COOLDOWN_MINUTES: '5' }, /settings from your shell/);

    expect(run.out).toMatch(/Function settings from your shell: ADMIN_EMAIL, ALERT_COOLDOWN_MINUTES/);
    expect(run.out).toContain('stopped.');
    // The examples call the API where it lives: under /v1.
    expect(run.out).toMatch(/curl -s -X POST http:\/\/\S+\/v1\/notifications /);
    expect(run.out).toMatch(/'http:\/\/\S+\/v1\/notifications\?limit=20/);
    // The local caller's callback secret, to verify the status callbacks a receiver on this laptop gets.
    expect(run.out).toMatch(/Callback secret \(local-key\): whsec_[A-Za-z0-9+/=]+/);
    // The operations page, on the API's port, on a line that names it.
    expect(run.out).toMatch(/Operations page:\s+http:\/\/127\.0\.0\.1:\d+\/ops\//);
  }, 60_000);

  it('passes WACHAP_INSTANCES to the functions and the sandbox, and lists the instances', async () => {
    const instances = [
      { name: 'china', instanceId: 'CN0001', accessToken: 'cn-secret-token', prefixes: ['+86'] },
      { name: 'mali', instanceId: 'ML0001', accessToken: 'ml-secret-token', prefixes: ['+223'], default: true },
      { name: 'system', instanceId: 'SY0001', accessToken: 'sy-secret-token', role: 'system' },
    ];
    const run = await start({ WACHAP_INSTANCES: JSON.stringify(instances) }, /local stack ready[\s\S]*instances: .*\n/);

    expect(run.out).toMatch(
      /instances: china CN0001 \(\+86\); mali ML0001 \(\+223, the rest\); system SY0001 \(OTPs\)/,
    );
    expect(run.out).not.toContain('secret-token');
  }, 60_000);

  it('a malformed WACHAP_INSTANCES stops npm start, naming the field', async () => {
    const duplicate = { name: 'mali', instanceId: 'ML0001', accessToken: 't', default: true };
    const run = await start({ WACHAP_INSTANCES: JSON.stringify([duplicate, duplicate]) }, /local stack ready/);

    expect(run.code).toBe(1);
    expect(run.out).toMatch(/WACHAP_INSTANCES\.1\.name: duplicate name/);
  }, 60_000);
});
