// The notification and its vocabulary. Plain data only: no AWS SDK, no HTTP.

export const NOTIFICATION_STATUSES = [
  'pending',
  'sent',
  'failed',
  'permanent_failure',
  'cancelled',
  'expired',
] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** Statuses that are never left once reached. */
export const TERMINAL_STATUSES: readonly NotificationStatus[] = ['sent', 'permanent_failure', 'cancelled', 'expired'];

/** Statuses whose notification still awaits an attempt (they carry the due-index key). */
export const AWAITING_STATUSES: readonly NotificationStatus[] = ['pending', 'failed'];

/** A category: an open set of lowercase slugs (colis_arrive, lot_ferme, otp…), checked wherever one comes in. */
export const CATEGORY_SLUG = /^[a-z][a-z0-9_]{0,63}$/;

export const PRIORITIES = ['high', 'normal'] as const;
export type Priority = (typeof PRIORITIES)[number];

/**
 * The send queues. High-priority notifications (OTPs, critical categories) travel a lane of their own, so that a
 * backlog of ordinary ones never stands in front of them.
 */
export type Lane = 'priority' | 'standard';
export const laneOf = (notification: { priority: Priority }): Lane =>
  notification.priority === 'high' ? 'priority' : 'standard';

/** What the send queue needs to know about a notification: its id, and its priority for the lane. */
export interface QueueTicket {
  id: string;
  priority: Priority;
}

export type Classification = 'temporary' | 'permanent';
/** Whose fault a failure is: the recipient's (bad number), the provider's (account, instance) or nobody's (a blip). */
export type ErrorScope = 'recipient' | 'provider' | 'transient';

/** Why a notification is where it is, when the status alone does not say. */
export const FAILURE_REASONS = [
  'temporary_error',
  'permanent_error',
  'provider_unavailable',
  'max_retries_exceeded',
  'validity_expired',
  'cancelled_by_operator',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export interface Recipient {
  /** E.164, e.g. +22370123456. */
  phone: string;
  name?: string;
  /** Where the notification may go by email when WhatsApp cannot take it (domain/channel-policy). */
  email?: string;
}

/**
 * The ways a notification reaches its recipient. WhatsApp first; email only as a fallback (domain/channel-policy).
 * A new channel is a name here, its adapter, and its entry in the policy.
 */
export const CHANNELS = ['whatsapp', 'email'] as const;
export type ChannelName = (typeof CHANNELS)[number];

export interface LastError {
  type: string;
  message: string;
  httpStatus?: number;
  classification: Classification;
  scope: ErrorScope;
  reason: FailureReason;
  at: string;
}

export type AttemptOutcome = 'sent' | 'failed' | 'permanent_failure' | 'held' | 'unknown';

export interface AttemptRecord {
  at: string;
  outcome: AttemptOutcome;
  /** The channel the attempt used (absent on records from before email: WhatsApp). */
  channel?: ChannelName;
  errorType?: string;
  durationMs: number;
}

/** An operator's move, kept with the notification: who, why, and the status it left. */
export interface OperatorAction {
  at: string;
  action: 'cancel' | 'redrive';
  /** Who acted (the caller's IAM ARN through the API). */
  by?: string;
  /** Why, in the operator's words. */
  reason?: string;
  from: NotificationStatus;
}

/** A status callback given up on after its retries (domain/callbacks): kept with the notification for operators. */
export interface CallbackExhaustion {
  /** The event's id (its webhook-id). */
  eventId: string;
  /** The event's type, e.g. notification.sent. */
  type: string;
  /** When it was given up. */
  at: string;
  /** Tries made. */
  attempts: number;
  /** What the last try met (`HTTP 500`, `timeout`…), never a secret. */
  lastError: string;
}

/** An attempt that claimed the notification and has not recorded its outcome yet. */
export interface InFlight {
  token: string;
  since: string;
  /** After this instant the claim is considered abandoned (the sender crashed). */
  leaseUntil: string;
}

export interface Notification {
  id: string;
  recipient: Recipient;
  category: string;
  /** The channel its attempts use now: whatsapp, then email after a fallback (never back). */
  channel: ChannelName;
  title: string;
  message: string;
  priority: Priority;
  status: NotificationStatus;
  attempts: number;
  maxAttempts: number;
  /** ISO 8601; present only while the notification awaits an attempt. What the sweep reads. */
  nextAttemptAt?: string;
  createdAt: string;
  updatedAt: string;
  sentAt?: string;
  expiresAt?: string;
  externalMessageId?: string;
  /**
   * The WaChap instance (its configured name) that sent it, or, while it is held for the provider, the instance
   * whose circuit it waits for: that instance's probe releases it, no other's.
   */
  instance?: string;
  /** Set when a stand-in instance sent it (failover): the instance its number is routed to. */
  routedTo?: string;
  lastError?: LastError;
  /** Set on terminal states other than sent, and on held ones, to say why. */
  reason?: FailureReason;
  /** The last HISTORY_LIMIT attempts, oldest first. */
  history: AttemptRecord[];
  inFlight?: InFlight;
  /** When a sweep last put it on the queue; cleared when an attempt is recorded. */
  queuedAt?: string;
  idempotencyKey?: string;
  /** Who asked for it: the upstream caller's API key id. Its idempotency keys and callback secret are its own. */
  caller?: string;
  /** Where its status callbacks go, when the caller asked for them. */
  callbackUrl?: string;
  /** Its last CALLBACK_EXHAUSTED_LIMIT callbacks given up on, oldest first. */
  callbackExhausted?: CallbackExhaustion[];
  /** What operators did to it (cancel, re-drive): the last OPERATOR_ACTIONS_LIMIT, oldest first. */
  operatorActions?: OperatorAction[];
  /**
   * When it first failed: its first failed attempt, or its expiry unsent when none came before. Set once and kept
   * through re-drives (the history is capped, this is not): what counts an OTP failure once.
   */
  firstFailureAt?: string;
  /** Optimistic-concurrency counter: every write is conditional on the version it read. */
  version: number;
}

export const HISTORY_LIMIT = 20;
export const OPERATOR_ACTIONS_LIMIT = 20;

export const isTerminal = (status: NotificationStatus): boolean => TERMINAL_STATUSES.includes(status);
export const isAwaitingAttempt = (status: NotificationStatus): boolean => AWAITING_STATUSES.includes(status);

/** Keeps the history bounded to its last HISTORY_LIMIT entries. */
export function appendHistory(history: readonly AttemptRecord[], entry: AttemptRecord): AttemptRecord[] {
  return [...history, entry].slice(-HISTORY_LIMIT);
}

/** Keeps the operator actions bounded to their last OPERATOR_ACTIONS_LIMIT entries. */
export function appendOperatorAction(
  actions: readonly OperatorAction[] | undefined,
  entry: OperatorAction,
): OperatorAction[] {
  return [...(actions ?? []), entry].slice(-OPERATOR_ACTIONS_LIMIT);
}
