// The functions' own settings (the README's configuration table), taken from the shell that runs `npm start`,
// so that `ADMIN_EMAIL=me@example.com npm start` does what it says. The names come from the functions'
// configuration schemas, so a setting added there is passed through without a second list to keep.
import {
  alertEnv,
  callbackDispatcherEnv,
  emailChannelEnv,
  probeEnv,
  recipientLimitsEnv,
  senderEnv,
  sweepEnv,
  wachapFields,
} from '../shared/config.js';

/** Set by the local stack itself: where its engines, table and queues are, and its WaChap credentials. */
const OWNED_BY_THE_STACK = new Set([
  'TABLE_NAME',
  'SEND_QUEUE_URL',
  'PRIORITY_SEND_QUEUE_URL',
  'SEND_DLQ_URL',
  'WACHAP_BASE_URL',
  'WACHAP_INSTANCE_ID',
  'WACHAP_ACCESS_TOKEN',
  'WACHAP_INSTANCES',
  'WACHAP_SECRET_ARN',
  'SENDER_MAX_CONCURRENCY',
  'PRIORITY_SENDER_MAX_CONCURRENCY',
  'CALLBACK_QUEUE_URL',
  'CALLBACK_DLQ_URL',
  'CALLBACK_SECRET_PREFIX',
]);

export const FUNCTION_SETTINGS: readonly string[] = [
  ...new Set([
    ...[
      senderEnv,
      sweepEnv,
      alertEnv,
      probeEnv,
      wachapFields,
      recipientLimitsEnv,
      callbackDispatcherEnv,
      emailChannelEnv,
    ].flatMap((schema) => Object.keys(schema.shape)),
    'POWERTOOLS_LOG_LEVEL',
    'POWERTOOLS_METRICS_DISABLED',
  ]),
]
  .filter((name) => !OWNED_BY_THE_STACK.has(name))
  .sort();

/** The function settings `env` sets (an empty value means "not set", as the functions read it). */
export function functionSettingsFrom(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    FUNCTION_SETTINGS.flatMap((name) => {
      const value = env[name];
      return value === undefined || value === '' ? [] : [[name, value]];
    }),
  );
}
