// What `npm run retry` and `npm run health` share: flags, the Lambda client for the chosen target
// (local stack, explicit endpoint or deployed function), the invoke itself, and the exit codes.

import { type ParseArgsConfig, parseArgs } from 'node:util';
import { InvokeCommand, LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import type { AlertDelivery } from '../shared/application/health-check.js';
import type { InvokeRejection } from '../shared/application/invoke-payload.js';

export const EXIT = { ok: 0, functionFailed: 1, usage: 2, unreachable: 3 } as const;

/** A command-line mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const LOCAL_REGION = 'us-east-1';
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const DEFAULT_LAMBDA_PORT = 3001;

type Options = NonNullable<ParseArgsConfig['options']>;

/** The rule under and over the reports' headings. */
export const RULE = '='.repeat(60);

/** How an alert went out (or why not), as the reports print it. */
export const DELIVERY_TEXT: Record<AlertDelivery, string> = {
  sent: 'envoyée / sent',
  failed: 'ÉCHEC / failed',
  disabled: 'désactivée / disabled',
  not_configured: 'non configurée / not configured',
  not_critical: 'non critique / not critical',
  cooldown: 'déjà signalée dans l’heure / cooldown',
  dry_run: 'serait envoyée / would be sent (dry run)',
};

/** The flags every operator command takes, besides its own. */
export const TARGET_OPTIONS = {
  json: { type: 'boolean', default: false },
  'function-name': { type: 'string' },
  'endpoint-url': { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies Options;

export const TARGET_USAGE = `Target (the local stack by default):
  --function-name=NAME   a deployed function, by name or ARN; region and credentials come from
                         AWS_REGION / AWS_PROFILE / ~/.aws, or from the two flags below
  --region=REGION        AWS region of the function
  --profile=PROFILE      AWS shared-config profile
  --endpoint-url=URL     another Lambda Invoke endpoint
                         (default: http://127.0.0.1:\${LAMBDA_PORT:-3001}, the one \`npm start\` opens)

Output:
  --json                 print the function's raw JSON result instead of the report
  -h, --help             this help

Exit codes: 0 done; 1 the function failed or rejected the request; 2 usage error;
            3 the endpoint could not be reached.`;

export function parseFlags<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { ...TARGET_OPTIONS, ...options }, strict: true, allowPositionals: false })
      .values;
  } catch (error) {
    // node:util's own messages already name the flag (unknown option, missing value, ...).
    throw new UsageError((error as Error).message);
  }
}

export function positiveInteger(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`--${flag} must be a positive whole number, got '${raw}'`);
  }
  return Number(raw);
}

export interface InvokeTarget {
  functionName: string;
  /** Where requests go; undefined for a deployed function (the regional endpoint). */
  endpoint: string | undefined;
  /** The local stack's door, for the hint when it does not answer. */
  isLocalDefault: boolean;
  region: string | undefined;
  profile: string | undefined;
}

interface TargetFlags {
  'function-name'?: string | undefined;
  'endpoint-url'?: string | undefined;
  region?: string | undefined;
  profile?: string | undefined;
}

export function targetOf(
  flags: TargetFlags,
  defaultFunctionName: string,
  env: NodeJS.ProcessEnv = process.env,
): InvokeTarget {
  const deployed = flags['function-name'] !== undefined;
  const explicitEndpoint = flags['endpoint-url'];
  if (flags['function-name'] === '') throw new UsageError('--function-name must not be empty');
  if (explicitEndpoint !== undefined && !URL.canParse(explicitEndpoint)) {
    throw new UsageError(`--endpoint-url must be a URL such as http://127.0.0.1:3001, got '${explicitEndpoint}'`);
  }
  if (flags.profile !== undefined && !deployed && explicitEndpoint === undefined) {
    throw new UsageError('--profile applies to a deployed function: give --function-name too');
  }
  let endpoint = explicitEndpoint;
  if (!deployed && endpoint === undefined) {
    const port = env.LAMBDA_PORT?.trim() ? Number(env.LAMBDA_PORT) : DEFAULT_LAMBDA_PORT;
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new UsageError(`LAMBDA_PORT must be a port number, got '${env.LAMBDA_PORT}'`);
    }
    endpoint = `http://127.0.0.1:${port}`;
  }
  return {
    functionName: flags['function-name'] ?? defaultFunctionName,
    endpoint,
    isLocalDefault: !deployed && explicitEndpoint === undefined,
    region: flags.region,
    profile: flags.profile,
  };
}

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

function describeTarget(target: InvokeTarget): string {
  return target.endpoint ? `${target.functionName} at ${target.endpoint}` : target.functionName;
}

