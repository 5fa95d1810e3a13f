// The operator commands' flags: the target (the local stack, an endpoint, or a deployed function) and the
// parsing every command shares.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { LOCAL_STAGE } from '../../shared/domain/operator-command.js';
import { UsageError } from './errors.js';
import { stageName } from './stage.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

const DEFAULT_LAMBDA_PORT = 3001;

/** The flags every operator command takes, besides its own. */
export const TARGET_OPTIONS = {
  json: { type: 'boolean', default: false },
  stage: { type: 'string' },
  'function-name': { type: 'string' },
  'endpoint-url': { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies Options;

export const TARGET_USAGE = `Target (the local stack by default):
  --stage NAME           a deployed stage (dev, prod): the function is found in the outputs of the
                         CloudFormation stack WaChapNotifications-NAME; credentials and region come from
                         AWS_PROFILE / AWS_REGION / ~/.aws, or from --profile / --region
  --function-name=NAME   a deployed function, by name or ARN, instead of --stage
  --region=REGION        AWS region of the stack or function
  --profile=PROFILE      AWS shared-config profile
  --endpoint-url=URL     another Lambda Invoke endpoint
                         (default: http://127.0.0.1:\${LAMBDA_PORT:-3001}, the one \`npm start\` opens)

Output:
  --json                 print the function's raw JSON result instead of the report
  -h, --help             this help

Exit codes: 0 done; 1 the function (or AWS) failed or refused the request; 2 usage error, or no
            stack for --stage; 3 the endpoint could not be reached.`;

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
  stage?: string | undefined;
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
    throw new UsageError('--profile applies to a deployed stage or function: give --stage or --function-name too');
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

/**
 * The deployed stage named by --stage, or undefined for the local stack (no --stage, or `--stage local`, the
 * local stack's own name). --stage finds the function itself: it excludes --function-name and --endpoint-url.
 */
export function deployedStageOf(flags: TargetFlags): string | undefined {
  if (flags.stage === undefined) return undefined;
  const stage = stageName(flags.stage);
  if (stage === LOCAL_STAGE) return undefined;
  const conflicting = (['function-name', 'endpoint-url'] as const).filter((flag) => flags[flag] !== undefined);
  if (conflicting.length > 0) {
    throw new UsageError(
      `--stage finds the function in the stage's stack: leave out ${conflicting.map((f) => `--${f}`).join(' and ')}`,
    );
  }
  return stage;
}

const DURATION_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `--since=24h` (s, m, h, d or w) as the instant that long before `now`, in ISO 8601 as the API reads it. */
export function sinceInstant(flag: string, raw: string, now: Date): string {
  const match = /^(\d{1,6})([smhdw])$/.exec(raw.trim());
  const amount = match ? Number(match[1]) : 0;
  if (!match || amount < 1) {
    throw new UsageError(`--${flag} must be a duration such as 30m, 24h or 7d (s, m, h, d, w), got '${raw}'`);
  }
  const instant = new Date(now.getTime() - amount * DURATION_MS[match[2] as keyof typeof DURATION_MS]);
  if (Number.isNaN(instant.getTime())) throw new UsageError(`--${flag} is too long, got '${raw}'`);
  return instant.toISOString();
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/i;

/** `--from=2025-11-27` or `--to=2025-11-27T18:00:00+01:00` in UTC ISO 8601; a bare date is its midnight UTC. */
export function instantFlag(flag: string, raw: string): string {
  const text = raw.trim();
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  // Date.parse takes 2025-02-30 for March 2nd: the calendar date is checked on its own.
  const realDate = new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day && month >= 1 && month <= 12;
  const time = ISO_INSTANT.test(text) && realDate ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new UsageError(
      `--${flag} must be an ISO 8601 date or date-time with its zone, such as 2025-11-27 or 2025-11-27T18:00:00Z, got '${raw}'`,
    );
  }
  return new Date(time).toISOString();
}
