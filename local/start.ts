// `npm start`: the whole system on this machine, in the foreground; Ctrl-C stops everything.
import { resolve } from 'node:path';
import { z } from 'zod';
import { FUNCTION_NAMES } from '../functions/catalog.js';
import { loadConfig, wachapFields } from '../shared/config.js';
import { defaultInstance, type WaChapInstance } from '../shared/domain/wachap-instances.js';
import { LOCAL_API_KEY_ID } from './aws-events.js';
import { LOCAL_SIGNING } from './doors/api-gateway.js';
import { API_REFERENCE_PATH } from './doors/api-reference.js';
import { functionSettingsFrom } from './function-settings.js';
import { rateToMs } from './schedules.js';
import { DEFAULT_LOCAL_OPTIONS, type LocalStack, startLocalStack } from './stack.js';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);
const defaults = DEFAULT_LOCAL_OPTIONS;
const rate = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((value) => {
      try {
        rateToMs(value);
        return true;
      } catch {
        return false;
      }
    }, 'must be an EventBridge rate expression such as rate(1 minute) or rate(30 minutes)');

const localEnv = z.object({
  API_PORT: port(defaults.ports.api),
  LAMBDA_PORT: port(defaults.ports.lambda),
  DYNAMODB_PORT: port(defaults.ports.dynamodb),
  SQS_PORT: port(defaults.ports.sqs),
  SES_PORT: port(defaults.ports.ses),
  WACHAP_SANDBOX_PORT: port(defaults.ports.wachap),
  SECRETS_MANAGER_PORT: port(defaults.ports.secretsManager ?? 8006),
  API_KEY: z.string().min(1).default(defaults.apiKey),
  TABLE_NAME: z.string().min(3).default(defaults.tableName),
  WACHAP_BASE_URL: z.url().optional(),
  WACHAP_INSTANCE_ID: z.string().min(1).default(defaults.wachap.instanceId),
  WACHAP_ACCESS_TOKEN: z.string().min(1).default(defaults.wachap.accessToken),
  /** Several instances (README: WaChap instances): the functions get the list, the sandbox plays each one. */
  WACHAP_INSTANCES: wachapFields.shape.WACHAP_INSTANCES,
  RETRY_SWEEP_SCHEDULE: rate(defaults.schedules.retrySweep),
  HEALTH_CHECK_SCHEDULE: rate(defaults.schedules.healthCheck),
  PROVIDER_PROBE_SCHEDULE: rate(defaults.schedules.providerProbe ?? 'rate(1 minute)'),
  SENDER_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(20).default(defaults.senderMaxConcurrency),
  DYNAMODB_ENGINE: z.enum(['auto', 'dynamodb-local', 'dynalite']).default('auto'),
  LOCAL_PERSIST: z.stringbool().default(false),
  LOCAL_DATA_DIR: z.string().default('.local-data'),
});

/** Several instances (WACHAP_INSTANCES): each with its prefixes and role, so that a demo knows where a number goes. */
function instancesLine(instances: readonly WaChapInstance[] | undefined): string {
  if (!instances) return '';
  const described = instances.map((instance) => {
    const serves = [
      ...instance.prefixes,
      ...(instance.role === 'system' ? ['OTPs'] : []),
      ...(defaultInstance(instances).name === instance.name ? ['the rest'] : []),
    ];
    return `${instance.name} ${instance.instanceId.slice(0, 6)} (${serves.join(', ')})`;
  });
  return `\n                      instances: ${described.join('; ')}`;
}

