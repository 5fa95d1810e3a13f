// SES on a laptop: aws-ses-v2-local takes SES v1 SendEmail; its root page lists the emails and
// GET /store returns them as JSON.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as sesLocal from 'aws-ses-v2-local';

export interface RunningSes {
  endpoint: string;
  stop(): Promise<void>;
}

export interface StoredEmail {
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { text?: string; html?: string };
  at: number;
}

type Start = (config?: { host?: string; port?: number }) => Promise<Server>;
// A CommonJS module: under ESM its default export arrives wrapped once more.
const start = ((sesLocal as unknown as { default: { default?: Start } & Start }).default.default ??
  (sesLocal as unknown as { default: Start }).default) as Start;

export async function startSes(options: { port?: number; host?: string } = {}): Promise<RunningSes> {
  const host = options.host ?? '127.0.0.1';
  const server = await start({ host, port: options.port ?? 0 });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

export async function storedEmails(endpoint: string): Promise<StoredEmail[]> {
  const response = await fetch(`${endpoint}/store`);
  const body = (await response.json()) as { emails: StoredEmail[] };
  return body.emails;
}
