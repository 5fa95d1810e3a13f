// The adapters that read Secrets Manager (WaChap's credentials and instances, the admin contacts, the callers'
// signing secrets), each secret cached and re-read after its max age: apart from runtime.ts so that the functions that
// read no secret do not carry the client (nor Powertools Parameters) in their bundle.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AdminContactsConfig, adminContactsLoader } from './adapters/secrets/admin-contacts.js';
import { callbackSecretsLoader } from './adapters/secrets/callback-secrets.js';
import { createWaChapClient, type WaChapClient } from './adapters/wachap/client.js';
import { type CredentialSource, credentialsLoader, instancesLoader } from './adapters/wachap/credentials.js';
import { type WaChapInstances, wachapInstances } from './adapters/wachap/instances.js';
import type { AdminContactsSource, CallbackSecrets } from './application/ports.js';
import { recordAwsCalls } from './observability/aws-calls.js';
import type { Log } from './observability/logger.js';

export const secretsManagerClient = (): SecretsManagerClient => recordAwsCalls(new SecretsManagerClient({}));

/** A Secrets Manager client built on first use: a function configured without a secret (locally) never builds one. */
function lazySecretsManagerClient(): () => SecretsManagerClient {
  let client: SecretsManagerClient | undefined;
  return () => {
    client ??= secretsManagerClient();
    return client;
  };
}

export function wachapClient(
  config: CredentialSource & { WACHAP_BASE_URL: string; WACHAP_TIMEOUT_MS: number },
  log: Log,
): WaChapClient {
  return createWaChapClient({
    baseUrl: config.WACHAP_BASE_URL,
    timeoutMs: config.WACHAP_TIMEOUT_MS,
    // The secret is re-read after WACHAP_SECRET_MAX_AGE_SECONDS, and at once when WaChap refuses the token.
    credentials: credentialsLoader(config, lazySecretsManagerClient(), log),
    log,
  });
}

/** Every configured WaChap instance, each with its client; the list from the secret in AWS, WACHAP_INSTANCES locally. */
export function wachapInstancesOf(
  config: CredentialSource & {
    WACHAP_BASE_URL: string;
    WACHAP_TIMEOUT_MS: number;
    WACHAP_FAILOVER: Record<string, string>;
  },
  log: Log,
): WaChapInstances {
  return wachapInstances({
    baseUrl: config.WACHAP_BASE_URL,
    timeoutMs: config.WACHAP_TIMEOUT_MS,
    load: instancesLoader(config, lazySecretsManagerClient(), log),
    failover: config.WACHAP_FAILOVER,
    log,
  });
}

/** Who the alerts go to: the admin-contacts secret (re-read after its max age), or ADMIN_EMAIL / ADMIN_PHONE locally. */
export function adminContacts(config: AdminContactsConfig, log: Log): AdminContactsSource {
  return adminContactsLoader(config, lazySecretsManagerClient(), log);
}

/** The callers' signing secrets, each re-read after CALLBACK_SECRET_MAX_AGE_SECONDS. */
export function callbackSecrets(config: {
  CALLBACK_SECRET_PREFIX: string;
  CALLBACK_SECRET_MAX_AGE_SECONDS: number;
}): CallbackSecrets {
  return callbackSecretsLoader(config, lazySecretsManagerClient());
}
