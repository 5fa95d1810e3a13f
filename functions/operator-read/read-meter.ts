// What one request reads of the table, as DynamoDB counts it: every Query's and Scan's ScannedCount (the items it
// evaluated, the ones a filter then dropped included). The export stops on a budget of these, whatever a list call
// does inside, and each request has its own count, however many run at once in one process (the local stack).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export class ReadMeter {
  readonly #tally = new AsyncLocalStorage<{ read: number }>();

  /** Counts, from now on, what `client` reads within `measure`; returns the client. */
  attach<C extends DynamoDBClient>(client: C): C {
    client.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        const tally = this.#tally.getStore();
        const scanned = (result.output as { ScannedCount?: unknown }).ScannedCount;
        if (tally && typeof scanned === 'number') tally.read += scanned;
        return result;
      },
      { step: 'initialize', name: 'readMeter' },
    );
    return client;
  }

  /** Runs `work` with a count of its own; `read()` says how many items it has read so far. */
  measure<T>(work: (read: () => number) => Promise<T>): Promise<T> {
    const tally = { read: 0 };
    return this.#tally.run(tally, () => work(() => tally.read));
  }
}
