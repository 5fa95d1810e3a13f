import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  invokeFunction,
  lambdaClientFor,
  parseFlags,
  positiveInteger,
  targetOf,
  UsageError,
} from '../../bin/operator-cli.js';
import type { LocalStack } from '../../local/stack.js';
import type { Store } from '../../shared/adapters/dynamodb/store.js';
import type { HealthReport } from '../../shared/application/health-check.js';
import type { SweepSummary } from '../../shared/application/retry-sweep.js';
import type { Notification } from '../../shared/domain/notification.js';
import { makeNotification } from '../support/fixtures.js';
import { type E2eStack, startE2eStack } from '../support/local-stack.js';
import { closedPort, runCli } from '../support/operator-cli.js';

let e2e: E2eStack;
let stack: LocalStack;
let store: Store;
let lambdaPort: string;

const cli = (script: 'retry' | 'health', args: string[], env: Record<string, string> = {}) =>
  runCli(script, args, { LAMBDA_PORT: lambdaPort, ...env });

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

beforeAll(async () => {
  e2e = await startE2eStack();
  stack = e2e.stack;
  lambdaPort = new URL(stack.urls.lambda).port;
  store = e2e.store;
});
afterAll(async () => {
  await e2e?.stop();
});

describe('npm run retry', () => {
  let due: Notification[];
  beforeAll(async () => {
    due = [
      makeNotification({ status: 'failed', attempts: 2, nextAttemptAt: minutesAgo(5) }),
      makeNotification({ status: 'failed', attempts: 4, nextAttemptAt: minutesAgo(1), category: 'otp' }),
    ];
    for (const n of due) await store.create(n);
  });

  it('dry run prints the original report, one block per notification, and changes nothing', async () => {
    const before = await Promise.all(due.map((n) => store.get(n.id)));

    const run = await cli('retry', ['--dry-run', '--verbose', '--limit=50', '--max-retries=15']);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('RETRY NOTIFICATIONS ÉCHOUÉES (DRY RUN');
    expect(run.stdout).toContain('Notifications trouvées : 2');
    expect(run.stdout).toContain('Limite de tentatives : 15');
    for (const n of due) {
      expect(run.stdout).toContain(`Notification ${n.id}`);
      // Its own limit: a raised run limit carries on only what ended at it (re-driven up to 15).
      expect(run.stdout).toContain(`Tentatives: ${n.attempts}/${n.maxAttempts}`);
    }
    expect(run.stdout.match(/Destinataire: \*{7}3456/g)).toHaveLength(2);
    expect(run.stdout).not.toContain('70123456');
    expect(run.stdout).toContain("RÉSUMÉ DE L'EXÉCUTION");
    expect(run.stdout).toContain('Mises en file      : 2');
    expect(await Promise.all(due.map((n) => store.get(n.id)))).toEqual(before);
  });

  it('without --verbose prints only the header and the summary', async () => {
    const run = await cli('retry', ['--dry-run']);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Notifications trouvées : 2');
    expect(run.stdout).toContain('Limite de tentatives : 10');
    expect(run.stdout).not.toContain('Destinataire');
    expect(run.stdout).toContain('Total traité       : 2');
  });

  it('--json prints the raw summary', async () => {
    const run = await cli('retry', ['--dry-run', '--verbose', '--json']);

    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as SweepSummary;
    expect(summary).toMatchObject({ dryRun: true, found: 2, queued: 2 });
    expect(summary.notifications?.map((e) => e.id).sort()).toEqual(due.map((n) => n.id).sort());
  });

  it('the real run queues them, and they are no longer due', async () => {
    const run = await cli('retry', ['--verbose']);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('DRY RUN');
    expect(run.stdout).toContain('Mises en file      : 2');
    for (const n of due) expect((await store.get(n.id))?.version).toBeGreaterThan(n.version);
    const again = JSON.parse((await cli('retry', ['--dry-run', '--json'])).stdout) as SweepSummary;
    expect(again.found).toBe(0);
  });
});

