// The WaChap instances (one WhatsApp number each) and which one a notification goes through: by the recipient's
// number prefix (+86 → the China number, +223 → the Mali number), OTPs through the system number, everything
// else through the default instance; and which instance may stand in for one whose circuit is open.
import * as z from 'zod';
import { WACHAP_PROVIDER } from './provider-circuit.js';

export const INSTANCE_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const PREFIX = /^\+\d{1,8}$/;
export const INSTANCE_ROLES = ['system'] as const;

const instanceName = z
  .string()
  .regex(INSTANCE_NAME, 'must be a slug such as china or mali (lowercase letters, digits, dashes)');

export const wachapInstanceSchema = z.strictObject({
  name: instanceName,
  instanceId: z.string().trim().min(1, 'must be the instance id WaChap shows'),
  accessToken: z.string().trim().min(1, 'must be the instance access token'),
  prefixes: z.array(z.string().regex(PREFIX, 'must be + and digits, such as +86 or +223')).default([]),
  default: z.boolean().optional(),
  role: z.enum(INSTANCE_ROLES, { error: 'must be "system" or absent' }).optional(),
});

export type WaChapInstance = z.output<typeof wachapInstanceSchema>;

/**
 * The list, checked as a whole: unique names and instance ids, at most one `default: true` and one `system`. The
 * default instance is the one marked `default`; without a mark, the first without prefixes that is not the system
 * one (so that a list of regional numbers plus a catch-all needs no mark); a list with neither is refused, since a
 * number that matches no prefix would have nowhere to go.
 */
export const wachapInstancesSchema = z
  .array(wachapInstanceSchema, { error: 'must be a JSON list of instances' })
  .min(1, 'must list at least one instance')
  .superRefine((instances, ctx) => {
    const seen = (field: 'name' | 'instanceId') => {
      const first = new Map<string, number>();
      instances.forEach((instance, index) => {
        const value = instance[field];
        const earlier = first.get(value);
        // The value is not quoted: an instance id is half a credential, and the secret's errors are logged.
        if (earlier !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [index, field],
            message: `duplicate ${field}: instance ${earlier} has it too`,
          });
        } else first.set(value, index);
      });
    };
    seen('name');
    seen('instanceId');
    const marked = instances.flatMap((instance, index) => (instance.default ? [index] : []));
    for (const index of marked.slice(1)) {
      ctx.addIssue({ code: 'custom', path: [index, 'default'], message: 'only one instance may be the default' });
    }
    const systems = instances.flatMap((instance, index) => (instance.role === 'system' ? [index] : []));
    for (const index of systems.slice(1)) {
      ctx.addIssue({ code: 'custom', path: [index, 'role'], message: 'only one instance may have the system role' });
    }
    if (marked.length === 0 && !instances.some(isCatchAll)) {
      ctx.addIssue({
        code: 'custom',
        path: [0, 'default'],
        message: 'no default instance: mark one "default": true, or list one without prefixes',
      });
    }
  });

const isCatchAll = (instance: WaChapInstance) => instance.prefixes.length === 0 && instance.role !== 'system';

export function defaultInstance(instances: readonly WaChapInstance[]): WaChapInstance {
  const found = instances.find((instance) => instance.default) ?? instances.find(isCatchAll);
  if (!found) throw new Error('no default WaChap instance (the list was not checked)');
  return found;
}

/**
 * Whose provider circuit: the default instance keeps the circuit's original key (`wachap`), so that a circuit open
 * when the list was introduced is not forgotten and the one-instance shorthand behaves as it always has; every
 * other instance has its own (`wachap#china`).
 */
export const circuitNameOf = (instance: Pick<WaChapInstance, 'name'>, instances: readonly WaChapInstance[]): string =>
  defaultInstance(instances).name === instance.name ? WACHAP_PROVIDER : `${WACHAP_PROVIDER}#${instance.name}`;

export interface Routable {
  recipient: { phone: string };
  category: string;
}

/**
 * The instance a notification goes through. OTPs go through the system instance when there is one, whatever
 * the number: the original sends codes from its system number, the one customers know from their sign-in.
 * Otherwise the longest prefix matching the recipient's number wins (+8613 before +86); no match: the default.
 */
export function routeOf(notification: Routable, instances: readonly WaChapInstance[]): WaChapInstance {
  if (notification.category === 'otp') {
    const system = instances.find((instance) => instance.role === 'system');
    if (system) return system;
  }
  const phone = notification.recipient.phone;
  let best: { instance: WaChapInstance; length: number } | undefined;
  for (const instance of instances) {
    for (const prefix of instance.prefixes) {
      if (phone.startsWith(prefix) && prefix.length > (best?.length ?? 0)) best = { instance, length: prefix.length };
    }
  }
  return best?.instance ?? defaultInstance(instances);
}

/** Instance name → the instance allowed to stand in for it while its circuit is open (WACHAP_FAILOVER). */
export const failoverSchema = z
  .record(instanceName, instanceName, { error: 'must be a JSON object such as {"china":"mali"}' })
  .superRefine((failover, ctx) => {
    for (const [from, to] of Object.entries(failover)) {
      if (from === to)
        ctx.addIssue({ code: 'custom', path: [from], message: 'an instance cannot stand in for itself' });
    }
  });

export type Failover = z.output<typeof failoverSchema>;

/** The failover entries naming an instance that is not configured, as `name: problem` lines. */
export function failoverProblems(failover: Failover, instances: readonly WaChapInstance[]): string[] {
  const names = new Set(instances.map((instance) => instance.name));
  return Object.entries(failover).flatMap(([from, to]) => [
    ...(names.has(from) ? [] : [`${from}: no instance is named "${from}"`]),
    ...(names.has(to) ? [] : [`${from}: no instance is named "${to}"`]),
  ]);
}

export type InstanceDecision =
  /** Send through `via`; `routedTo` differs when a stand-in sends for the routed instance. */
  | { action: 'send'; via: string; routedTo: string }
  /** Wait for `instance`'s circuit to close, without calling anyone. */
  | { action: 'hold'; instance: string };

/**
 * Where a routed notification goes given the circuits. A stand-in is used only when configured (off by default:
 * a message from a number the customer does not know may confuse them) and only while its own circuit is closed.
 * It is never chained: the stand-in's stand-in is not asked, so a failover map cannot loop.
 */
export function instanceDecision(
  routedTo: string,
  failover: Failover,
  isOpen: (instance: string) => boolean,
): InstanceDecision {
  if (!isOpen(routedTo)) return { action: 'send', via: routedTo, routedTo };
  const standIn = failover[routedTo];
  if (standIn !== undefined && !isOpen(standIn)) return { action: 'send', via: standIn, routedTo };
  return { action: 'hold', instance: routedTo };
}
