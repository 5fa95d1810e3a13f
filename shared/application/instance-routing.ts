// Which WaChap instance a notification goes through, given the routes and the instances' circuits: each
// instance has its own circuit, so one disconnected phone holds only the notifications routed to it.
import {
  circuitNameOf,
  type Failover,
  type InstanceDecision,
  instanceDecision,
  type Routable,
  routeOf,
  type WaChapInstance,
} from '../domain/wachap-instances.js';
import type { ProviderCircuit } from './provider-circuit.js';

export interface InstanceRouter {
  /** Send through which instance, or hold for which one. */
  decide(notification: Routable): Promise<InstanceDecision>;
  /** The circuit of an instance, opened after a provider-wide failure through it. */
  circuit(instance: string): Pick<ProviderCircuit, 'isOpen' | 'open'>;
}

export function instanceRouter(deps: {
  instances: () => Promise<WaChapInstance[]>;
  failover: (instances: readonly WaChapInstance[]) => Failover;
  /** The circuit stored under `name` (one object per name: it caches its "closed" reads). */
  circuitNamed: (name: string) => Pick<ProviderCircuit, 'isOpen' | 'open'>;
}): InstanceRouter {
  const circuits = new Map<string, Pick<ProviderCircuit, 'isOpen' | 'open'>>();
  let latest: readonly WaChapInstance[] = [];
  const circuitOf = (instance: string, instances: readonly WaChapInstance[]) => {
    const name = circuitNameOf({ name: instance }, instances);
    let circuit = circuits.get(name);
    if (!circuit) {
      circuit = deps.circuitNamed(name);
      circuits.set(name, circuit);
    }
    return circuit;
  };
  return {
    async decide(notification) {
      const instances = await deps.instances();
      latest = instances;
      const routedTo = routeOf(notification, instances).name;
      const failover = deps.failover(instances);
      // The stand-in's circuit is read only when it matters: the routed instance's is open.
      const open = new Map<string, boolean>([[routedTo, await circuitOf(routedTo, instances).isOpen()]]);
      const standIn = failover[routedTo];
      if (open.get(routedTo) && standIn !== undefined) {
        open.set(standIn, await circuitOf(standIn, instances).isOpen());
      }
      return instanceDecision(routedTo, failover, (name) => open.get(name) ?? true);
    },
    circuit: (instance) => circuitOf(instance, latest),
  };
}
