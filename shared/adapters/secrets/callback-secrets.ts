// The callers' signing secrets: one Secrets Manager secret per caller (API key id), named
// `${CALLBACK_SECRET_PREFIX}${caller}`; a notification without a caller takes `${prefix}default`. Each is cached for
// a short while only (Powertools Parameters), as the WaChap credentials are: a secret rotated by an admin reaches
// the warm dispatcher within its max age, without a deployment. Standard Webhooks secrets are base64 (with or
// without `whsec_`); one that is not fails here, by its name, never by its value.
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Webhook } from 'standardwebhooks';
import type { CallbackSecrets } from '../../application/ports.js';
import { awsErrorName } from '../wachap/credentials.js';

/** The secret of a notification whose caller is not known. */
export const DEFAULT_CALLBACK_CALLER = 'default';

export class CallbackSecretError extends Error {
  override readonly name = 'CallbackSecretError';
}

export const callbackSecretName = (prefix: string, caller: string | undefined): string =>
  `${prefix}${caller ?? DEFAULT_CALLBACK_CALLER}`;

export function callbackSecretsLoader(
  config: { CALLBACK_SECRET_PREFIX: string; CALLBACK_SECRET_MAX_AGE_SECONDS: number },
  secrets: () => SecretsManagerClient,
): CallbackSecrets {
  let provider: SecretsProvider | undefined;
  return async (caller) => {
    const name = callbackSecretName(config.CALLBACK_SECRET_PREFIX, caller);
    provider ??= new SecretsProvider({ awsSdkV3Client: secrets() });
    let value: unknown;
    try {
      // Powertools caches only successful reads, so a failure is retried by the next try.
      value = await provider.get(name, { maxAge: config.CALLBACK_SECRET_MAX_AGE_SECONDS });
    } catch (error) {
      throw new CallbackSecretError(`the callback secret ${name} could not be read (${awsErrorName(error)})`, {
        cause: error,
      });
    }
    if (typeof value !== 'string' || value.trim() === '') {
      throw new CallbackSecretError(`the callback secret ${name} has no SecretString`);
    }
    const secret = value.trim();
    try {
      new Webhook(secret);
    } catch {
      throw new CallbackSecretError(`the callback secret ${name} is not a base64 signing secret (whsec_… or base64)`);
    }
    return secret;
  };
}
