// `npm run circuit`'s flags and the provider-probe payload they make: apart from bin/circuit.ts (which runs on
// import), so that the commands an alert prints can be checked against the very parser that will read them.
import { INSTANCE_NAME } from '../../shared/domain/wachap-instances.js';
import { UsageError } from './errors.js';
import type { parseFlags } from './flags.js';

export const CIRCUIT_OPTIONS = {
  status: { type: 'boolean', default: false },
  open: { type: 'boolean', default: false },
  close: { type: 'boolean', default: false },
  probe: { type: 'boolean', default: false },
  reason: { type: 'string' },
  instance: { type: 'string' },
} as const;

const ACTIONS = ['status', 'open', 'close', 'probe'] as const;

export function circuitPayloadOf(flags: ReturnType<typeof parseFlags<typeof CIRCUIT_OPTIONS>>) {
  const chosen = ACTIONS.filter((action) => flags[action] === true);
  if (chosen.length > 1) {
    throw new UsageError(`choose one action, got ${chosen.map((a) => `--${a}`).join(' and ')}`);
  }
  const action = chosen[0] ?? 'status';
  const instance = instanceOf(flags.instance);
  if (flags.reason === undefined) return { action, ...instance };
  if (action !== 'open') throw new UsageError('--reason goes with --open');
  const reason = flags.reason.trim();
  if (reason === '') throw new UsageError('--reason must not be empty');
  if (reason.length > 200) throw new UsageError(`--reason must be at most 200 characters, got ${reason.length}`);
  return { action, reason, ...instance };
}

/** Several WaChap instances: the one the command is for (without it, the default instance). */
function instanceOf(flag: string | undefined): { instance?: string } {
  if (flag === undefined) return {};
  if (!INSTANCE_NAME.test(flag)) throw new UsageError('--instance must be an instance name such as china');
  return { instance: flag };
}
