import { describe, expect, it } from 'vitest';
import { CIRCUIT_OPTIONS, circuitPayloadOf } from '../../bin/cli/circuit-args.js';
import { parseFlags } from '../../bin/cli/flags.js';
import { FUNCTIONS } from '../../functions/catalog.js';
import { ConfigError, loadConfig } from '../../shared/config.js';
import { evaluateHealth, providerUnavailableAlert } from '../../shared/domain/health.js';
import type { ProviderState } from '../../shared/domain/provider-circuit.js';
import {
  circuitNameOf,
  defaultInstance,
  failoverProblems,
  failoverSchema,
  instanceDecision,
  routeOf,
  type WaChapInstance,
  wachapInstancesSchema,
} from '../../shared/domain/wachap-instances.js';
import { alertEmail } from '../../shared/presentation/alert-messages.js';
import { ALERT_TEXTS } from '../../shared/presentation/alert-texts.js';

const ISSUE_EXAMPLE = [
  { name: 'china', instanceId: 'CN0001', accessToken: 'cn-token', prefixes: ['+86'] },
  { name: 'mali', instanceId: 'ML0001', accessToken: 'ml-token', prefixes: ['+223'], default: true },
  { name: 'system', instanceId: 'SY0001', accessToken: 'sy-token', role: 'system' },
];
const instances = wachapInstancesSchema.parse(ISSUE_EXAMPLE);

