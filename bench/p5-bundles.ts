// P5: each function's bundle as the CDK bundles it (esbuild with NodejsFunction's options from
// lib/notification-function.ts: ESM, node22, minified, the SDK bundled, the createRequire banner), its bytes, and the
// CPU time of its cold import (a fresh Node process importing it, the handler's module-level wiring included) against
// its "floor": a bundle of only the AWS SDK clients the function uses, built and imported the same way.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { FUNCTIONS, type FunctionName } from '../functions/catalog.js';
import { round } from './capacity.js';

const run = promisify(execFile);
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** As lib/notification-function.ts's CREATE_REQUIRE_BANNER. */
const BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface BundleFigures {
  name: string;
  bytes: number;
  floorBytes: number;
  sdkClients: string[];
  /** SDK packages in the bundle although the function builds no client of them. */
  sdkUnused: string[];
  importMs: number;
  floorImportMs: number;
}

export interface P5Result {
  p5BundleBytesMax: number;
  p5BundleRatioMax: number;
  p5ImportRatioMax: number;
  p5ImportMsMax: number;
  bundles: BundleFigures[];
}

/** NodejsFunction's esbuild options for our functions (bundling: format ESM, target node22, …). */
async function bundle(entry: string | { contents: string }, outfile: string): Promise<Metafile> {
  const result = await build({
    // A floor's source is resolved from the project, as the functions' are.
    ...(typeof entry === 'string'
      ? { entryPoints: [entry] }
      : { stdin: { contents: entry.contents, resolveDir: PROJECT_ROOT, loader: 'ts', sourcefile: 'floor.ts' } }),
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    banner: { js: BANNER },
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external: [],
    metafile: true,
    logLevel: 'error',
    absWorkingDir: PROJECT_ROOT,
  });
  return result.metafile;
}

/** Which SDK packages each builder of shared/runtime*.ts makes a client of. */
const RUNTIME_CLIENTS: Record<string, string[]> = {
  notificationStore: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'],
  sendQueue: ['@aws-sdk/client-sqs'],
  callbackQueue: ['@aws-sdk/client-sqs'],
  sqsClient: ['@aws-sdk/client-sqs'],
  sesClient: ['@aws-sdk/client-ses'],
  wachapClient: ['@aws-sdk/client-secrets-manager'],
  wachapInstancesOf: ['@aws-sdk/client-secrets-manager'],
  adminContacts: ['@aws-sdk/client-secrets-manager'],
  callbackSecrets: ['@aws-sdk/client-secrets-manager'],
  secretsManagerClient: ['@aws-sdk/client-secrets-manager'],
};

/**
 * The SDK clients a function uses: those its handler.ts builds through shared/runtime.ts or imports itself (the
 * DocumentClient with the DynamoDB client when its bundle holds it). What its bundle holds may be more: `inBundle`.
 */
async function sdkClientsUsedBy(name: string, inBundle: string[]): Promise<string[]> {
  const source = await readFile(join(PROJECT_ROOT, 'functions', name, 'handler.ts'), 'utf8');
  const used = new Set<string>();
  // shared/runtime.ts and its siblings (runtime-secrets.ts, runtime-ses.ts).
  for (const runtime of source.matchAll(
    /import\s*\{([^}]*)\}\s*from\s*'\.\.\/\.\.\/shared\/runtime(?:-[a-z]+)?\.js'/g,
  )) {
    for (const builder of runtime[1]?.split(',').map((part) => part.trim()) ?? []) {
      for (const pkg of RUNTIME_CLIENTS[builder] ?? []) used.add(pkg);
    }
  }
  for (const match of source.matchAll(/from '(@aws-sdk\/(?:client|lib)-[a-z0-9-]+)'/g)) used.add(match[1]!);
  if (used.has('@aws-sdk/client-dynamodb') && inBundle.includes('@aws-sdk/lib-dynamodb')) {
    used.add('@aws-sdk/lib-dynamodb');
  }
  return [...used].sort();
}

/** The `@aws-sdk/client-*` and `@aws-sdk/lib-*` packages a bundle draws on. */
function sdkPackagesOf(metafile: Metafile): string[] {
  const found = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /node_modules\/(@aws-sdk\/(?:client|lib)-[a-z0-9-]+)\//.exec(input);
    if (match) found.add(match[1]!);
  }
  return [...found].sort();
}

