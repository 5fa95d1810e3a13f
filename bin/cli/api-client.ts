// The operator API's client: every request signed with SigV4 (service execute-api) as AWS's own clients sign
// them, for the local door (the local credentials) or a deployed stage's API (the caller's AWS credentials, from
// the default chain: AWS_PROFILE, environment variables, SSO, ~/.aws…; IAM decides with execute-api:Invoke).
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { API_VERSION_PATH } from '../../functions/catalog.js';
import { UsageError } from './errors.js';
import { isUnreachable } from './invoke.js';
import { cloudFormationClientFor, describeStage, stackOutput } from './stage.js';

type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/** What the local API door (`npm start`) verifies signatures with, in its region. */
export const LOCAL_API_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_API_REGION = 'us-east-1';
const DEFAULT_API_PORT = 3000;

export interface ApiTarget {
  /** The API's root: http://127.0.0.1:3000 locally, https://<id>.execute-api.<region>.amazonaws.com/<stage> on AWS. */
  baseUrl: string;
  region: string;
  credentials: Credentials;
  /** The local stack's door, for the hint when it does not answer. */
  isLocalDefault: boolean;
  /** The stage, when the API was found by --stage (for the 403 hint). */
  stage?: string;
}

/** The local stack's API door: http://127.0.0.1:${API_PORT:-3000}, as `npm start` opens it. */
export function localApiTarget(env: NodeJS.ProcessEnv = process.env): ApiTarget {
  const port = env.API_PORT?.trim() ? Number(env.API_PORT) : DEFAULT_API_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new UsageError(`API_PORT must be a port number, got '${env.API_PORT}'`);
  }
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    region: LOCAL_API_REGION,
    credentials: LOCAL_API_CREDENTIALS,
    isLocalDefault: true,
  };
}

/**
 * A deployed stage's API: its URL from the stack's ApiUrl output, its region from the stack, and the credentials of
 * the default chain (with --profile when given), resolved by the SDK as for any AWS call.
 */
export async function stageApiTarget(
  stage: string,
  flags: { region?: string | undefined; profile?: string | undefined },
): Promise<ApiTarget> {
  const client = cloudFormationClientFor(flags);
  try {
    const stack = await describeStage(stage, client);
    // The output is the ingest URL (…/<stage>/v1/notifications; …/<stage>/notifications from a stack deployed
    // before /v1): the API's root is what precedes the version. The client adds /v1 to every route.
    const baseUrl = stackOutput(stack, 'ApiUrl')
      .replace(/\/+$/, '')
      .replace(/\/notifications$/, '')
      .replace(new RegExp(`${API_VERSION_PATH}$`), '');
    // The CloudFormation client's credential chain: the one every AWS call of this command uses.
    return { baseUrl, region: stack.region, credentials: client.config.credentials, isLocalDefault: false, stage };
  } finally {
    client.destroy();
  }
}

/** RFC 3986 encoding, as SigV4 canonicalises a query: what is sent is then exactly what was signed. */
const escapeUri = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export type Query = Record<string, string | undefined>;

/** A 4xx or 5xx answer from the API: its status and what it said. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.detail ?? body.message ?? body.code ?? body.error ?? `HTTP ${status}`);
  }
}

/** A problem document (RFC 9457), or an older body with only the deprecated members (`error`, `message`, `details`). */
export interface ApiErrorBody {
  code?: string;
  detail?: string;
  errors?: { path: string; message: string }[];
  error?: string;
  message?: string;
  details?: { path: string; message: string }[];
  /** The notification's status, on a 409. */
  notificationStatus?: string;
  inFlight?: boolean;
}

/** The request never reached the API (as opposed to an answer saying no). */
export class ApiUnreachableError extends Error {
  override name = 'ApiUnreachableError';
  constructor(
    readonly url: string,
    readonly code: string,
  ) {
    super(`could not reach ${url} (${code})`);
  }
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** How long to wait for the whole answer; the export streams a page within it. */
  timeoutMs?: number;
}

export class OperatorApiClient {
  private readonly signer: SignatureV4;
  private readonly base: URL;

  constructor(
    readonly target: ApiTarget,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.base = new URL(target.baseUrl);
    this.signer = new SignatureV4({
      service: 'execute-api',
      region: target.region,
      credentials: target.credentials,
      sha256: Sha256,
    });
  }

  /** One signed request; any answer (2xx or not) comes back as a Response, a network failure as ApiUnreachableError. */
  async send(method: 'GET' | 'POST', path: string, options: RequestOptions = {}): Promise<Response> {
    const query = Object.fromEntries(
      Object.entries(options.query ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const queryString = Object.keys(query)
      .sort()
      .map((key) => `${escapeUri(key)}=${escapeUri(query[key]!)}`)
      .join('&');
    // The operator routes live under the API's version only (/v1/notifications/…).
    const fullPath = `${this.base.pathname.replace(/\/+$/, '')}${API_VERSION_PATH}${path}`;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const signed = await this.signer.sign({
      method,
      protocol: this.base.protocol,
      hostname: this.base.hostname,
      ...(this.base.port ? { port: Number(this.base.port) } : {}),
      path: fullPath,
      query,
      headers: {
        host: this.base.host,
        accept: path.endsWith('.csv') ? 'text/csv' : 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    });
    // fetch sets Host itself, from the same URL: the signed value.
    const { host: _host, ...headers } = signed.headers;
    const url = `${this.base.origin}${fullPath}${queryString ? `?${queryString}` : ''}`;
    try {
      return await this.fetchImpl(url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      if (isUnreachable(error) || isUnreachable(cause)) {
        const code = (cause as { code?: string } | undefined)?.code ?? (error as Error).name;
        throw new ApiUnreachableError(`${this.base.origin}${fullPath}`, code);
      }
      throw error;
    }
  }

  /** A JSON request whose 2xx answer is parsed; a 4xx or 5xx throws an ApiError. */
  async json<T>(method: 'GET' | 'POST', path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) throw apiErrorOf(response.status, parsed, text);
    if (parsed === undefined) throw new ApiError(response.status, { message: 'the API answered without JSON' });
    return parsed as T;
  }

  /** A request whose 4xx or 5xx answer becomes an ApiError; a 2xx is handed back unread (a CSV page to stream). */
  async stream(path: string, options: RequestOptions = {}): Promise<Response> {
    const response = await this.send('GET', path, options);
    if (response.ok) return response;
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    throw apiErrorOf(response.status, parsed, text);
  }
}

function apiErrorOf(status: number, parsed: unknown, text: string): ApiError {
  if (typeof parsed === 'object' && parsed !== null) return new ApiError(status, parsed as ApiErrorBody);
  // API Gateway's own answers are JSON; anything else is shown briefly, never as a page of HTML.
  const excerpt = text.trim().slice(0, 200);
  return new ApiError(status, excerpt ? { message: excerpt } : {});
}