/** The problems as `path: message`, the way a ConfigError shows them. */
function problemsOf(list: unknown): string[] {
  const result = wachapInstancesSchema.safeParse(list);
  if (result.success) return [];
  return result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('wachapInstancesSchema', () => {
  it("accepts the issue's example, with prefix-less instances given an empty list", () => {
    expect(instances.map((i) => i.name)).toEqual(['china', 'mali', 'system']);
    expect(instances[2]?.prefixes).toEqual([]);
  });

  it.each([
    [
      'a duplicate name',
      [ISSUE_EXAMPLE[0], { ...ISSUE_EXAMPLE[1], name: 'china' }],
      '1.name: duplicate name: instance 0 has it too',
    ],
    [
      'a duplicate instance id',
      [ISSUE_EXAMPLE[0], { ...ISSUE_EXAMPLE[1], instanceId: 'CN0001' }],
      '1.instanceId: duplicate instanceId: instance 0 has it too',
    ],
    [
      'a prefix without +',
      [{ ...ISSUE_EXAMPLE[0], prefixes: ['86'] }, ISSUE_EXAMPLE[1]],
      '0.prefixes.0: must be + and digits, such as +86 or +223',
    ],
    [
      'a prefix with spaces',
      [{ ...ISSUE_EXAMPLE[0], prefixes: ['+86 1'] }, ISSUE_EXAMPLE[1]],
      '0.prefixes.0: must be + and digits, such as +86 or +223',
    ],
    [
      'two defaults',
      [{ ...ISSUE_EXAMPLE[0], default: true }, ISSUE_EXAMPLE[1]],
      '1.default: only one instance may be the default',
    ],
    [
      'two system instances',
      [ISSUE_EXAMPLE[1], ISSUE_EXAMPLE[2], { ...ISSUE_EXAMPLE[2], name: 'system2', instanceId: 'SY0002' }],
      '2.role: only one instance may have the system role',
    ],
    ['an empty list', [], ': must list at least one instance'],
    [
      'a name that is not a slug',
      [{ ...ISSUE_EXAMPLE[1], name: 'Mali Number' }],
      '0.name: must be a slug such as china or mali (lowercase letters, digits, dashes)',
    ],
    [
      'a missing token',
      [{ ...ISSUE_EXAMPLE[1], accessToken: ' ' }],
      '0.accessToken: must be the instance access token',
    ],
    ['an unknown role', [{ ...ISSUE_EXAMPLE[1], role: 'admin' }], '0.role: must be "system" or absent'],
    [
      'no default at all',
      [ISSUE_EXAMPLE[0], ISSUE_EXAMPLE[2]],
      '0.default: no default instance: mark one "default": true, or list one without prefixes',
    ],
  ])('names the field of %s', (_case, list, problem) => {
    expect(problemsOf(list)).toContain(problem);
  });

  it('refuses a field it does not know, by name (a typo would otherwise route silently)', () => {
    expect(problemsOf([{ ...ISSUE_EXAMPLE[1], prefix: ['+223'] }]).join(' ')).toMatch(/prefix/);
  });
});

describe('defaultInstance', () => {
  it('is the one marked default', () => {
    expect(defaultInstance(instances).name).toBe('mali');
  });

  it('without a mark, is the first without prefixes that is not the system instance', () => {
    const unmarked = wachapInstancesSchema.parse([
      ISSUE_EXAMPLE[0],
      ISSUE_EXAMPLE[2],
      { name: 'rest', instanceId: 'RS0001', accessToken: 't' },
    ]);
    expect(defaultInstance(unmarked).name).toBe('rest');
  });
});

describe('routeOf', () => {
  const route = (phone: string, category = 'colis_arrive') => routeOf({ recipient: { phone }, category }, instances);

  it.each([
    ['+8613800138000', 'china'],
    ['+22370123456', 'mali'],
    ['+33612345678', 'mali'],
  ])('routes %s to %s by prefix, else to the default', (phone, name) => {
    expect(route(phone).name).toBe(name);
  });

  it('sends OTPs through the system instance whatever the number', () => {
    expect(route('+8613800138000', 'otp').name).toBe('system');
    expect(route('+22370123456', 'otp').name).toBe('system');
  });

  it('routes OTPs by prefix when there is no system instance', () => {
    const regional = instances.filter((i) => i.role !== 'system');
    expect(routeOf({ recipient: { phone: '+8613800138000' }, category: 'otp' }, regional).name).toBe('china');
  });

  it('prefers the longest matching prefix (+8613 before +86), whatever the order', () => {
    const list: WaChapInstance[] = wachapInstancesSchema.parse([
      { name: 'china', instanceId: 'CN0001', accessToken: 't', prefixes: ['+86'] },
      { name: 'china-mobile', instanceId: 'CN0002', accessToken: 't', prefixes: ['+8613'] },
      { name: 'mali', instanceId: 'ML0001', accessToken: 't', default: true },
    ]);
    const to = (phone: string) => routeOf({ recipient: { phone }, category: 'x' }, list).name;
    expect(to('+8613800138000')).toBe('china-mobile');
    expect(to('+8615800138000')).toBe('china');
    expect(routeOf({ recipient: { phone: '+8613800138000' }, category: 'x' }, [...list].reverse()).name).toBe(
      'china-mobile',
    );
  });

  it('does not take +22 for +223: a prefix matches from the start of the number only', () => {
    expect(route('+4422312345678').name).toBe('mali');
  });
});

describe('circuitNameOf', () => {
  it('keeps the original key for the default instance and gives the others their own', () => {
    expect(circuitNameOf({ name: 'mali' }, instances)).toBe('wachap');
    expect(circuitNameOf({ name: 'china' }, instances)).toBe('wachap#china');
  });
});

describe('failover', () => {
  it('parses a map of instance names', () => {
    expect(failoverSchema.parse({ china: 'mali' })).toEqual({ china: 'mali' });
  });

  it('refuses an instance standing in for itself, and names the entry', () => {
    const result = failoverSchema.safeParse({ china: 'china' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['china']);
  });

  it('names entries whose instances are not configured', () => {
    expect(failoverProblems({ china: 'nowhere', japan: 'mali' }, instances)).toEqual([
      'china: no instance is named "nowhere"',
      'japan: no instance is named "japan"',
    ]);
  });

  // The decision table: routed circuit × stand-in configured × stand-in circuit.
  it.each([
    [false, undefined, false, { action: 'send', via: 'china', routedTo: 'china' }],
    [false, 'mali', true, { action: 'send', via: 'china', routedTo: 'china' }],
    [true, undefined, false, { action: 'hold', instance: 'china' }],
    [true, 'mali', false, { action: 'send', via: 'mali', routedTo: 'china' }],
    [true, 'mali', true, { action: 'hold', instance: 'china' }],
  ] as const)('china open %s, stand-in %s (open %s) → %o', (chinaOpen, standIn, standInOpen, decision) => {
    const open: Record<string, boolean> = { china: chinaOpen, mali: standInOpen };
    const failover: Record<string, string> = standIn ? { china: standIn } : {};
    expect(instanceDecision('china', failover, (name) => open[name] ?? false)).toEqual(decision);
  });

  it('never chains stand-ins', () => {
    const open: Record<string, boolean> = { china: true, mali: true, system: false };
    expect(instanceDecision('china', { china: 'mali', mali: 'system' }, (name) => open[name] ?? false)).toEqual({
      action: 'hold',
      instance: 'china',
    });
  });
});

describe('WACHAP_INSTANCES and WACHAP_FAILOVER at cold start', () => {
  const base = { TABLE_NAME: 't', SEND_QUEUE_URL: 'http://q/1', PRIORITY_SEND_QUEUE_URL: 'http://q/2' };
  const load = (env: Record<string, string>) => loadConfig(FUNCTIONS.sender.environment, { ...base, ...env });

  it('parses the list, which stands without WACHAP_INSTANCE_ID / WACHAP_ACCESS_TOKEN', () => {
    const config = load({ WACHAP_INSTANCES: JSON.stringify(ISSUE_EXAMPLE), WACHAP_FAILOVER: '{"china":"mali"}' });
    expect(config.WACHAP_INSTANCES?.map((i) => i.name)).toEqual(['china', 'mali', 'system']);
    expect(config.WACHAP_FAILOVER).toEqual({ china: 'mali' });
  });

  it('keeps the one-instance shorthand, with no failover by default', () => {
    const config = load({ WACHAP_INSTANCE_ID: 'LOCAL1', WACHAP_ACCESS_TOKEN: 'token' });
    expect(config.WACHAP_INSTANCES).toBeUndefined();
    expect(config.WACHAP_FAILOVER).toEqual({});
  });

  it.each([
    ['not JSON', { WACHAP_INSTANCES: '[{name:' }, 'WACHAP_INSTANCES: must be JSON such as'],
    [
      'a bad prefix',
      { WACHAP_INSTANCES: JSON.stringify([{ ...ISSUE_EXAMPLE[1], prefixes: ['223'] }]) },
      'WACHAP_INSTANCES.0.prefixes.0: must be + and digits',
    ],
    [
      'a failover to an unknown instance',
      { WACHAP_INSTANCES: JSON.stringify(ISSUE_EXAMPLE), WACHAP_FAILOVER: '{"china":"japan"}' },
      'WACHAP_FAILOVER: china: no instance is named "japan"',
    ],
  ])('stops the function on %s, naming the field', (_case, env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });

  it('never quotes a token in its message', () => {
    const env = { WACHAP_INSTANCES: JSON.stringify([{ ...ISSUE_EXAMPLE[1], name: 'Bad Name' }]) };
    expect(() => load(env)).not.toThrow(/ml-token/);
  });
});

describe('the provider alert with several instances', () => {
  const NOW = new Date('2026-11-30T10:00:00Z');
  const QUIET = { attempts: 0, sent: 0, temporaryFailures: 0, permanentFailures: 0 };
  const open: ProviderState = {
    status: 'unavailable',
    since: '2026-11-30T09:40:00.000Z',
    reason: 'HTTP 401: Unauthorized: token expired',
    recommendation: 'Renew the token.',
    version: 1,
  };

  it('alerts once per open instance circuit, naming the instance, and not for the healthy ones', () => {
    const alerts = evaluateHealth({
      lastHour: QUIET,
      last24Hours: QUIET,
      now: NOW,
      instanceCircuits: [
        { instance: 'china', state: open },
        { instance: 'mali', state: undefined },
        { instance: 'system', state: { status: 'healthy', since: NOW.toISOString(), version: 2 } },
      ],
    });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'provider_unavailable', circuit: { instance: 'china' } });
  });

  it('names the instance in both languages of the email', () => {
    const email = alertEmail([providerUnavailableAlert(open, NOW, 'china')], 'admin@example.com', NOW, {
      stage: 'prod',
    });
    expect(email.subject).toContain('WaChap (instance china) est indisponible');
    expect(email.text).toContain('WaChap (instance china) is unavailable');
    expect(email.text).toContain('les autres instances envoient');
    expect(email.text).toContain('the other instances keep sending');
  });

  it('keeps the one-instance text without an instance', () => {
    const email = alertEmail([providerUnavailableAlert(open, NOW)], 'admin@example.com', NOW, { stage: 'prod' });
    expect(email.text).toContain('WaChap est indisponible');
    expect(email.text).not.toContain('instance china');
  });
});

describe("the instance alert's commands", () => {
  const NOW = new Date('2026-11-30T10:00:00Z');
  const open: ProviderState = { status: 'unavailable', since: '2026-11-30T09:40:00.000Z', version: 1 };

  it('act on that instance, and parse with npm run circuit as printed', () => {
    const steps = ALERT_TEXTS.provider_unavailable.steps(providerUnavailableAlert(open, NOW, 'china'), {
      stage: 'prod',
    });
    const circuit = steps.flatMap((step) => (step.command?.script === 'circuit' ? [step.command] : []));
    expect(circuit.map((c) => c.line)).toEqual([
      'npm run circuit -- --stage prod --status --instance=china',
      'npm run circuit -- --stage prod --probe --instance=china',
      'npm run circuit -- --stage prod --close --instance=china',
    ]);
    for (const command of circuit) {
      expect(circuitPayloadOf(parseFlags([...command.args], CIRCUIT_OPTIONS))).toMatchObject({ instance: 'china' });
    }
  });

  it('refuses an --instance that is not an instance name', () => {
    expect(() => circuitPayloadOf(parseFlags(['--close', '--instance=China!'], CIRCUIT_OPTIONS))).toThrow(
      /--instance must be an instance name/,
    );
  });
});
