// The operator commands' flags: the target (the local stack, an endpoint, or a deployed function) and the
// parsing every command shares.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

const DEFAULT_LAMBDA_PORT = 3001;

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

export interface TargetFlags {
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
