// `npm run backfill-status-index` (bin/backfill-status-index.ts): gives the notifications stored before the status
// index existed the index's keys, so that operators' lists and exports find them. It talks to the table itself
// (not through a function): the local stack's DynamoDB by default, a deployed stage's table with --stage.
import { parseArgs } from 'node:util';
import { DescribeTableCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { type BackfillCounts, backfillStatusIndex } from '../../shared/adapters/dynamodb/status-index.js';
import { STATUS_INDEX_NAME } from '../../shared/adapters/dynamodb/table.js';
import { LOCAL_STAGE } from '../../shared/domain/operator-command.js';
import { type Io, RULE, reportStageFailure } from '../operator-cli.js';
import { EXIT, UsageError } from './errors.js';
import { positiveInteger } from './flags.js';
import { isUnreachable } from './invoke.js';
import { startProgress } from './progress.js';
import { cloudFormationClientFor, describeStage, stackOutput, stageName } from './stage.js';

const DEFAULT_DYNAMODB_PORT = 8000;
const DEFAULT_TABLE_NAME = 'notifications';
const DEFAULT_SEGMENTS = 4;

export const USAGE = `Usage: npm run backfill-status-index -- [--stage NAME] [--dry-run] [options]

Gives the notifications written before the status index existed its keys (statusShard, statusAt), so
that lists, exports and bulk re-drives find them; notifications written since carry them already. Run it
once after deploying the release that adds the index (the functions must write the keys first): it scans
the table in parallel segments and writes each missing pair with an UpdateItem conditional on the version
it read, so it never overwrites a newer change. Safe to run again, and while the system runs.

Target (the local stack by default: its DynamoDB, table ${DEFAULT_TABLE_NAME}):
  --stage NAME           a deployed stage (dev, prod): the table is the TableName output of the
                         CloudFormation stack WaChapNotifications-NAME, in the stack's region;
                         credentials from AWS_PROFILE / ~/.aws, or --profile / --region
  --region=REGION        AWS region of the stack
  --profile=PROFILE      AWS shared-config profile
  --table-name=NAME      another local table (default: $TABLE_NAME, else ${DEFAULT_TABLE_NAME})
  --endpoint-url=URL     another local DynamoDB endpoint
                         (default: http://127.0.0.1:\${DYNAMODB_PORT:-${DEFAULT_DYNAMODB_PORT}}, the one \`npm start\` opens)

Options:
  --dry-run              count what would be written, write nothing
  --segments=N           parallel Scan segments (default ${DEFAULT_SEGMENTS}; more for a large table)
  --json                 print the counts as JSON
  -h, --help             this help

It reads every item of the table once (a Scan: about 0.5 read unit per 4 KB, eventually consistent) and
writes one update per notification lacking the keys (plus its index write).

Exit codes: 0 done; 1 DynamoDB (or AWS) failed or refused, or the table has no status index yet;
            2 usage error, or no stack for --stage; 3 the endpoint could not be reached.

Examples:
  npm run backfill-status-index -- --dry-run                  # the local stack (npm start -- --persist)
  npm run backfill-status-index
  AWS_PROFILE=prod npm run backfill-status-index -- --stage prod --dry-run
  AWS_PROFILE=prod npm run backfill-status-index -- --stage prod`;

const OPTIONS = {
  stage: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  'table-name': { type: 'string' },
  'endpoint-url': { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  segments: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Where the backfill writes: a local engine (endpoint, fixed credentials) or a deployed stage's table. */
interface Target {
  tableName: string;
  /** The local engine; undefined for AWS. */
  endpoint?: string;
  isLocalDefault: boolean;
  region?: string;
  profile?: string;
  /** Said in the report. */
  description: string;
}

interface Plan {
  stage?: string;
  local?: Target;
  region?: string;
  profile?: string;
  dryRun: boolean;
  segments: number;
  json: boolean;
}

export const defaultBackfillIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
};

function planOf(argv: string[], env: NodeJS.ProcessEnv): Plan | 'help' {
  let flags: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
  try {
    flags = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (flags.help) return 'help';
  const segments = positiveInteger('segments', flags.segments) ?? DEFAULT_SEGMENTS;
  if (segments > 1_000) throw new UsageError(`--segments must be at most 1000, got ${segments}`);
  const common = {
    dryRun: flags['dry-run'] === true,
    segments,
    json: flags.json === true,
    ...(flags.region !== undefined ? { region: flags.region } : {}),
    ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
  };
  const stage = flags.stage === undefined ? undefined : stageName(flags.stage);
  if (stage !== undefined && stage !== LOCAL_STAGE) {
    const conflicting = (['table-name', 'endpoint-url'] as const).filter((flag) => flags[flag] !== undefined);
    if (conflicting.length > 0) {
      throw new UsageError(
        `--stage finds the table in the stage's stack: leave out ${conflicting.map((f) => `--${f}`).join(' and ')}`,
      );
    }
    return { ...common, stage };
  }
  if (flags.profile !== undefined || flags.region !== undefined) {
    throw new UsageError('--profile and --region apply to a deployed stage: give --stage too');
  }
  const explicitEndpoint = flags['endpoint-url'];
  if (explicitEndpoint !== undefined && !URL.canParse(explicitEndpoint)) {
    throw new UsageError(`--endpoint-url must be a URL such as http://127.0.0.1:8000, got '${explicitEndpoint}'`);
  }
  let endpoint = explicitEndpoint;
  if (endpoint === undefined) {
    const port = env.DYNAMODB_PORT?.trim() ? Number(env.DYNAMODB_PORT) : DEFAULT_DYNAMODB_PORT;
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new UsageError(`DYNAMODB_PORT must be a port number, got '${env.DYNAMODB_PORT}'`);
    }
    endpoint = `http://127.0.0.1:${port}`;
  }
  const tableName = flags['table-name'] ?? (env.TABLE_NAME?.trim() || DEFAULT_TABLE_NAME);
  if (tableName.trim() === '') throw new UsageError('--table-name must not be empty');
  return {
    ...common,
    local: {
      tableName,
      endpoint,
      isLocalDefault: explicitEndpoint === undefined,
      description: `${tableName} at ${endpoint}`,
    },
  };
}

/** The deployed stage's table, found in its stack's outputs. */
async function stageTarget(stage: string, plan: Plan): Promise<Target> {
  const client = cloudFormationClientFor({ region: plan.region, profile: plan.profile });
  try {
    const stack = await describeStage(stage, client);
    const tableName = stackOutput(stack, 'TableName');
    return {
      tableName,
      isLocalDefault: false,
      region: stack.region,
      ...(plan.profile !== undefined ? { profile: plan.profile } : {}),
      description: `${tableName} (stage ${stage}, ${stack.region})`,
    };
  } finally {
    client.destroy();
  }
}

function dynamoClientFor(target: Target): DynamoDBClient {
  const config: DynamoDBClientConfig = { requestHandler: { connectionTimeout: 10_000 } };
  if (target.endpoint) {
    // A local engine: any credentials do, these are the local stack's.
    config.endpoint = target.endpoint;
    config.region = 'us-east-1';
    config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    config.maxAttempts = 1;
  } else {
    if (target.region) config.region = target.region;
    if (target.profile) config.profile = target.profile;
  }
  return new DynamoDBClient(config);
}

const line = (label: string, value: string | number) => `${label.padEnd(30)}: ${value}`;

export function formatCounts(counts: BackfillCounts, target: Target, dryRun: boolean): string {
  return [
    RULE,
    `STATUS INDEX BACKFILL${dryRun ? ' (DRY RUN: nothing written)' : ''}`,
    RULE,
    line('Table', target.description),
    line('Notifications read', counts.scanned),
    line('Already indexed', counts.alreadyIndexed),
    line(dryRun ? 'Would be given the keys' : 'Given the keys', counts.updated),
    line('Changed meanwhile (skipped)', counts.skipped),
    line('Malformed (left alone)', counts.malformed),
    ...(counts.skipped > 0
      ? ['', 'Those changed meanwhile carry the keys if a current release wrote them; run again to be sure.']
      : []),
  ].join('\n');
}

function reportFailure(error: unknown, target: Target, io: Pick<Io, 'err'>): number {
  const err = error instanceof Error ? error : new Error(String(error));
  if (isUnreachable(error)) {
    const hint = target.isLocalDefault
      ? 'is `npm start` running? (or set DYNAMODB_PORT, or pass --endpoint-url)'
      : target.endpoint
        ? 'check --endpoint-url'
        : 'check the network and the region';
    io.err(
      `error: could not reach DynamoDB for ${target.description} (${(err as { code?: string }).code ?? err.name}): ${hint}`,
    );
    return EXIT.unreachable;
  }
  if (err.name === 'ResourceNotFoundException') {
    io.err(`error: no table ${target.description}: check --table-name / TABLE_NAME, or --stage`);
    return EXIT.functionFailed;
  }
  // Missing credentials, AccessDenied (dynamodb:DescribeTable, Scan, UpdateItem on the table): the SDK names it.
  io.err(`error: backfilling ${target.description} failed: ${err.name}: ${err.message}`);
  return EXIT.functionFailed;
}

/** Parses, finds the table, backfills, prints; resolves to the exit code. */
export async function runBackfill(argv: string[], io: Io = defaultBackfillIo): Promise<number> {
  let plan: Plan | 'help';
  try {
    plan = planOf(argv, io.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`error: ${error.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (plan === 'help') {
    io.out(USAGE);
    return EXIT.ok;
  }
  let target: Target;
  if (plan.stage !== undefined) {
    try {
      target = await stageTarget(plan.stage, plan);
    } catch (error) {
      return reportStageFailure(error, plan.stage, io);
    }
  } else {
    target = plan.local!;
  }

  const client = dynamoClientFor(target);
  const stopProgress = startProgress(`backfilling ${target.tableName}`);
  try {
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: target.tableName }));
    if (!(table?.GlobalSecondaryIndexes ?? []).some((index) => index.IndexName === STATUS_INDEX_NAME)) {
      stopProgress();
      // The functions of the release without the index would write the keys away again: deploy first.
      io.err(
        `error: table ${target.description} has no ${STATUS_INDEX_NAME} yet: ` +
          (plan.stage
            ? `deploy this checkout first (npx cdk deploy -c stage=${plan.stage})`
            : 'start the local stack once (npm start -- --persist): it adds the index'),
      );
      return EXIT.functionFailed;
    }
    const counts = await backfillStatusIndex(client, target.tableName, {
      segments: plan.segments,
      dryRun: plan.dryRun,
    });
    stopProgress();
    io.out(
      plan.json
        ? JSON.stringify({ dryRun: plan.dryRun, ...counts }, null, 2)
        : formatCounts(counts, target, plan.dryRun),
    );
    return EXIT.ok;
  } catch (error) {
    stopProgress();
    return reportFailure(error, target, io);
  } finally {
    stopProgress();
    client.destroy();
  }
}