describe('usage errors', () => {
  it('a bad value exits 2 naming the flag, with the usage', async () => {
    const run = await cli('retry', ['--dry-run', '--limit=0']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--limit must be a positive whole number, got '0'");
    expect(run.stderr).toContain('Usage: npm run retry');
    expect(run.stdout).toBe('');
  });

  it('an unknown flag exits 2', async () => {
    const run = await cli('retry', ['--bogus']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Unknown option '--bogus'");
    expect(run.stderr).toContain('Usage: npm run retry');
  });

  it.each([
    ['limit', 'abc'],
    ['limit', '-3'],
    ['max-retries', '1.5'],
    ['max-retries', '1e3'],
    ['max-retries', ''],
  ])('--%s=%j is refused, naming the flag', (flag, value) => {
    expect(() => positiveInteger(flag, value)).toThrow(
      new UsageError(`--${flag} must be a positive whole number, got '${value}'`),
    );
  });

  it.each([[['--limit']], [['stray']], [['--json=yes']]])('%j is refused by the parser', (argv) => {
    expect(() => parseFlags(argv, { limit: { type: 'string' } })).toThrow(UsageError);
  });

  it('health takes no --verbose', async () => {
    const run = await cli('health', ['--verbose']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Unknown option '--verbose'");
  });

  it('--help prints usage with examples, deployed stack included', async () => {
    const run = await cli('retry', ['--help']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: npm run retry -- [options]');
    expect(run.stdout).toContain('--max-retries=N');
    expect(run.stdout).toMatch(/^ {2}npm run retry -- --stage prod --dry-run/m);
    expect(run.stdout).toContain('--stage NAME');
  });
});

describe('invoke failures', () => {
  it('an unreachable local stack exits 3 with a hint', async () => {
    const run = await cli('retry', ['--dry-run'], { LAMBDA_PORT: String(await closedPort()) });

    expect(run.code).toBe(3);
    expect(run.stderr).toContain('could not reach retry-sweep');
    expect(run.stderr).toContain('is `npm start` running?');
  });

  it('a payload the function rejects exits 1 with the details', async () => {
    const run = await cli('retry', ['--dry-run', '--limit=20000']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('retry-sweep rejected the request');
    expect(run.stderr).toMatch(/- limit: .*10000/);
  });

  it('a function error exits 1 with its type and message', async () => {
    // The sender expects an SQS event: a sweep payload makes it throw.
    const run = await cli('retry', ['--dry-run', '--function-name=sender', `--endpoint-url=${stack.urls.lambda}`]);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error: sender failed: \w+: ./);
  });

  it('an unknown function exits 1 with the service error', async () => {
    const run = await cli('health', ['--function-name=nope', `--endpoint-url=${stack.urls.lambda}`]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('ResourceNotFoundException');
  });

  it('invokeFunction returns a validation rejection as an outcome', async () => {
    const target = targetOf({}, 'health-check', { LAMBDA_PORT: lambdaPort });
    const client = lambdaClientFor(target, {});

    const outcome = await invokeFunction(client, target.functionName, { dryRun: 'yes', extra: 1 });
    client.destroy();

    expect(outcome.kind).toBe('rejected');
    if (outcome.kind !== 'rejected') return;
    expect(outcome.rejection).toMatchObject({ statusCode: 400, error: 'validation_error' });
    expect(outcome.rejection.details.map((d) => d.path)).toContain('dryRun');
  });
});

describe('npm run health', () => {
  beforeAll(async () => {
    // One dead letter, so that the report has an alert to show.
    await e2e.sqs.send(new SendMessageCommand({ QueueUrl: stack.dlqUrl, MessageBody: JSON.stringify({ id: 'lost' }) }));
  });

  it('--dry-run prints the windows, the DLQ, the backlog and the alerts', async () => {
    const run = await cli('health', ['--dry-run']);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('NOTIFICATION HEALTH (DRY RUN');
    expect(run.stdout).toMatch(/Dernière heure \/ 1 h\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+\.\d%/);
    expect(run.stdout).toMatch(/Dernières 24 h \/ 24 h\s+\d+/);
    expect(run.stdout).toMatch(/DLQ .*: 1\n/);
    expect(run.stdout).toContain('Arriéré / backlog : 0 notification(s) due(s)');
    expect(run.stdout).toContain('ALERTES / ALERTS : 1');
    expect(run.stdout).toContain('[WARNING] dead_letters');
    expect(run.stdout).toContain("1 message(s) in the send queue's dead-letter queue.");
    expect(run.stdout).toContain('À faire / what to do: A message the sender could not process');
    expect(run.stdout).toContain('Email: serait envoyée / would be sent (dry run)');
    expect(run.stdout).toMatch(/ {3}WhatsApp: \S/);
    expect(run.stdout).toContain('Alertes envoyées / delivered : email 0, WhatsApp 0');
  });

  it('--json prints the raw report', async () => {
    const run = await cli('health', ['--dry-run', '--json']);

    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as HealthReport;
    expect(report).toMatchObject({ dryRun: true, dlqDepth: 1, delivered: { email: 0, whatsapp: 0 } });
    expect(report.alerts.map((a) => [a.kind, a.email])).toEqual([['dead_letters', 'dry_run']]);
    expect(report.windows.lastHour).toHaveProperty('failureRate');
  });
});