function banner(stack: LocalStack, persistDir: string | undefined, instances?: readonly WaChapInstance[]): string {
  const curl = [
    `curl -s -X POST ${stack.urls.api}/v1/notifications \\`,
    `  -H 'x-api-key: ${stack.apiKey}' -H 'Content-Type: application/json' \\`,
    `  -d '{"recipient":{"phone":"+22370123456","name":"Awa"},"category":"colis_arrive","message":"Votre colis est arrivé à Bamako."}'`,
  ].join('\n');
  const operator = [
    `curl -s --aws-sigv4 "aws:amz:${LOCAL_SIGNING.region}:${LOCAL_SIGNING.service}" --user local:local \\`,
    `  '${stack.urls.api}/v1/notifications?limit=20&status=failed%2Cpermanent_failure'`,
  ].join('\n');
  const sandbox = stack.sandbox
    ? `  WaChap sandbox      ${stack.urls.wachap}/  (inbox: ${stack.urls.wachap}/_sandbox/inbox; break it from the page)${instancesLine(instances)}`
    : `  WaChap              ${stack.urls.wachap}  (WACHAP_BASE_URL: the sandbox is not started)${instancesLine(instances)}`;
  return `
WhatsApp notifications: local stack ready
  API (API Gateway)   ${stack.urls.api}/v1/notifications   POST: x-api-key: ${stack.apiKey}
                      (POST /notifications still answers, deprecated: Deprecation and Link headers)
                      operator routes under /v1 (GET, cancel, retry, export.csv): SigV4, access key local, secret local
  API reference: http://localhost:${new URL(stack.urls.api).port}${API_REFERENCE_PATH}   (the contract: GET /v1/openapi.json, no key)
  Operations page: ${stack.urls.api}/ops/   (sign in with access key local, secret local)
  Lambda Invoke API   ${stack.urls.lambda}   functions: ${FUNCTION_NAMES.join(', ')}
  DynamoDB (${stack.engine.padEnd(14)}) ${stack.urls.dynamodb}   table: ${stack.tableName}${persistDir ? `   data: ${persistDir}` : '   (in memory)'}
  SQS (fauxqs)        ${stack.urls.sqs}   queue: ${stack.queueUrl}
                      priority lane (OTPs): ${stack.priorityQueueUrl}
  SES (emails)        ${stack.urls.ses}/
  Secrets Manager     ${stack.urls.secretsManager}   status callbacks (callbackUrl): ${stack.urls.sqs} queue ${stack.callbackQueueUrl.split('/').at(-1)}
                      Callback secret (${LOCAL_API_KEY_ID}): ${stack.callbackSecret}   (verify with new Webhook(secret))
${sandbox}

Send a first notification:
${curl}

See what failed (operators sign with their AWS credentials; locally local:local):
${operator}

Then: npm run retry -- --dry-run --verbose      npm run health -- --dry-run      npm run circuit -- --status
Ctrl-C stops everything.
`;
}

async function main() {
  const env = loadConfig(localEnv);
  // The functions validate these at load: a bad value stops the start with the variable's name.
  const settings = functionSettingsFrom(process.env);
  const persist = env.LOCAL_PERSIST || process.argv.includes('--persist');
  const persistDir = persist ? resolve(env.LOCAL_DATA_DIR) : undefined;
  const stack = await startLocalStack({
    ports: {
      api: env.API_PORT,
      lambda: env.LAMBDA_PORT,
      dynamodb: env.DYNAMODB_PORT,
      sqs: env.SQS_PORT,
      ses: env.SES_PORT,
      wachap: env.WACHAP_SANDBOX_PORT,
      secretsManager: env.SECRETS_MANAGER_PORT,
    },
    apiKey: env.API_KEY,
    tableName: env.TABLE_NAME,
    ...(persistDir ? { persistDir } : {}),
    dynamoDbEngine: env.DYNAMODB_ENGINE,
    ...(env.WACHAP_BASE_URL ? { wachapBaseUrl: env.WACHAP_BASE_URL } : {}),
    wachap: {
      instanceId: env.WACHAP_INSTANCE_ID,
      accessToken: env.WACHAP_ACCESS_TOKEN,
      ...(env.WACHAP_INSTANCES ? { instances: env.WACHAP_INSTANCES } : {}),
    },
    schedules: {
      retrySweep: env.RETRY_SWEEP_SCHEDULE,
      healthCheck: env.HEALTH_CHECK_SCHEDULE,
      providerProbe: env.PROVIDER_PROBE_SCHEDULE,
      enabled: true,
    },
    senderMaxConcurrency: env.SENDER_MAX_CONCURRENCY,
    env: settings,
    log: (line) => console.error(`[local] ${line}`),
  });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n[local] ${signal}: stopping…`);
    await stack.stop();
    console.error('[local] stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  // Printed once Ctrl-C is handled, so that whoever waits for the banner can stop it at once.
  console.log(banner(stack, persistDir, env.WACHAP_INSTANCES));
  const passed = Object.keys(settings);
  if (passed.length > 0) console.log(`Function settings from your shell: ${passed.join(', ')}\n`);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`[local] could not start: ${message}`);
  if (/EADDRINUSE/.test(message)) {
    console.error(
      '[local] a port is taken: set API_PORT, LAMBDA_PORT, DYNAMODB_PORT, SQS_PORT, SES_PORT, WACHAP_SANDBOX_PORT or SECRETS_MANAGER_PORT.',
    );
  }
  process.exit(1);
});
