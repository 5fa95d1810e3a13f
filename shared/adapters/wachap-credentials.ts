// WaChap credentials: from Secrets Manager in AWS (never an environment variable of a deployed
// function), from WACHAP_INSTANCE_ID / WACHAP_ACCESS_TOKEN locally. Read once, then cached.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';

export interface WaChapCredentialsValue {
  instanceId: string;
  accessToken: string;
}

/** Accepts our shape and the names WaChap's dashboard uses. */
const secretSchema = z.union([
  z.object({ instanceId: z.string().min(1), accessToken: z.string().min(1) }),
  z
    .object({ instance_id: z.string().min(1), access_token: z.string().min(1) })
    .transform((s) => ({ instanceId: s.instance_id, accessToken: s.access_token })),
]);

export class WaChapSecretError extends Error {
  override readonly name = 'WaChapSecretError';
}

export interface CredentialSource {
  WACHAP_SECRET_ARN?: string | undefined;
  WACHAP_INSTANCE_ID?: string | undefined;
  WACHAP_ACCESS_TOKEN?: string | undefined;
}

/** A loader that reads the credentials on first use and keeps them; a failed read is retried next time. */
export function credentialsLoader(
  source: CredentialSource,
  secrets: () => SecretsManagerClient,
): () => Promise<WaChapCredentialsValue> {
  if (source.WACHAP_INSTANCE_ID && source.WACHAP_ACCESS_TOKEN && !source.WACHAP_SECRET_ARN) {
    const fixed = { instanceId: source.WACHAP_INSTANCE_ID, accessToken: source.WACHAP_ACCESS_TOKEN };
    return async () => fixed;
  }
  const secretId = source.WACHAP_SECRET_ARN;
  let cached: Promise<WaChapCredentialsValue> | undefined;
  return () => {
    cached ??= (async () => {
      if (!secretId) throw new WaChapSecretError('no WaChap credentials configured');
      const { SecretString } = await secrets().send(new GetSecretValueCommand({ SecretId: secretId }));
      let parsed: unknown;
      try {
        parsed = JSON.parse(SecretString ?? '');
      } catch {
        throw new WaChapSecretError(
          'the WaChap secret is not JSON: expected {"instanceId": "...", "accessToken": "..."}',
        );
      }
      const result = secretSchema.safeParse(parsed);
      if (!result.success) {
        throw new WaChapSecretError('the WaChap secret lacks instanceId/accessToken: fill it in after deploying');
      }
      return result.data;
    })().catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}
