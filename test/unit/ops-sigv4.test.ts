// The operations page signs its calls in the browser with WebCrypto (ops/sigv4.js). Node 22 has the same
// crypto.subtle, so the page's signer is run here and held to the AWS SDK's signer (@smithy/signature-v4) for the
// same request, and to the local door's verifier (which checks as API Gateway's IAM authorization does).
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { verifySigV4 } from '../../local/doors/sigv4.js';
import { canonicalQuery, type SignableRequest, signRequest } from '../../ops/sigv4.js';

const DATE = new Date('2026-11-27T18:04:05.123Z');
const LOCAL = { accessKeyId: 'local', secretAccessKey: 'local' };
const TEMPORARY = {
  accessKeyId: 'ASIAEXAMPLE0000000000',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCWV1LXdlc3QtMSJHMEUCIQ+token=',
};

const REQUESTS: [string, SignableRequest][] = [
  ['a plain GET', { method: 'GET', host: '127.0.0.1:3000', path: '/v1/provider/circuit' }],
  [
    'a list whose query needs encoding (commas, spaces, accents, a plus), out of order',
    {
      method: 'GET',
      host: 'abc123.execute-api.eu-west-1.amazonaws.com',
      path: '/prod/v1/notifications',
      query: [
        ['status', 'failed,permanent_failure'],
        ['limit', '20'],
        ['category', 'colis arrivé'],
        ['phone', '+22370123456'],
        ['from', '2026-11-26T18:04:05.123Z'],
      ],
    },
  ],
  [
    'a JSON POST',
    {
      method: 'POST',
      host: '127.0.0.1:3000',
      path: '/v1/notifications/01KB8Z4N6QAAAAAAAAAAAAAAAA/cancel',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'commande annulée — doublon' }),
    },
  ],
  [
    'a path segment with characters to encode',
    { method: 'GET', host: 'localhost:3000', path: '/v1/notifications/01KB%20X(1)' },
  ],
];

/** The SDK's Authorization header for the same request. */
async function sdkAuthorization(
  request: SignableRequest,
  credentials: typeof LOCAL & { sessionToken?: string },
  region: string,
) {
  const query: Record<string, string> = Object.fromEntries(request.query as [string, string][]);
  const signer = new SignatureV4({ credentials, region, service: 'execute-api', sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'https:',
      hostname: request.host.split(':')[0]!,
      path: request.path,
      query,
      headers: { host: request.host, ...request.headers },
      ...(request.body === undefined ? {} : { body: request.body }),
    },
    { signingDate: DATE },
  );
  return signed.headers.authorization;
}

describe('the operations page signer (ops/sigv4.js)', () => {
  it.each(REQUESTS)('signs %s exactly as the AWS SDK does', async (_, request) => {
    const page = await signRequest(request, LOCAL, { region: 'us-east-1', date: DATE });
    expect(page.headers.authorization).toBe(await sdkAuthorization({ query: [], ...request }, LOCAL, 'us-east-1'));
  });

  it('signs temporary credentials (a Cognito identity pool hands out these) with their session token', async () => {
    const [, request] = REQUESTS[1]!;
    const page = await signRequest(request, TEMPORARY, { region: 'eu-west-1', date: DATE });

    expect(page.headers['x-amz-security-token']).toBe(TEMPORARY.sessionToken);
    expect(page.headers.authorization).toContain('x-amz-security-token');
    expect(page.headers.authorization).toBe(await sdkAuthorization(request, TEMPORARY, 'eu-west-1'));
  });

  it('sends the query string it signed: sorted and percent-encoded, a space as %20, never +', () => {
    expect(
      canonicalQuery([
        ['status', 'failed,permanent_failure'],
        ['category', 'a b+c'],
        ['limit', '5'],
      ]),
    ).toBe('category=a%20b%2Bc&limit=5&status=failed%2Cpermanent_failure');
    expect(canonicalQuery({ b: '2', a: '1', skipped: undefined as unknown as string })).toBe('a=1&b=2');
  });

  it.each(REQUESTS)('passes the local door’s verifier for %s', async (_, request) => {
    const page = await signRequest(request, LOCAL, { region: 'us-east-1', date: new Date() });
    const headers: Record<string, string> = { host: request.host };
    for (const [name, value] of Object.entries(page.headers)) headers[name.toLowerCase()] = value;

    const verdict = await verifySigV4(
      {
        method: request.method,
        rawPath: request.path,
        rawQuery: page.query,
        headers,
        body: Buffer.from(request.body ?? ''),
      },
      {
        principals: {
          local: { secretAccessKey: 'local', userArn: 'arn:aws:iam::000000000000:user/local', caller: 'AIDA' },
        },
        region: 'us-east-1',
        service: 'execute-api',
      },
    );

    expect(verdict).toMatchObject({ ok: true, caller: { userArn: 'arn:aws:iam::000000000000:user/local' } });
  });

  it('is refused by the verifier once the body is changed after signing', async () => {
    const [, request] = REQUESTS[2]!;
    const page = await signRequest(request, LOCAL, { region: 'us-east-1', date: new Date() });
    const headers: Record<string, string> = { host: request.host, ...page.headers };

    const verdict = await verifySigV4(
      { method: 'POST', rawPath: request.path, rawQuery: '', headers, body: Buffer.from('{"reason":"autre"}') },
      {
        principals: {
          local: { secretAccessKey: 'local', userArn: 'arn:aws:iam::000000000000:user/local', caller: 'AIDA' },
        },
        region: 'us-east-1',
        service: 'execute-api',
      },
    );

    expect(verdict).toMatchObject({ ok: false, errorType: 'InvalidSignatureException' });
  });
});
