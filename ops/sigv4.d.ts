// The types of ops/sigv4.js, for the tests that hold it to the AWS SDK's signer (the page itself has no build step).
export interface SignableRequest {
  method: string;
  /** host[:port], as the Host header the browser sends. */
  host: string;
  /** The path as in a URL (already percent-encoded). */
  path: string;
  query?: readonly (readonly [string, string])[] | Record<string, string>;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export function sha256Hex(data: string | Uint8Array): Promise<string>;
export function uriEscape(text: string): string;
export function amzDate(date: Date): string;
export function canonicalQuery(query: SignableRequest['query']): string;
export function canonicalPath(path: string): string;
export function signRequest(
  request: SignableRequest,
  credentials: Credentials,
  scope: { region: string; service?: string; date?: Date },
): Promise<{ headers: Record<string, string>; query: string; canonical: string; stringToSign: string }>;
