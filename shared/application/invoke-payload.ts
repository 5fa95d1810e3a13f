// Invoke payloads (operators, EventBridge) pass a schema too. A bad one gets a 4xx-style answer
// naming the field, as a result rather than a function error: retrying it would not fix it.

import * as z from 'zod';
import { INSTANCE_NAME } from '../domain/wachap-instances.js';
import { problemsOf } from './errors.js';

const EVENTBRIDGE_ENVELOPE = new Set([
  'version',
  'id',
  'detail-type',
  'source',
  'account',
  'time',
  'region',
  'resources',
  'detail',
]);

/**
 * An EventBridge scheduled event carries no options: it means "run with the defaults". Only its
 * envelope, though: one with options added ({ ..., dryRun: true }) is no scheduled event, and is
 * parsed (and refused for the envelope's keys) rather than run for real with the options dropped.
 */
export const isScheduledEvent = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  (value as Record<string, unknown>)['detail-type'] === 'Scheduled Event' &&
  Object.keys(value).every((key) => EVENTBRIDGE_ENVELOPE.has(key));

export function invokePayload<S extends z.ZodType>(schema: S) {
  return z.preprocess((value) => (value == null || isScheduledEvent(value) ? {} : value), schema);
}

export interface InvokeRejection {
  statusCode: 400;
  error: 'validation_error';
  message: string;
  details: { path: string; message: string }[];
}

export function parseInvokePayload<S extends z.ZodType>(
  schema: S,
  payload: unknown,
): { ok: true; value: z.output<S> } | { ok: false; rejection: InvokeRejection } {
  const result = invokePayload(schema).safeParse(payload);
  if (result.success) return { ok: true, value: result.data as z.output<S> };
  const details = problemsOf(result.error);
  const message = details.map((d) => `${d.path || '(body)'}: ${d.message}`).join('; ');
  return { ok: false, rejection: { statusCode: 400, error: 'validation_error', message, details } };
}

export const sweepPayloadSchema = z.strictObject({
  dryRun: z.boolean().default(false),
  verbose: z.boolean().default(false),
  limit: z.int().min(1).max(10_000).optional(),
  maxRetries: z.int().min(1).max(100).optional(),
});

export const healthPayloadSchema = z.strictObject({
  dryRun: z.boolean().default(false),
});

export const circuitPayloadSchema = z.strictObject({
  /** tick: the scheduled probe (only while open, at most once per interval); probe: now; open/close: forced by an operator. */
  action: z.enum(['tick', 'status', 'probe', 'open', 'close']).default('tick'),
  reason: z.string().trim().min(1).max(200).optional(),
  /** The WaChap instance an operator's command is for (several instances; default: the default instance). */
  instance: z.string().regex(INSTANCE_NAME, 'must be an instance name such as china').optional(),
});
