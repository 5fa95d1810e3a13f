// Building a fresh notification from an accepted request: defaults, priority and validity window.
import type { RetryPolicy } from './backoff.js';
import type { Notification, Priority, Recipient } from './notification.js';

export interface NotificationRequest {
  recipient: Recipient;
  category: string;
  title?: string;
  message: string;
  priority?: Priority;
  /** An absolute end of validity; wins over ttlSeconds and the category's window. */
  expiresAt?: Date;
  ttlSeconds?: number;
  /** Not before this instant (defaults to now). */
  sendAt?: Date;
  idempotencyKey?: string;
  /** Who asked for it: the API key id of the upstream caller (API Gateway's identity.apiKeyId). */
  caller?: string;
  /** Where its status callbacks go (shared/http/callback-events.ts). */
  callbackUrl?: string;
}

export interface NotificationPolicy {
  maxAttempts: RetryPolicy['maxAttempts'];
  /** Validity window per category, in seconds (otp: 600 by default); categories absent here never expire. */
  validitySeconds: Readonly<Record<string, number>>;
  /** Categories that are high priority (the priority lane) unless the caller says otherwise; default: otp. */
  criticalCategories?: readonly string[];
}

export const DEFAULT_VALIDITY_SECONDS: Readonly<Record<string, number>> = { otp: 600 };

/** Time-sensitive categories go first; the caller may say otherwise. */
export const DEFAULT_CRITICAL_CATEGORIES: readonly string[] = ['otp'];

const TITLES: Readonly<Record<string, string>> = {
  colis_arrive: 'Colis arrivé',
  colis_livre: 'Colis livré',
  lot_ferme: 'Lot fermé',
  otp: 'Code de vérification',
  information_generale: 'Information',
};

/** The original system's categories (those with a default title); callers may send others. */
export const KNOWN_CATEGORIES: readonly string[] = Object.keys(TITLES);

export const defaultPriority = (
  category: string,
  criticalCategories: readonly string[] = DEFAULT_CRITICAL_CATEGORIES,
): Priority => (criticalCategories.includes(category) ? 'high' : 'normal');

export function validityEnd(request: NotificationRequest, now: Date, policy: NotificationPolicy): Date | undefined {
  if (request.expiresAt) return request.expiresAt;
  const seconds = request.ttlSeconds ?? policy.validitySeconds[request.category];
  return seconds === undefined ? undefined : new Date((request.sendAt ?? now).getTime() + seconds * 1000);
}

export function createNotification(
  request: NotificationRequest,
  context: { id: string; now: Date; policy: NotificationPolicy },
): Notification {
  const { id, now, policy } = context;
  const expiresAt = validityEnd(request, now, policy);
  return {
    id,
    recipient: request.recipient,
    category: request.category,
    channel: 'whatsapp',
    title: request.title ?? TITLES[request.category] ?? request.category,
    message: request.message,
    priority: request.priority ?? defaultPriority(request.category, policy.criticalCategories),
    status: 'pending',
    attempts: 0,
    maxAttempts: policy.maxAttempts,
    nextAttemptAt: (request.sendAt && request.sendAt > now ? request.sendAt : now).toISOString(),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
    ...(request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : {}),
    ...(request.caller ? { caller: request.caller } : {}),
    ...(request.callbackUrl ? { callbackUrl: request.callbackUrl } : {}),
    history: [],
    version: 1,
  };
}
