// The local API door checks SigV4 as API Gateway's IAM authorization does: a request signed by the AWS SDK's
// signer with the local credentials passes, and any change to what was signed, another secret, an unknown key, a
// stale date or another scope is refused with API Gateway's message.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPALS, LOCAL_SIGNING } from '../../local/doors/api-gateway.js';
import { queryOf, type SignedRequest, verifySigV4 } from '../../local/doors/sigv4.js';

const NOW = new Date('2026-03-02T10:00:00Z');
const HOST = '127.0.0.1:3000';
const options = { principals: LOCAL_PRINCIPALS, ...LOCAL_SIGNING, now: () => NOW };

interface Signing {
  method?: string;
  path?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
  service?: string;
  at?: Date;
  applyChecksum?: boolean;
}

/** What arrives at the door from a client that signed with the AWS SDK's signer. */
async function signedRequest(signing: Signing = {}): Promise<SignedRequest> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: signing.accessKeyId ?? 'local', secretAccessKey: signing.secretAccessKey ?? 'local' },
    region: signing.region ?? 'us-east-1',
    service: signing.service ?? 'execute-api',
    sha256: Sha256,
    applyChecksum: signing.applyChecksum ?? false,
  });
  const path = signing.path ?? '/notifications';
  const query = signing.query ?? {};
  const signed = await signer.sign(
    {
      method: signing.method ?? 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path,
      query,
      headers: { host: HOST, ...signing.headers },
      ...(signing.body === undefined ? {} : { body: signing.body }),
    },
    { signingDate: signing.at ?? NOW },
  );
  const rawQuery = new URLSearchParams(
    Object.entries(query).flatMap(([name, values]) => [values].flat().map((value): [string, string] => [name, value])),
  )
    .toString()
    .replace(/\+/g, '%20');
  return {
    method: signing.method ?? 'GET',
    rawPath: path,
    rawQuery,
    headers: Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), value])),
    body: Buffer.from(signing.body ?? ''),
  };
}

const refusal = async (request: SignedRequest) => {
  const verdict = await verifySigV4(request, options);
  if (verdict.ok) throw new Error('the signature was accepted');
  return verdict;
};

