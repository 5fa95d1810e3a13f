// A circuit record written before the priority lane remembered refused releases as bare ids: read now, they are
// tickets for the standard lane, so a release in progress across the upgrade still queues them.
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_PREFIX, PARTITION_KEY } from '../../shared/adapters/dynamodb/table.js';
import { WACHAP_PROVIDER } from '../../shared/domain/provider-circuit.js';
import { startTestEngines, type TestEngines } from '../support/engines.js';

let engines: TestEngines;

beforeAll(async () => {
  engines = await startTestEngines();
});
afterAll(async () => {
  await engines?.stop();
});

describe('the provider circuit record across the priority lane upgrade', () => {
  it('reads remembered ids of the old format as standard-lane tickets, and new tickets as they are', async () => {
    // Arrange: a record as the previous release wrote it, beside one of this release.
    const client = engines.dynamoClient;
    const record = (name: string, unqueued: unknown) => ({
      [PARTITION_KEY]: { S: KEY_PREFIX.provider + name },
      status: { S: 'healthy' },
      since: { S: '2026-11-30T08:00:00.000Z' },
      releasePending: { BOOL: true },
      release: {
        M: { pass: { S: 'sweep' }, unqueued: unqueued as never },
      },
      version: { N: '3' },
    });
    await client.send(
      new PutItemCommand({
        TableName: engines.tableName,
        Item: record(WACHAP_PROVIDER, { L: [{ S: '01KB0000000000000000000001' }] }),
      }),
    );
    await client.send(
      new PutItemCommand({
        TableName: engines.tableName,
        Item: record('wachap-new', {
          L: [{ M: { id: { S: '01KB0000000000000000000002' }, priority: { S: 'high' } } }],
        }),
      }),
    );

    // Act
    const old = await engines.store.getProviderState(WACHAP_PROVIDER);
    const current = await engines.store.getProviderState('wachap-new');

    // Assess
    expect(old?.release?.unqueued).toEqual([{ id: '01KB0000000000000000000001', priority: 'normal' }]);
    expect(current?.release?.unqueued).toEqual([{ id: '01KB0000000000000000000002', priority: 'high' }]);
  });
});
