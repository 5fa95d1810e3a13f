// The configured WaChap instances as the functions use them: the list (from the secret, re-read after its max
// age, or fixed locally), one client per instance whose credentials come from that list (a 401 on one instance
// re-reads the secret and retries with that instance's renewed token), and the failover map.
import { type Failover, failoverProblems, type WaChapInstance } from '../../domain/wachap-instances.js';
import { type Log, silentLog } from '../../observability/logger.js';
import { createWaChapClient, type WaChapClient } from './client.js';
import { type InstancesLoader, instanceCredentialsLoader } from './credentials.js';

export interface WaChapInstances {
  /** The instances as configured now. */
  list(): Promise<WaChapInstance[]>;
  /** The client of the instance named `name` (built once per name). */
  client(name: string): WaChapClient;
  /** The stand-ins, with any entry naming an instance the list lacks left out. */
  failover(instances: readonly WaChapInstance[]): Failover;
}

export function wachapInstances(options: {
  baseUrl: string;
  timeoutMs: number;
  load: InstancesLoader;
  failover: Failover;
  log?: Log;
  fetch?: typeof fetch;
}): WaChapInstances {
  const log = options.log ?? silentLog;
  const clients = new Map<string, WaChapClient>();
  let reported = '';
  return {
    list: () => options.load(),
    client(name) {
      let client = clients.get(name);
      if (!client) {
        client = createWaChapClient({
          baseUrl: options.baseUrl,
          timeoutMs: options.timeoutMs,
          credentials: instanceCredentialsLoader(options.load, name),
          log,
          ...(options.fetch ? { fetch: options.fetch } : {}),
        });
        clients.set(name, client);
      }
      return client;
    },
    failover(instances) {
      // In AWS the list is in the secret, read after cold start: a stand-in it does not name is dropped (and
      // logged once per change) rather than failing every send, since failover is a convenience, not a promise.
      const problems = failoverProblems(options.failover, instances);
      if (problems.length === 0) return options.failover;
      if (problems.join() !== reported) {
        reported = problems.join();
        log.error('WACHAP_FAILOVER names instances the list lacks; those entries are ignored', { problems });
      }
      const names = new Set(instances.map((instance) => instance.name));
      return Object.fromEntries(
        Object.entries(options.failover).filter(([from, to]) => names.has(from) && names.has(to)),
      );
    },
  };
}
