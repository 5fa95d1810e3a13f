// A caller's callback receiver, misbehaving as real ones do: it answers 2xx, or 500, or never (a hung process), as the
// test scripts it, one behaviour per request in order and then its default. It keeps every request it got, raw, so
// that the test verifies the signature as a caller would (new Webhook(secret).verify on the body as received).
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceiverBehaviour = 'ok' | 'hang' | number;

export interface ReceivedCallback {
  headers: IncomingHttpHeaders;
  body: string;
  path: string;
  /** What the receiver answered (hang: nothing). */
  answered: ReceiverBehaviour;
}

export interface CallbackReceiver {
  /** http://127.0.0.1:<port>/hooks/<name> */
  url(name?: string): string;
  /** The next requests' behaviours, in order; after them, the default. */
  script(...behaviours: ReceiverBehaviour[]): void;
  setDefault(behaviour: ReceiverBehaviour): void;
  received(): ReceivedCallback[];
  /** The webhook-id headers received, in order. */
  ids(): string[];
  close(): Promise<void>;
}

export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const requests: ReceivedCallback[] = [];
  const scripted: ReceiverBehaviour[] = [];
  const hung = new Set<ServerResponse>();
  let fallback: ReceiverBehaviour = 'ok';
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const behaviour = scripted.shift() ?? fallback;
      requests.push({
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        path: request.url ?? '/',
        answered: behaviour,
      });
      if (behaviour === 'hang') {
        hung.add(response);
        return;
      }
      const status = behaviour === 'ok' ? 204 : behaviour;
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? '' : 'receiver failed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (name = 'default') => `http://127.0.0.1:${port}/hooks/${name}`,
    script: (...behaviours) => scripted.push(...behaviours),
    setDefault: (behaviour) => {
      fallback = behaviour;
    },
    received: () => [...requests],
    ids: () => requests.map((r) => String(r.headers['webhook-id'])),
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of hung) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: a connection to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
