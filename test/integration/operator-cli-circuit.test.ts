// `npm run circuit` as an operator runs it: a child process invoking the provider-probe function of a
// local stack started in this process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.js';
import type { Store } from '../../shared/adapters/dynamodb/store.js';
import type { CircuitReport } from '../../shared/application/provider-circuit.js';
import { WACHAP_PROVIDER } from '../../shared/domain/provider-circuit.js';
import { makeNotification } from '../support/fixtures.js';
import { type E2eStack, startE2eStack } from '../support/local-stack.js';
import { closedPort, runCli } from '../support/operator-cli.js';

let e2e: E2eStack;
let stack: LocalStack;
let store: Store;
let lambdaPort: string;
const circuit = (args: string[], env: Record<string, string> = {}) =>
  runCli('circuit', args, { LAMBDA_PORT: lambdaPort, ...env });

beforeAll(async () => {
  e2e = await startE2eStack();
  stack = e2e.stack;
  lambdaPort = new URL(stack.urls.lambda).port;
  store = e2e.store;
});
afterAll(async () => {
  await e2e?.stop();
});

describe('npm run circuit', () => {
  it('without an action shows the status of a circuit never opened, and changes nothing', async () => {
    const run = await circuit([]);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('WACHAP PROVIDER CIRCUIT');
    expect(run.stdout).toMatch(/État \/ state\s+: FERMÉ \/ CLOSED \(jamais ouvert \/ never opened\)/);
    expect(run.stdout).toMatch(/Action\s+: état seulement \/ status only/);
    expect(run.stdout).not.toContain('Libérées');
    expect(await store.getProviderState(WACHAP_PROVIDER)).toBeUndefined();
  });

  it('--open --reason forces it open; --probe finds WaChap healthy but leaves it open; --close releases', async () => {
    const held = makeNotification({
      status: 'failed',
      reason: 'provider_unavailable',
      nextAttemptAt: new Date(Date.now() + 10 * 60_000).toISOString(),
    });
    await store.create(held);

    const open = await circuit(['--open', '--reason=token renewal in progress']);
    expect(open.code, open.stderr).toBe(0);
    expect(open.stdout).toContain('OUVERT / OPEN');
    expect(open.stdout).toMatch(/Raison \/ reason\s+: opened by an operator: token renewal in progress\n/);
    expect(open.stdout).toMatch(/Forcé \/ forced\s+: oui \/ yes/);
    expect(open.stdout).toMatch(/Action\s+: ouverture forcée par un opérateur/);
    expect(open.stdout).toMatch(/Dernière sonde \/ last probe\s+: aucune \/ none/);

    const probe = await circuit(['--probe']);
    expect(probe.code, probe.stderr).toBe(0);
    expect(probe.stdout).toContain('OUVERT / OPEN');
    expect(probe.stdout).toMatch(/Sonde \/ probe\s+: healthy\n/);
    expect(probe.stdout).toMatch(/Dernière sonde \/ last probe\s+: \S+Z → healthy/);
    expect(probe.stdout).toMatch(/Libérées \/ released\s+: 0 notification\(s\)/);
    // The stack has an admin address: an open circuit is worth an email, once.
    expect(probe.stdout).toMatch(/Alerte email \/ alert email\s+: envoyée \/ sent/);

    const json = await circuit(['--status', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as CircuitReport;
    expect(report).toMatchObject({
      action: 'status',
      circuit: { status: 'unavailable', forced: true, lastProbeResult: 'healthy' },
    });

    const close = await circuit(['--close']);
    expect(close.code, close.stderr).toBe(0);
    expect(close.stdout).toContain('FERMÉ / CLOSED');
    expect(close.stdout).toMatch(/Action\s+: fermeture par un opérateur \/ closed by an operator/);
    expect(close.stdout).toMatch(/Libérées \/ released\s+: 1 notification\(s\) remise\(s\) en file \/ queued again/);
    expect(await store.getProviderState(WACHAP_PROVIDER)).toMatchObject({ status: 'healthy' });
    expect((await store.get(held.id))?.reason).toBeUndefined();
  });
});

describe('npm run circuit: mistakes', () => {
  it.each([
    ['--open --close', ['--open', '--close'], 'choose one action, got --open and --close'],
    ['--close --reason', ['--close', '--reason=fixed'], '--reason goes with --open'],
    ['a blank --reason', ['--open', '--reason=  '], '--reason must not be empty'],
    ['a --reason too long', ['--open', `--reason=${'x'.repeat(201)}`], '--reason must be at most 200 characters'],
    ['an unknown flag', ['--force'], "Unknown option '--force'"],
  ])('%s exits 2 with the usage', async (_what, args, message) => {
    const run = await circuit(args);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain('Usage: npm run circuit');
    expect(run.stdout).toBe('');
  });

  it('--help prints the usage with examples, deployed stack included', async () => {
    const run = await circuit(['--help']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--reason="TEXT"');
    expect(run.stdout).toMatch(/^ {2}npm run circuit -- --stage prod --close$/m);
  });

  it('an unreachable local stack exits 3 with a hint', async () => {
    const run = await circuit(['--status'], { LAMBDA_PORT: String(await closedPort()) });

    expect(run.code).toBe(3);
    expect(run.stderr).toContain('could not reach provider-probe');
  });

  it('another function rejecting the request exits 1 with its details', async () => {
    const run = await circuit(['--status', '--function-name=retry-sweep', `--endpoint-url=${stack.urls.lambda}`]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('retry-sweep rejected the request (validation_error)');
    expect(run.stderr).toContain('- action:');
  });
});
