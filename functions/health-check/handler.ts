// Every hour (EventBridge) and on demand: figures, thresholds, alerts by email and WhatsApp.
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import { queueDepth } from '../../shared/adapters/sqs/send-queue.js';
import { whatsAppChannel } from '../../shared/adapters/wachap/whatsapp-channel.js';
import type { HealthCheckDependencies } from '../../shared/application/health-check.js';
import { healthThresholdsOf, loadConfig } from '../../shared/config.js';
import { circuitNameOf, defaultInstance } from '../../shared/domain/wachap-instances.js';
import { createLogger } from '../../shared/observability/logger.js';
import { createTelemetry } from '../../shared/observability/metrics.js';
import { notificationStore, sqsClient } from '../../shared/runtime.js';
import { adminContacts, wachapInstancesOf } from '../../shared/runtime-secrets.js';
import { sesClient } from '../../shared/runtime-ses.js';
import { FUNCTIONS } from '../catalog.js';
import { createHealthCheckHandler } from './create-handler.js';

const config = loadConfig(FUNCTIONS['health-check'].environment);
const logger = createLogger('health-check');
const metrics = createTelemetry(config.STAGE, logger);
const sqs = sqsClient();
const wachapConfigured = Boolean(
  config.WACHAP_SECRET_ARN || config.WACHAP_INSTANCES || (config.WACHAP_INSTANCE_ID && config.WACHAP_ACCESS_TOKEN),
);
const wachap = wachapInstancesOf(config, logger);
// Admin alerts go out through the system instance when there is one, as in the original; else the default one.
const adminWhatsApp = {
  send: async (input: { phone: string; message: string }) => {
    const instances = await wachap.list();
    const through = instances.find((instance) => instance.role === 'system') ?? defaultInstance(instances);
    return wachap.client(through.name).send(input);
  },
};
const deps = {
  store: notificationStore(config, logger),
  queue: { dlqDepth: () => queueDepth(sqs, config.SEND_DLQ_URL) },
  mailer: config.ALERT_FROM_EMAIL ? new SesMailer(sesClient(), config.ALERT_FROM_EMAIL) : undefined,
  whatsapp: wachapConfigured ? whatsAppChannel(adminWhatsApp) : undefined,
  // Each instance's circuit, so that China's outage is an alert that names China.
  instanceCircuits: wachapConfigured
    ? async () => {
        const instances = await wachap.list();
        return instances.map((instance) => ({ instance: instance.name, circuit: circuitNameOf(instance, instances) }));
      }
    : undefined,
  // The admin-contacts secret in AWS (re-read after ADMIN_CONTACTS_MAX_AGE_SECONDS), ADMIN_EMAIL / ADMIN_PHONE locally.
  adminContacts: adminContacts(config, logger),
  log: logger,
  metrics,
  clock: () => new Date(),
  settings: {
    systemEnabled: config.ALERT_SYSTEM_ENABLED,
    emailEnabled: config.ALERT_EMAIL_ENABLED,
    whatsappEnabled: config.ALERT_WHATSAPP_ENABLED,
    cooldownMs: config.ALERT_COOLDOWN_MINUTES * 60_000,
    thresholds: healthThresholdsOf(config),
    backlogCap: 1000,
    stage: config.STAGE,
    dlqUrl: config.SEND_DLQ_URL,
    operationsPageUrl: config.OPERATIONS_PAGE_URL,
  },
} satisfies HealthCheckDependencies;

export const handler = createHealthCheckHandler(logger, deps);
