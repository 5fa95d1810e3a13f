// Secrets Manager on a laptop: a small fake speaking the AWS JSON 1.1 protocol the SDK uses (POST /,
// X-Amz-Target: secretsmanager.<Operation>) for GetSecretValue, CreateSecret and PutSecretValue. Enough for
// the functions to read the WaChap secret, for a test or an admin (aws --endpoint-url) to renew it while the
// functions are warm, and to take the store down as an outage would. Signatures are not checked.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { readTextBody } from '../doors/http.js';

export interface RunningSecretsManager {
  endpoint: string;
  /** Creates the secret, or stores a new current version of it (as PutSecretValue); returns its ARN. */
  putSecret(name: string, value: string): string;
  /** GetSecretValue calls received (answered or not), for one secret given by name or ARN, or for all. */
  reads(secretId?: string): number;
  /** While unavailable, every call answers 500 InternalServiceError, as during an outage of the service. */
  setAvailable(available: boolean): void;
  stop(): Promise<void>;
}

export interface SecretsManagerOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  region?: string;
  accountId?: string;
}

interface SecretVersion {
  versionId: string;
  value: string;
  createdAt: Date;
}

interface Secret {
  name: string;
  arn: string;
  /** Oldest first: the last is AWSCURRENT, the one before it AWSPREVIOUS. */
  versions: SecretVersion[];
}

class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 1024 * 1024;
const TARGET_PREFIX = 'secretsmanager.';

const secretId = z.string().min(1).max(2048);
const GetSecretValueSchema = z.looseObject({
  SecretId: secretId,
  VersionId: z.string().min(1).optional(),
  VersionStage: z.string().min(1).optional(),
});
const CreateSecretSchema = z.looseObject({ Name: z.string().min(1).max(512), SecretString: z.string().optional() });
const PutSecretValueSchema = z.looseObject({ SecretId: secretId, SecretString: z.string() });

export async function startSecretsManager(options: SecretsManagerOptions = {}): Promise<RunningSecretsManager> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const secrets = new Map<string, Secret>();
  const readLog: string[] = [];
  let available = true;

  /** A secret is named by its name or its full ARN, as in AWS. */
  const find = (id: string): Secret | undefined =>
    secrets.get(id) ?? [...secrets.values()].find((secret) => secret.arn === id);

  function mustFind(id: string): Secret {
    const secret = find(id);
    if (!secret) throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  }

  function create(name: string, value: string | undefined): Secret {
    if (secrets.has(name)) {
      throw new AwsError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    }
    // AWS appends six random characters to the name in the ARN.
    const suffix = randomBytes(3).toString('hex');
    const secret: Secret = {
      name,
      arn: `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${suffix}`,
      versions: [],
    };
    if (value !== undefined) addVersion(secret, value);
    secrets.set(name, secret);
    return secret;
  }

  function addVersion(secret: Secret, value: string): SecretVersion {
    const version = { versionId: randomUUID(), value, createdAt: new Date() };
    secret.versions.push(version);
    return version;
  }

  const operations: Record<string, (body: unknown) => unknown> = {
    GetSecretValue(body) {
      const request = parse(GetSecretValueSchema, body);
      readLog.push(find(request.SecretId)?.name ?? request.SecretId);
      const secret = mustFind(request.SecretId);
      const version = pickVersion(secret, request.VersionId, request.VersionStage);
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.versionId,
        SecretString: version.value,
        VersionStages: [version === secret.versions.at(-1) ? 'AWSCURRENT' : 'AWSPREVIOUS'],
        // The JSON protocol carries timestamps as epoch seconds.
        CreatedDate: version.createdAt.getTime() / 1000,
      };
    },
    CreateSecret(body) {
      const request = parse(CreateSecretSchema, body);
      const secret = create(request.Name, request.SecretString);
      return { ARN: secret.arn, Name: secret.name, VersionId: secret.versions.at(-1)?.versionId };
    },
    PutSecretValue(body) {
      const request = parse(PutSecretValueSchema, body);
      const secret = mustFind(request.SecretId);
      const version = addVersion(secret, request.SecretString);
      return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: ['AWSCURRENT'] };
    },
  };

  async function handle(request: IncomingMessage): Promise<unknown> {
    const target = String(request.headers['x-amz-target'] ?? '');
    const raw = await readTextBody(request, MAX_BODY_BYTES);
    if (request.method !== 'POST' || !target.startsWith(TARGET_PREFIX)) {
      throw new AwsError('UnknownOperationException', 'expected POST / with X-Amz-Target: secretsmanager.<Operation>');
    }
    const operation = operations[target.slice(TARGET_PREFIX.length)];
    if (!operation) throw new AwsError('UnknownOperationException', `${target} is not supported by this fake`);
    if (raw === undefined) throw new AwsError('ValidationException', 'request body larger than 1 MB');
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new AwsError('SerializationException', 'request body is not JSON');
    }
    // Counted before the outage check: a read attempted during an outage is still a call made.
    if (!available) {
      if (target === `${TARGET_PREFIX}GetSecretValue`) readLog.push(secretNameOf(body));
      throw new AwsError('InternalServiceError', 'An error occurred on the server side.', 500);
    }
    return operation(body);
  }

  function secretNameOf(body: unknown): string {
    const parsed = GetSecretValueSchema.safeParse(body);
    if (!parsed.success) return '';
    return find(parsed.data.SecretId)?.name ?? parsed.data.SecretId;
  }

  const server = createServer((request, response) => {
    handle(request).then(
      (result) => reply(response, 200, result),
      (error: unknown) => {
        const failure =
          error instanceof AwsError ? error : new AwsError('InternalServiceError', 'fake Secrets Manager failed', 500);
        reply(response, failure.status, { __type: failure.type, message: failure.message });
      },
    );
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://${host}:${port}`,
    putSecret(name, value) {
      const existing = find(name);
      if (!existing) return create(name, value).arn;
      addVersion(existing, value);
      return existing.arn;
    },
    reads(id) {
      if (id === undefined) return readLog.length;
      const name = find(id)?.name ?? id;
      return readLog.filter((read) => read === name).length;
    },
    setAvailable(next) {
      available = next;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function pickVersion(secret: Secret, versionId: string | undefined, stage: string | undefined): SecretVersion {
  const { versions } = secret;
  const version = versionId
    ? versions.find((candidate) => candidate.versionId === versionId)
    : stage === undefined || stage === 'AWSCURRENT'
      ? versions.at(-1)
      : stage === 'AWSPREVIOUS'
        ? versions.at(-2)
        : undefined;
  if (!version) {
    throw new AwsError(
      'ResourceNotFoundException',
      "Secrets Manager can't find the specified secret value for the version or staging label.",
    );
  }
  return version;
}

/** Validates a request body; the message names the field, as AWS's ValidationException does. */
function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
  throw new AwsError('ValidationException', problems.join('; '));
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response
    .writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    })
    .end(text);
}
