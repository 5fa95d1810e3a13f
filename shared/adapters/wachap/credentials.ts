// WaChap credentials: from Secrets Manager in AWS (never an environment variable of a deployed
// function), from WACHAP_INSTANCES (or the one-instance WACHAP_INSTANCE_ID / WACHAP_ACCESS_TOKEN) locally.
// The secret holds either one instance's credentials (the original format) or the list of instances. The secret is cached for a short
// while only (Powertools Parameters): an admin who renews the token puts the new one in the secret, and
// warm functions (the provider probe runs every minute and stays warm for days) must pick it up.
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { defaultInstance, type WaChapInstance, wachapInstancesSchema } from '../../domain/wachap-instances.js';
import { type Log, silentLog } from '../../observability/logger.js';

export interface WaChapCredentialsValue {
  instanceId: string;
  accessToken: string;
}

/** The name the one instance of the original format gets. */
export const SINGLE_INSTANCE_NAME = 'default';

/** The one-instance shorthand as a list: it serves every number. */
export const singleInstance = (credentials: WaChapCredentialsValue): WaChapInstance[] => [
  { name: SINGLE_INSTANCE_NAME, ...credentials, prefixes: [], default: true },
];

/** Accepts our shape and the names WaChap's dashboard uses. */
const singleSecretSchema = z.union([
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
  /** The instances, parsed at cold start (locally); it wins over the one-instance shorthand. */
  WACHAP_INSTANCES?: WaChapInstance[] | undefined;
  WACHAP_INSTANCE_ID?: string | undefined;
  WACHAP_ACCESS_TOKEN?: string | undefined;
  /** How long a read of the secret is trusted; 0 reads it on every call. */
  WACHAP_SECRET_MAX_AGE_SECONDS: number;
}

export interface CredentialsLoadOptions {
  /** Skip the cache: WaChap has just refused the credentials held, the secret may have been renewed. */
  forceFetch?: boolean;
}

export type CredentialsLoader = (options?: CredentialsLoadOptions) => Promise<WaChapCredentialsValue>;
export type InstancesLoader = (options?: CredentialsLoadOptions) => Promise<WaChapInstance[]>;

/** The default instance's credentials (the one-instance view, e.g. for the health check's WhatsApp alert). */
export function credentialsLoader(
  source: CredentialSource,
  secrets: () => SecretsManagerClient,
  log: Log = silentLog,
): CredentialsLoader {
  const load = instancesLoader(source, secrets, log);
  return async (options) => credentialsOf(defaultInstance(await load(options)));
}

/**
 * One instance's credentials, read from the whole list: a forced read after WaChap refused this instance's token
 * re-reads the secret and picks this instance's renewed token, whichever instance was renewed.
 */
export function instanceCredentialsLoader(load: InstancesLoader, name: string): CredentialsLoader {
  return async (options) => {
    const found = (await load(options)).find((instance) => instance.name === name);
    if (!found) throw new WaChapSecretError(`the WaChap secret no longer lists the instance "${name}"`);
    return credentialsOf(found);
  };
}

const credentialsOf = ({ instanceId, accessToken }: WaChapInstance): WaChapCredentialsValue => ({
  instanceId,
  accessToken,
});

/**
 * Reads the secret at most once per max age, or at once when forced. A failed read is not cached (the next
 * call tries again); when the secret was read before, an unforced failed read keeps the last good credentials.
 */
export function instancesLoader(
  source: CredentialSource,
  secrets: () => SecretsManagerClient,
  log: Log = silentLog,
): InstancesLoader {
  if (!source.WACHAP_SECRET_ARN) {
    // Local credentials are fixed: there is nothing to re-read, so a forced load returns them unchanged.
    const fixed =
      source.WACHAP_INSTANCES ??
      (source.WACHAP_INSTANCE_ID && source.WACHAP_ACCESS_TOKEN
        ? singleInstance({ instanceId: source.WACHAP_INSTANCE_ID, accessToken: source.WACHAP_ACCESS_TOKEN })
        : undefined);
    if (fixed) return async () => fixed;
  }
  const secretId = source.WACHAP_SECRET_ARN;
  if (!secretId) {
    return async () => {
      throw new WaChapSecretError('no WaChap credentials configured');
    };
  }
  const maxAge = source.WACHAP_SECRET_MAX_AGE_SECONDS;
  let provider: SecretsProvider | undefined;
  let lastGood: WaChapInstance[] | undefined;

  async function read(forceFetch: boolean): Promise<WaChapInstance[]> {
    provider ??= new SecretsProvider({ awsSdkV3Client: secrets() });
    let value: unknown;
    try {
      // Powertools caches only successful reads, so a failure is retried by the next call.
      value = await provider.get(secretId as string, { maxAge, forceFetch });
    } catch (error) {
      throw new WaChapSecretError(`the WaChap secret could not be read (${awsErrorName(error)})`, { cause: error });
    }
    return parseSecret(value);
  }

  return async ({ forceFetch = false } = {}) => {
    try {
      lastGood = await read(forceFetch);
      return lastGood;
    } catch (error) {
      const message = error instanceof WaChapSecretError ? error.message : 'the WaChap secret could not be read';
      // A Secrets Manager blip must not stop the sends: the credentials read before are most likely still valid,
      // and a config_error would open the provider circuit. After WaChap refused them (forced), they are not.
      if (lastGood && !forceFetch) {
        log.warn('WaChap secret could not be re-read; keeping the credentials read before', { error: message });
        return lastGood;
      }
      log.error('WaChap secret unusable', { error: message, forceFetch });
      throw error;
    }
  };
}

const SECRET_FORMATS =
  'expected {"instanceId": "...", "accessToken": "..."} or {"instances": [{"name", "instanceId", "accessToken", "prefixes"}, …]}';

function parseSecret(value: unknown): WaChapInstance[] {
  if (typeof value !== 'string') {
    throw new WaChapSecretError(`the WaChap secret has no SecretString: ${SECRET_FORMATS}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // JSON.parse's message quotes its input, the secret: it is left out.
    throw new WaChapSecretError(`the WaChap secret is not JSON: ${SECRET_FORMATS}`);
  }
  const list = Array.isArray(parsed)
    ? parsed
    : typeof parsed === 'object' && parsed !== null && 'instances' in parsed
      ? parsed.instances
      : undefined;
  if (list === undefined) {
    const single = singleSecretSchema.safeParse(parsed);
    if (!single.success) {
      throw new WaChapSecretError('the WaChap secret lacks instanceId/accessToken: fill it in after deploying');
    }
    return singleInstance(single.data);
  }
  const instances = wachapInstancesSchema.safeParse(list);
  if (!instances.success) {
    // Paths and messages only: zod's issues would quote the values, tokens among them.
    const problems = instances.error.issues.map((issue) => `instances.${issue.path.join('.')}: ${issue.message}`);
    throw new WaChapSecretError(`the WaChap secret's instance list is invalid: ${problems.join('; ')}`);
  }
  return instances.data;
}

/** Powertools wraps the SDK's error (ResourceNotFoundException, AccessDeniedException, …) in a GetParameterError. */
export function awsErrorName(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) return cause.name;
  return error instanceof Error ? error.name : typeof error;
}
