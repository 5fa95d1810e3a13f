// The Lambda Invoke itself, against the chosen target, and what its outcome was.
import { InvokeCommand, LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import type { InvokeRejection } from '../../shared/application/invoke-payload.js';
import type { InvokeTarget } from './flags.js';

const LOCAL_REGION = 'us-east-1';
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export function lambdaClientFor(target: InvokeTarget, env: NodeJS.ProcessEnv = process.env): LambdaClient {
  const config: LambdaClientConfig = {};
  if (target.region) config.region = target.region;
  if (target.profile) config.profile = target.profile;
  if (target.endpoint) {
    config.endpoint = target.endpoint;
    config.region ??= LOCAL_REGION;
    // A local engine accepts any signature; real credentials are only looked up when some are configured.
    const hasCredentials = target.profile || env.AWS_PROFILE || env.AWS_ACCESS_KEY_ID;
    if (target.isLocalDefault || !hasCredentials) config.credentials = LOCAL_CREDENTIALS;
  }
  if (target.isLocalDefault) {
    // A stopped local stack should fail at once rather than after the SDK's retries.
    config.maxAttempts = 1;
    config.requestHandler = { connectionTimeout: 2_000 };
  } else {
    config.requestHandler = { connectionTimeout: 10_000 };
  }
  return new LambdaClient(config);
}

export type InvokeOutcome =
  | { kind: 'result'; payload: unknown }
  | { kind: 'function_error'; payload: unknown; errorType: string; errorMessage: string }
  | { kind: 'rejected'; payload: unknown; rejection: InvokeRejection };

const isRejection = (value: unknown): value is InvokeRejection =>
  typeof value === 'object' &&
  value !== null &&
  (value as Partial<InvokeRejection>).statusCode === 400 &&
  (value as Partial<InvokeRejection>).error === 'validation_error';

function decodePayload(bytes: Uint8Array | undefined): unknown {
  const text = bytes ? new TextDecoder('utf-8').decode(bytes) : '';
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** One synchronous invoke; the function's own failures come back as outcomes, not exceptions. */
export async function invokeFunction(
  client: LambdaClient,
  functionName: string,
  payload: unknown,
): Promise<InvokeOutcome> {
  const output = await client.send(
    new InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify(payload)),
    }),
  );
  const body = decodePayload(output.Payload);
  if (output.FunctionError) {
    const error = (typeof body === 'object' && body !== null ? body : {}) as {
      errorType?: unknown;
      errorMessage?: unknown;
    };
    return {
      kind: 'function_error',
      payload: body,
      errorType: typeof error.errorType === 'string' ? error.errorType : output.FunctionError,
      errorMessage: typeof error.errorMessage === 'string' ? error.errorMessage : String(body ?? '(no message)'),
    };
  }
  if (isRejection(body)) return { kind: 'rejected', payload: body, rejection: body };
  return { kind: 'result', payload: body };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
]);

/** The request never got an answer (as opposed to an answer saying no). */
export function isUnreachable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, name, errors } = error as { code?: unknown; name?: unknown; errors?: unknown };
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  if (name === 'TimeoutError') return true;
  return Array.isArray(errors) && errors.some(isUnreachable);
}