/** Elapsed seconds on stderr while a long invoke runs, only for a person watching a terminal. */
function startProgress(label: string, stream: NodeJS.WriteStream = process.stderr): () => void {
  if (!stream.isTTY) return () => undefined;
  const frames = ['|', '/', '-', '\\'];
  const started = Date.now();
  let frame = 0;
  let interval: NodeJS.Timeout | undefined;
  const delay = setTimeout(() => {
    interval = setInterval(() => {
      const seconds = Math.floor((Date.now() - started) / 1000);
      stream.write(`\r${frames[frame++ % frames.length]} ${label}… ${seconds} s`);
    }, 200);
  }, 1_000);
  return () => {
    clearTimeout(delay);
    if (interval) {
      clearInterval(interval);
      interval = undefined;
      stream.write('\r\x1b[K');
    }
  };
}

export interface OperatorCommand<O extends Options> {
  usage: string;
  defaultFunctionName: string;
  options: O;
  /** The invoke payload from the parsed flags; throws UsageError on a bad value. */
  payloadOf(flags: ReturnType<typeof parseFlags<O>>): Record<string, unknown>;
  /** The readable report of a successful result. */
  format(result: unknown): string;
}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
};

/** Parses, invokes, prints; resolves to the exit code. */
export async function runOperatorCommand<O extends Options>(
  command: OperatorCommand<O>,
  argv: string[],
  io: Io = defaultIo,
): Promise<number> {
  let target: InvokeTarget;
  let payload: Record<string, unknown>;
  let json: boolean;
  try {
    const flags = parseFlags(argv, command.options);
    const common = flags as TargetFlags & { help?: boolean; json?: boolean };
    if (common.help) {
      io.out(command.usage);
      return EXIT.ok;
    }
    json = common.json === true;
    target = targetOf(common, command.defaultFunctionName, io.env);
    payload = command.payloadOf(flags);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`error: ${error.message}\n\n${command.usage}`);
    return EXIT.usage;
  }

  const client = lambdaClientFor(target, io.env);
  const stopProgress = startProgress(`invoking ${target.functionName}`);
  let outcome: InvokeOutcome;
  try {
    outcome = await invokeFunction(client, target.functionName, payload);
  } catch (error) {
    stopProgress(); // before the message, not after it
    return reportInvokeFailure(error, target, io);
  } finally {
    stopProgress();
    client.destroy();
  }

  if (json) io.out(JSON.stringify(outcome.payload, null, 2));
  switch (outcome.kind) {
    case 'result':
      if (json) return EXIT.ok;
      try {
        io.out(command.format(outcome.payload));
      } catch {
        // Most likely --function-name names another function: say so rather than print a stack.
        io.err(`error: ${target.functionName} returned a result this command cannot read; --json prints it as is`);
        return EXIT.functionFailed;
      }
      return EXIT.ok;
    case 'function_error':
      io.err(`error: ${target.functionName} failed: ${outcome.errorType}: ${outcome.errorMessage}`);
      return EXIT.functionFailed;
    case 'rejected': {
      // The message repeats the first detail; the details name every field.
      const { details, message } = outcome.rejection;
      const lines =
        details.length > 0 ? details.map((d) => `  - ${d.path || '(payload)'}: ${d.message}`) : [`  ${message}`];
      io.err([`error: ${target.functionName} rejected the request (validation_error):`, ...lines].join('\n'));
      return EXIT.functionFailed;
    }
  }
}

function reportInvokeFailure(error: unknown, target: InvokeTarget, io: Io): number {
  const err = error instanceof Error ? error : new Error(String(error));
  if (isUnreachable(error)) {
    const hint = target.isLocalDefault
      ? 'is `npm start` running? (or set LAMBDA_PORT, or pass --endpoint-url / --function-name)'
      : target.endpoint
        ? 'check --endpoint-url'
        : 'check the network and the region';
    io.err(
      `error: could not reach ${describeTarget(target)} (${(err as { code?: string }).code ?? err.name}): ${hint}`,
    );
    return EXIT.unreachable;
  }
  // Configuration the SDK could not resolve: nothing was sent.
  if (/region is missing/i.test(err.message)) {
    io.err('error: no AWS region: set AWS_REGION or pass --region');
    return EXIT.usage;
  }
  // SDK errors name the problem (ResourceNotFoundException, AccessDeniedException, missing credentials)
  // and never carry secrets; the stack is of no use to an operator.
  io.err(`error: invoking ${describeTarget(target)} failed: ${err.name}: ${err.message}`);
  return EXIT.functionFailed;
}
