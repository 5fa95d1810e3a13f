// A door in front of the local SES that can refuse mail as SES does (MessageRejected, e.g. an address
// not verified yet), so that tests reach what follows a failed alert email: the alert's cooldown is
// given back. Everything else passes through to the SES engine untouched.
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SesDoor {
  /** The endpoint to give the functions (AWS_ENDPOINT_URL_SES). */
  url: string;
  /** Where accepted requests go: the SES engine's endpoint, known once the stack has started. */
  forwardTo(endpoint: string): void;
  refuse(refusing: boolean): void;
  /** Answers every send with SES's Throttling (the SDK retries it a few times itself, then gives up). */
  throttle(throttling: boolean): void;
  close(): Promise<void>;
}

// SES v1 speaks the query protocol: errors are XML, and MessageRejected is a client error the SDK does not retry.
const REJECTION =
  '<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type>' +
  '<Code>MessageRejected</Code><Message>Email address is not verified.</Message></Error>' +
  '<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>';

const THROTTLING =
  '<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type>' +
  '<Code>Throttling</Code><Message>Maximum sending rate exceeded.</Message></Error>' +
  '<RequestId>00000000-0000-0000-0000-000000000001</RequestId></ErrorResponse>';

export async function startSesDoor(): Promise<SesDoor> {
  let target: string | undefined;
  let refusing = false;
  let throttling = false;
  const server = createServer((incoming, answer) => {
    if (throttling) {
      incoming.resume();
      answer.writeHead(400, { 'content-type': 'text/xml' }).end(THROTTLING);
      return;
    }
    if (refusing || !target) {
      incoming.resume();
      answer.writeHead(400, { 'content-type': 'text/xml' }).end(REJECTION);
      return;
    }
    const upstream = request(
      new URL(incoming.url ?? '/', target),
      { method: incoming.method, headers: incoming.headers },
      (reply) => {
        answer.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(answer);
      },
    );
    upstream.on('error', (error) => answer.writeHead(502).end(String(error)));
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    forwardTo: (endpoint) => {
      target = endpoint;
    },
    refuse: (value) => {
      refusing = value;
    },
    throttle: (value) => {
      throttling = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