const CLIENT_CLASS: Record<string, string> = {
  '@aws-sdk/client-dynamodb': 'DynamoDBClient',
  '@aws-sdk/client-sqs': 'SQSClient',
  '@aws-sdk/client-ses': 'SESClient',
  '@aws-sdk/client-secrets-manager': 'SecretsManagerClient',
  '@aws-sdk/client-lambda': 'LambdaClient',
  '@aws-sdk/client-cloudformation': 'CloudFormationClient',
};

/** The floor: the same SDK clients built as the function builds them, nothing else. */
function floorSource(packages: string[]): string {
  const lines: string[] = [];
  const made: string[] = [];
  for (const pkg of packages) {
    const cls = CLIENT_CLASS[pkg];
    if (cls) {
      lines.push(`import { ${cls} } from '${pkg}';`);
      made.push(`new ${cls}({})`);
    }
  }
  if (packages.includes('@aws-sdk/lib-dynamodb') && packages.includes('@aws-sdk/client-dynamodb')) {
    lines.push(`import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';`);
    made.push('DynamoDBDocumentClient.from(new DynamoDBClient({}))');
  }
  lines.push(`export const clients = [${made.join(', ')}];`);
  return `${lines.join('\n')}\n`;
}

/** What every handler's configuration needs to load at import (values of the right shape; nothing is called). */
const IMPORT_ENV: Record<string, string> = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  TABLE_NAME: 'notifications',
  SEND_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/000000000000/send',
  PRIORITY_SEND_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/000000000000/send-priority',
  SEND_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/000000000000/send-dlq',
  CALLBACK_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/000000000000/callbacks',
  CALLBACK_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/000000000000/callbacks-dlq',
  CALLBACK_SECRET_PREFIX: 'wachap-notifications/bench/callbacks/',
  WACHAP_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:wachap',
  ADMIN_CONTACTS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:admin',
  ADMIN_EMAIL: 'admin@example.com',
  ALERT_FROM_EMAIL: 'alerts@example.com',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  NODE_OPTIONS: '',
};

/** CPU milliseconds (user + system) that importing `file` takes in a fresh Node process. */
async function importCpuMs(file: string): Promise<number> {
  const script = `const t = process.cpuUsage(); await import(${JSON.stringify(file)}); const u = process.cpuUsage(t); process.stdout.write(String((u.user + u.system) / 1000));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ...IMPORT_ENV },
    timeout: 60_000,
  });
  return Number(stdout.trim());
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

export async function runP5(options: { quick?: boolean } = {}): Promise<P5Result> {
  const rounds = options.quick ? 1 : 5;
  const names = (Object.keys(FUNCTIONS) as FunctionName[]).filter((name) =>
    options.quick ? ['sender', 'ingest'].includes(name) : true,
  );
  const dir = await mkdtemp(join(tmpdir(), 'bench-p5-'));
  try {
    const bundles: BundleFigures[] = [];
    for (const name of names) {
      const out = join(dir, name);
      await mkdir(out, { recursive: true });
      const file = join(out, 'index.mjs');
      const metafile = await bundle(join(PROJECT_ROOT, 'functions', name, 'handler.ts'), file);
      const sdkInBundle = sdkPackagesOf(metafile);
      const sdkClients = await sdkClientsUsedBy(name, sdkInBundle);
      const floorFile = join(out, 'floor.mjs');
      await bundle({ contents: floorSource(sdkClients) }, floorFile);
      // Side by side, alternating, so that the machine's load falls on both alike.
      const mine: number[] = [];
      const floor: number[] = [];
      for (let i = 0; i < rounds; i++) {
        mine.push(await importCpuMs(file));
        floor.push(await importCpuMs(floorFile));
      }
      bundles.push({
        name,
        bytes: (await stat(file)).size,
        floorBytes: (await stat(floorFile)).size,
        sdkClients,
        sdkUnused: sdkInBundle.filter((pkg) => !sdkClients.includes(pkg)),
        importMs: round(median(mine), 1),
        floorImportMs: round(median(floor), 1),
      });
    }
    const withFloor = bundles.filter((b) => b.sdkClients.length > 0);
    return {
      p5BundleBytesMax: Math.max(...bundles.map((b) => b.bytes)),
      // A function with no SDK client (api-docs) has no floor to compare with.
      p5BundleRatioMax: round(Math.max(...withFloor.map((b) => b.bytes / b.floorBytes))),
      p5ImportRatioMax: round(Math.max(...withFloor.map((b) => b.importMs / b.floorImportMs))),
      p5ImportMsMax: Math.max(...bundles.map((b) => b.importMs)),
      bundles,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(JSON.stringify(await runP5({ quick: false }), null, 1));
