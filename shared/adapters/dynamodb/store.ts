// The table's item kinds, each behind its own adapter and port, put together for wiring: a handler (or a
// test) builds this once and hands each use case the ports it needs.
import type {
  AlertCooldowns,
  CallbackExhaustedMarks,
  HourlyCounters,
  NotificationRepository,
  ProviderStates,
  RecipientCounters,
} from '../../application/ports.js';
import { DynamoDbAlertCooldowns } from './alert-cooldowns.js';
import { DynamoDbCallbackMarks } from './callback-marks.js';
import { DynamoDbHourlyCounters } from './counters.js';
import { DynamoDbNotifications, type DynamoDbNotificationsOptions } from './notifications.js';
import { DynamoDbProviderStates } from './provider-states.js';
import { DynamoDbRecipientCounters } from './recipient-counters.js';

export type Store = NotificationRepository &
  HourlyCounters &
  AlertCooldowns &
  ProviderStates &
  RecipientCounters &
  CallbackExhaustedMarks;

export function dynamoDbStore(options: DynamoDbNotificationsOptions): Store {
  const table = { client: options.client, tableName: options.tableName };
  const notifications = new DynamoDbNotifications(options);
  const counters = new DynamoDbHourlyCounters(table);
  const cooldowns = new DynamoDbAlertCooldowns(table);
  const providers = new DynamoDbProviderStates(table);
  const recipients = new DynamoDbRecipientCounters(table);
  const callbackMarks = new DynamoDbCallbackMarks(table);
  return {
    create: (notification, now, fingerprint) => notifications.create(notification, now, fingerprint),
    findByIdempotencyKey: (key, now, caller) => notifications.findByIdempotencyKey(key, now, caller),
    get: (id) => notifications.get(id),
    save: (next, expectedVersion, now) => notifications.save(next, expectedVersion, now),
    dueNotifications: (input) => notifications.dueNotifications(input),
    dueNotificationsPage: (input) => notifications.dueNotificationsPage(input),
    dueBacklog: (input) => notifications.dueBacklog(input),
    listNotifications: (query) => notifications.listNotifications(query),
    countNotifications: (query) => notifications.countNotifications(query),
    incrementCounters: (at, delta, options) => counters.incrementCounters(at, delta, options),
    readCounters: (now, hours) => counters.readCounters(now, hours),
    acquireAlertCooldown: (kind, now, cooldownMs) => cooldowns.acquireAlertCooldown(kind, now, cooldownMs),
    releaseAlertCooldown: (kind, acquiredAt) => cooldowns.releaseAlertCooldown(kind, acquiredAt),
    getProviderState: (name) => providers.getProviderState(name),
    putProviderState: (name, state, expectedVersion) => providers.putProviderState(name, state, expectedVersion),
    acquireRecipientSlot: (slot, max) => recipients.acquireRecipientSlot(slot, max),
    releaseRecipientSlot: (slot) => recipients.releaseRecipientSlot(slot),
    markCallbackExhausted: (id, exhaustion) => callbackMarks.markCallbackExhausted(id, exhaustion),
  };
}
