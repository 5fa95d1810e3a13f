import {
  CreateSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSecretsManager, startSecretsManager } from '../../local/engines/secrets-manager.js';
import { LOCAL_CREDENTIALS } from '../support/engines.js';

let engine: RunningSecretsManager;
let client: SecretsManagerClient;
let counter = 0;
/** Each test its own secret, so counts and versions do not leak between tests. */
const freshName = () => `wachap-notifications/test/secret-${++counter}`;

beforeAll(async () => {
  engine = await startSecretsManager();
  // One attempt: the outage test asserts what a single call sees, not the SDK's retry schedule.
  client = new SecretsManagerClient({
    endpoint: engine.endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
});
afterEach(() => engine.setAvailable(true));
afterAll(async () => {
  client.destroy();
  await engine.stop();
});

const target = (operation: string, body: string) =>
  fetch(engine.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `secretsmanager.${operation}` },
    body,
  });

describe('fake Secrets Manager', () => {
  it('answers GetSecretValue from the real SDK, by name and by ARN', async () => {
    const name = freshName();
    const arn = engine.putSecret(name, '{"instanceId":"I1","accessToken":"T1"}');

    const byName = await client.send(new GetSecretValueCommand({ SecretId: name }));
    const byArn = await client.send(new GetSecretValueCommand({ SecretId: arn }));

    expect(arn).toMatch(new RegExp(`^arn:aws:secretsmanager:us-east-1:\\d{12}:secret:${name}-[0-9a-f]{6}$`));
    expect(byName).toMatchObject({ ARN: arn, Name: name, SecretString: '{"instanceId":"I1","accessToken":"T1"}' });
    expect(byName.VersionId).toEqual(expect.any(String));
    expect(byName.CreatedDate).toBeInstanceOf(Date);
    expect(byArn.SecretString).toBe(byName.SecretString);
    expect(engine.reads(name)).toBe(2);
    expect(engine.reads(arn)).toBe(2);
  });

  it('serves a new version once the secret is renewed, and keeps the previous one as AWSPREVIOUS', async () => {
    const name = freshName();
    engine.putSecret(name, 'old');
    const before = await client.send(new GetSecretValueCommand({ SecretId: name }));

    engine.putSecret(name, 'new');
    const after = await client.send(new GetSecretValueCommand({ SecretId: name }));
    const previous = await client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }));
    const pinned = await client.send(new GetSecretValueCommand({ SecretId: name, VersionId: before.VersionId }));

    expect(after.SecretString).toBe('new');
    expect(after.VersionId).not.toBe(before.VersionId);
    expect(after.VersionStages).toEqual(['AWSCURRENT']);
    expect(previous).toMatchObject({ SecretString: 'old', VersionStages: ['AWSPREVIOUS'] });
    expect(pinned.SecretString).toBe('old');
  });

  it('creates and renews secrets through the SDK, as an admin would with the CLI', async () => {
    const name = freshName();

    const created = await client.send(new CreateSecretCommand({ Name: name, SecretString: 'v1' }));
    const put = await client.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: 'v2' }));
    const read = await client.send(new GetSecretValueCommand({ SecretId: name }));

    expect(put).toMatchObject({ ARN: created.ARN, Name: name, VersionStages: ['AWSCURRENT'] });
    expect(read).toMatchObject({ SecretString: 'v2', VersionId: put.VersionId });
    await expect(client.send(new CreateSecretCommand({ Name: name, SecretString: 'v3' }))).rejects.toBeInstanceOf(
      ResourceExistsException,
    );
  });

  it('refuses an unknown secret with ResourceNotFoundException, which the SDK turns into its class', async () => {
    const missing = client.send(new GetSecretValueCommand({ SecretId: 'no-such-secret' }));

    await expect(missing).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(missing).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    expect(engine.reads('no-such-secret')).toBe(1);
  });

  it('answers InternalServiceError while down, counts the attempted reads, and serves again once back', async () => {
    const name = freshName();
    engine.putSecret(name, 'value');
    engine.setAvailable(false);

    const during = client.send(new GetSecretValueCommand({ SecretId: name }));

    await expect(during).rejects.toBeInstanceOf(InternalServiceError);
    await expect(during).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect(engine.reads(name)).toBe(1);

    engine.setAvailable(true);
    const after = await client.send(new GetSecretValueCommand({ SecretId: name }));

    expect(after.SecretString).toBe('value');
    expect(engine.reads(name)).toBe(2);
  });

  it('names the missing field of a malformed request, and refuses operations it does not know', async () => {
    const malformed = await target('GetSecretValue', '{"VersionId":"x"}');
    const notJson = await target('GetSecretValue', 'SecretId=x');
    const unknown = await target('DeleteSecret', '{"SecretId":"x"}');

    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({
      __type: 'ValidationException',
      message: expect.stringContaining('SecretId'),
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ __type: 'SerializationException' });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });
});
