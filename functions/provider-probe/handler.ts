// Every minute (EventBridge), and on demand by operators: while the provider circuit is open,
// check WaChap (get_qrcode) every PROVIDER_PROBE_INTERVAL_SECONDS until the next tick and, once it
// answers healthily, close the circuit and release the held notifications at once. Operators force
// the circuit open or closed with { action }.
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import type { ProbeDependencies } from '../../shared/application/provider-circuit.js';
import { VERIFY_AFTER_CLOSE_MS } from '../../shared/application/release-held.js';
import { loadConfig } from '../../shared/config.js';
import { DRAIN_WATCH_MS } from '../../shared/domain/provider-circuit.js';
import { createLogger } from '../../shared/observability/logger.js';
import { createTelemetry } from '../../shared/observability/metrics.js';
import { notificationStore, sendQueue } from '../../shared/runtime.js';
import { adminContacts, wachapClient, wachapInstancesOf } from '../../shared/runtime-secrets.js';
import { sesClient } from '../../shared/runtime-ses.js';
import { PROVIDER_PROBE_PERIOD_SECONDS } from '../../shared/schedules.js';
import { FUNCTIONS } from '../catalog.js';
import { createProviderProbeHandler } from './create-handler.js';

const config = loadConfig(FUNCTIONS['provider-probe'].environment);
const logger = createLogger('provider-probe');
const metrics = createTelemetry(config.STAGE, logger);
const deps = {
  store: notificationStore(config, logger),
  queue: sendQueue(config),
  provider: wachapClient(config, logger),
  mailer: config.ALERT_FROM_EMAIL ? new SesMailer(sesClient(), config.ALERT_FROM_EMAIL) : undefined,
  // The admin-contacts secret in AWS (re-read after ADMIN_CONTACTS_MAX_AGE_SECONDS), ADMIN_EMAIL locally.
  adminContacts: adminContacts(config, logger),
  log: logger,
  metrics,
  clock: () => new Date(),
  settings: {
    probeIntervalMs: config.PROVIDER_PROBE_INTERVAL_SECONDS * 1000,
    // A tick watches an open circuit until the next one.
    watchMs: PROVIDER_PROBE_PERIOD_SECONDS * 1000,
    // A close within the minute is verified no sooner than this after it (late holds from cached reads).
    verifyAfterCloseMs: VERIFY_AFTER_CLOSE_MS,
    // The schedule's ticks watch a drain this long after a probe's close (a sender may reopen the circuit).
    drainWatchMs: DRAIN_WATCH_MS,
    holdMs: config.PROVIDER_HOLD_SECONDS * 1000,
    alertsEnabled: config.ALERT_SYSTEM_ENABLED && config.ALERT_EMAIL_ENABLED,
    cooldownMs: config.ALERT_COOLDOWN_MINUTES * 60_000,
    stage: config.STAGE,
    operationsPageUrl: config.OPERATIONS_PAGE_URL,
  },
} satisfies ProbeDependencies;

// Each instance is probed with its own credentials and closes only its own circuit.
const wachap = wachapInstancesOf(config, logger);
export const handler = createProviderProbeHandler(logger, deps, {
  list: () => wachap.list(),
  probe: (instance) => wachap.client(instance),
});
