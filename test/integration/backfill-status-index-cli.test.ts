// `npm run backfill-status-index` on a real engine: it finds the local stack's table (DYNAMODB_PORT, TABLE_NAME) or
// the one named, counts with --dry-run, writes the missing keys otherwise, refuses a table without the index, and
// says what is wrong when the engine does not answer or a flag is wrong.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { CreateTableCommand, type DynamoDBClient, type GlobalSecondaryIndex } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill } from '../../bin/cli/backfill-command.js';
import type { Io } from '../../bin/operator-cli.js';
import { type RunningDynamoDb, startDynamoDb } from '../../local/engines/dynamodb.js';
import { ensureTable } from '../../shared/adapters/dynamodb/ensure-table.js';
import { notificationDocumentClient } from '../../shared/adapters/dynamodb/items.js';
import { toItem } from '../../shared/adapters/dynamodb/notification-item.js';
import { createTableInput, STATUS_INDEX_NAME } from '../../shared/adapters/dynamodb/table.js';
import type { Notification } from '../../shared/domain/notification.js';
import { localDynamoDbClient, randomTableName } from '../support/dynamodb.js';
import { makeNotification } from '../support/fixtures.js';
import { closedPort } from '../support/operator-cli.js';

const ROOT = resolve(import.meta.dirname, '../..');
const NOW = new Date('2025-03-10T12:00:00.000Z');

let engine: RunningDynamoDb;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  engine = await startDynamoDb({ engine: 'dynalite' });
  client = localDynamoDbClient(engine.endpoint);
  doc = notificationDocumentClient(client);
});
afterAll(async () => {
  client?.destroy();
  await engine?.stop();
});

/** runBackfill in this process, its output captured. */
async function backfill(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (text) => out.push(text), err: (text) => err.push(text), env };
  const code = await runBackfill(args, io);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** The item a release from before the index wrote: no index keys. */
function oldItem(n: Notification) {
  const { statusShard: _shard, statusAt: _at, ...item } = toItem(n, NOW, 90);
  return item;
}

/** A table with the index holding two notifications written before it and one written since. */
async function tableToBackfill() {
  const tableName = randomTableName();
  await ensureTable(client, tableName);
  const old = [makeNotification({ status: 'failed' }), makeNotification({ status: 'sent', nextAttemptAt: undefined })];
  for (const n of old) await doc.send(new PutCommand({ TableName: tableName, Item: oldItem(n) }));
  const current = makeNotification();
  await doc.send(new PutCommand({ TableName: tableName, Item: toItem(current, NOW, 90) }));
  return { tableName, old, current };
}

const raw = async (tableName: string, pk: string) =>
  (await doc.send(new GetCommand({ TableName: tableName, Key: { pk }, ConsistentRead: true }))).Item;

describe('npm run backfill-status-index', () => {
  it('--dry-run counts and writes nothing; without it the notifications get their keys', async () => {
    const { tableName, old } = await tableToBackfill();
    const target = ['--endpoint-url', engine.endpoint, '--table-name', tableName];

    const dry = await backfill([...target, '--dry-run', '--json']);

    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual({
      dryRun: true,
      scanned: 3,
      alreadyIndexed: 1,
      updated: 2,
      skipped: 0,
      malformed: 0,
    });
    for (const n of old) expect(await raw(tableName, n.id)).toEqual(oldItem(n));

    const real = await backfill([...target, '--segments=2']);

    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toContain('STATUS INDEX BACKFILL\n');
    expect(real.stdout).toMatch(new RegExp(`Table\\s+: ${tableName} at ${engine.endpoint}\\n`));
    expect(real.stdout).toMatch(/Notifications read\s+: 3\n/);
    expect(real.stdout).toMatch(/Already indexed\s+: 1\n/);
    expect(real.stdout).toMatch(/Given the keys\s+: 2\n/);
    for (const n of old) expect(await raw(tableName, n.id)).toEqual(toItem(n, NOW, 90));
  });

  it('targets the local stack by default: its DynamoDB port and table name (a child process, as npm runs it)', async () => {
    const { tableName, old } = await tableToBackfill();

    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bin/backfill-status-index.ts'], {
        cwd: ROOT,
        env: { ...process.env, DYNAMODB_PORT: new URL(engine.endpoint).port, TABLE_NAME: tableName },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      child.on('error', fail);
      child.on('close', (code) => done({ code, stdout, stderr }));
    });

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Given the keys\s+: 2\n/);
    for (const n of old) expect(await raw(tableName, n.id)).toEqual(toItem(n, NOW, 90));
  }, 30_000);

  it('refuses a table without the status index: the release that writes the keys comes first', async () => {
    const tableName = randomTableName();
    const input = createTableInput(tableName);
    await client.send(
      new CreateTableCommand({
        ...input,
        AttributeDefinitions: input.AttributeDefinitions?.filter((a) => !a.AttributeName?.startsWith('status')),
        GlobalSecondaryIndexes: input.GlobalSecondaryIndexes?.filter(
          (index: GlobalSecondaryIndex) => index.IndexName !== STATUS_INDEX_NAME,
        ),
      }),
    );
    const n = makeNotification();
    await doc.send(new PutCommand({ TableName: tableName, Item: oldItem(n) }));

    const run = await backfill(['--endpoint-url', engine.endpoint, '--table-name', tableName]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`has no ${STATUS_INDEX_NAME} yet`);
    expect(await raw(tableName, n.id)).toEqual(oldItem(n));
  });

  it('says when the engine does not answer (exit 3) or the table does not exist (exit 1)', async () => {
    const port = await closedPort();

    const unreachable = await backfill([], { DYNAMODB_PORT: String(port) });
    const missing = await backfill(['--endpoint-url', engine.endpoint, '--table-name', 'no-such-table']);

    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain(`notifications at http://127.0.0.1:${port}`);
    expect(unreachable.stderr).toContain('is `npm start` running?');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no table no-such-table');
  });

  it('refuses bad flags with the usage (exit 2)', async () => {
    for (const [args, message] of [
      [['--stage', 'prod', '--table-name', 'x'], 'leave out --table-name'],
      [['--profile', 'prod'], 'give --stage too'],
      [['--stage', 'Prod!'], '--stage must be a stage name'],
      [['--segments=0'], '--segments must be a positive whole number'],
      [['--endpoint-url', 'nope'], '--endpoint-url must be a URL'],
      [['--limit=3'], "Unknown option '--limit'"],
    ] as const) {
      const run = await backfill([...args]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.stderr).toContain('Usage: npm run backfill-status-index');
    }
  });
});