describe('verifySigV4', () => {
  it('accepts what the AWS SDK signs with the local credentials, and names the caller as API Gateway does', async () => {
    const verdict = await verifySigV4(
      await signedRequest({ query: { status: 'failed,permanent_failure', phone: '+22370123456', limit: '20' } }),
      options,
    );
    expect(verdict).toEqual({
      ok: true,
      caller: {
        accessKey: 'local',
        accountId: '000000000000',
        userArn: 'arn:aws:iam::000000000000:user/local',
        caller: 'AIDALOCALOPERATOR0000',
        user: 'AIDALOCALOPERATOR0000',
      },
    });
  });

  it('accepts a signed body, with or without x-amz-content-sha256, and a signed content type', async () => {
    for (const applyChecksum of [false, true]) {
      const request = await signedRequest({
        method: 'POST',
        path: '/notifications/retry',
        body: '{"status":"permanent_failure","dryRun":true}',
        headers: { 'content-type': 'application/json' },
        applyChecksum,
      });
      expect('x-amz-content-sha256' in request.headers).toBe(applyChecksum);
      expect((await verifySigV4(request, options)).ok, `applyChecksum ${applyChecksum}`).toBe(true);
    }
  });

  it('refuses an unsigned request as API Gateway does, whatever API key it carries', async () => {
    const request = await signedRequest();
    const { authorization: _, ...headers } = request.headers;
    expect(await refusal({ ...request, headers: { ...headers, 'x-api-key': 'local-dev-key' } })).toEqual({
      ok: false,
      errorType: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
  });

  it('refuses a request whose signature another secret made, showing what should have been signed', async () => {
    const verdict = await refusal(await signedRequest({ secretAccessKey: 'not-the-secret' }));
    expect(verdict.errorType).toBe('InvalidSignatureException');
    expect(verdict.message).toMatch(
      /^The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key/,
    );
    expect(verdict.message).toContain("The Canonical String for this request should have been\n'GET\n/notifications\n");
    expect(verdict.message).toContain("The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20260302T100000Z\n");
  });

  it.each([
    ['the method', (r: SignedRequest) => ({ ...r, method: 'POST' })],
    ['the path', (r: SignedRequest) => ({ ...r, rawPath: '/notifications/01KB8Z4N6QAAAAAAAAAAAAAAAA' })],
    ['the query string', (r: SignedRequest) => ({ ...r, rawQuery: r.rawQuery.replace('limit=20', 'limit=100') })],
    ['a signed header', (r: SignedRequest) => ({ ...r, headers: { ...r.headers, host: 'evil.example:3000' } })],
    ['the body', (r: SignedRequest) => ({ ...r, body: Buffer.from('{"status":"failed","dryRun":false}') })],
  ])('refuses a request whose %s changed after signing', async (_what, change) => {
    const request = await signedRequest({
      method: 'GET',
      query: { limit: '20' },
      body: '{"status":"failed","dryRun":true}',
    });
    expect((await verifySigV4(request, options)).ok).toBe(true);
    expect((await refusal(change(request))).errorType).toBe('InvalidSignatureException');
  });

  it('refuses a body that is not the one whose hash was signed in x-amz-content-sha256', async () => {
    const request = await signedRequest({ method: 'POST', body: '{"dryRun":true}', applyChecksum: true });
    expect((await refusal({ ...request, body: Buffer.from('{"dryRun":false}') })).errorType).toBe(
      'InvalidSignatureException',
    );
  });

  it('refuses an access key it does not know', async () => {
    expect(await refusal(await signedRequest({ accessKeyId: 'AKIAUNKNOWN' }))).toEqual({
      ok: false,
      errorType: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
  });

  it('refuses a signature more than 5 minutes old or ahead, as API Gateway does', async () => {
    const stale = await refusal(await signedRequest({ at: new Date(NOW.getTime() - 5 * 60_000 - 1000) }));
    expect(stale.message).toBe(
      'Signature expired: 20260302T095459Z is now earlier than 20260302T095500Z (20260302T100000Z - 5 min.)',
    );
    const ahead = await refusal(await signedRequest({ at: new Date(NOW.getTime() + 6 * 60_000) }));
    expect(ahead.message).toMatch(/^Signature not yet current: 20260302T100600Z is still later than/);
    expect((await verifySigV4(await signedRequest({ at: new Date(NOW.getTime() - 4 * 60_000) }), options)).ok).toBe(
      true,
    );
  });

  it('refuses a signature scoped to another service or region', async () => {
    expect((await refusal(await signedRequest({ service: 'lambda' }))).message).toBe(
      "Credential should be scoped to correct service: 'execute-api'. ",
    );
    expect((await refusal(await signedRequest({ region: 'eu-west-1' }))).message).toMatch(
      /^Credential should be scoped to a valid region/,
    );
  });

  it('refuses an Authorization header that is not SigV4, or lacks its parts', async () => {
    const request = await signedRequest();
    const bearer = await refusal({ ...request, headers: { ...request.headers, authorization: 'Bearer abc' } });
    expect(bearer).toMatchObject({ errorType: 'IncompleteSignatureException' });
    expect(bearer.message).toMatch(/^Invalid key=value pair \(missing equal-sign\) in Authorization header/);
    const partial = await refusal({
      ...request,
      headers: {
        ...request.headers,
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20260302/us-east-1/execute-api/aws4_request',
      },
    });
    expect(partial.message).toMatch(
      /^Authorization header requires 'Signature' parameter\. Authorization header requires 'SignedHeaders' parameter\./,
    );
    const { 'x-amz-date': _, ...undated } = request.headers;
    expect((await refusal({ ...request, headers: undated })).message).toMatch(
      /^Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header/,
    );
  });
});

describe('queryOf', () => {
  it('decodes names and values as SigV4 does (a + stays a +) and keeps repeated names', () => {
    expect(queryOf('phone=%2B22370123456&status=failed&status=sent&flag&a+b=c+d')).toEqual({
      phone: '+22370123456',
      status: ['failed', 'sent'],
      flag: '',
      'a+b': 'c+d',
    });
  });
});
