// The operations page's files and how they are served: nothing in them points elsewhere (no CDN, no font, no script
// from another host: the page works without a network beyond its own API), and the answer for each path is the
// file with its type, config.json, a redirect to /ops/ or a 404, always under a content security policy that keeps
// the page to its own origin (and Cognito's endpoints, on AWS).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPS_FILES, type OpsConfig, operationsPageAnswer, opsFileReader } from '../../shared/http/operations-page.js';

const OPS_DIRECTORY = join(import.meta.dirname, '../../ops');
const LOCAL: OpsConfig = { apiBase: '/v1', region: 'us-east-1', auth: 'static' };
const AWS: OpsConfig = {
  auth: 'cognito',
  apiBase: '/prod/v1',
  region: 'eu-west-1',
  userPoolId: 'eu-west-1_AbCdEf123',
  clientId: '1example23456789',
  identityPoolId: 'eu-west-1:11111111-2222-3333-4444-555555555555',
};
const answer = (subPath: string, config: OpsConfig = LOCAL) =>
  operationsPageAnswer(
    { subPath, pagePath: `/prod/ops${subPath}` },
    { config, readFile: opsFileReader(OPS_DIRECTORY) },
  );

describe('the operations page files', () => {
  const served = Object.keys(OPS_FILES);

  it('are exactly the files of ops/ (besides the signer’s type declarations for the tests)', () => {
    expect(
      readdirSync(OPS_DIRECTORY)
        .filter((name) => !name.endsWith('.d.ts'))
        .sort(),
    ).toEqual([...served].sort());
  });

  it.each(served)(
    '%s names no other host: its only absolute URL is the Cognito endpoint, built from the region',
    (name) => {
      const text = readFileSync(join(OPS_DIRECTORY, name), 'utf8');
      const absolute = [...text.matchAll(/(?:https?:)?\/\/[^\s'"`)<>]+/g)].map((m) => m[0]);
      // Comments (// …) match too: the URLs are what has a scheme; protocol-relative references are checked below.
      const urls = absolute.filter((url) => url.startsWith('http'));
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the page's source text, its placeholders included.
      const cognito = 'https://${host}.${session.config.region}.amazonaws.com/';
      expect(urls).toEqual(name === 'app.js' ? [cognito] : []);
      expect(text).not.toMatch(/(?:src|href)\s*=\s*["']\/\//);
      expect(text).not.toMatch(/url\(\s*["']?(?:https?:)?\/\//);
      expect(text).not.toMatch(/@import/);
    },
  );

  it('load their scripts and styles from the page’s own directory', () => {
    const html = readFileSync(join(OPS_DIRECTORY, 'index.html'), 'utf8');
    const references = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(references.sort()).toEqual(['app.js', 'data:,', 'style.css']);
    expect(readFileSync(join(OPS_DIRECTORY, 'app.js'), 'utf8')).toMatch(/from '\.\/sigv4\.js'/);
  });
});

describe('operationsPageAnswer', () => {
  it('answers each file with its type, and the page itself for /ops/', () => {
    expect(answer('/')).toMatchObject({ statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8' } });
    expect(answer('/').body).toContain('<script type="module" src="app.js">');
    expect(answer('/app.js').headers).toMatchObject({ 'content-type': 'text/javascript; charset=utf-8' });
    expect(answer('/style.css').headers).toMatchObject({ 'content-type': 'text/css; charset=utf-8' });
  });

  it('redirects /ops to /ops/, so that the page’s relative links resolve under it', () => {
    expect(answer('')).toMatchObject({ statusCode: 301, headers: { location: '/prod/ops/' } });
  });

  it('says how to sign in: the static local key locally, Cognito on AWS', () => {
    expect(JSON.parse(answer('/config.json').body)).toEqual(LOCAL);
    expect(JSON.parse(answer('/config.json', AWS).body)).toEqual(AWS);
    expect(answer('/config.json').headers).toMatchObject({ 'cache-control': 'no-store' });
  });

  it.each(['/package.json', '/../package.json', '/%2e%2e/README.md', '/sigv4.d.ts', '/index.html/x', '/.env'])(
    'answers 404 for %s: only the listed files are ever read',
    (subPath) => {
      expect(answer(subPath).statusCode).toBe(404);
    },
  );

  it('keeps the page to its origin, and lets it reach Cognito only where it signs in with Cognito', () => {
    const local = String(answer('/').headers?.['content-security-policy']);
    expect(local).toContain("default-src 'none'");
    expect(local).toContain("connect-src 'self';");
    expect(local).toContain("script-src 'self'");
    const aws = String(answer('/', AWS).headers?.['content-security-policy']);
    expect(aws).toContain(
      "connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com https://cognito-identity.eu-west-1.amazonaws.com;",
    );
    expect(answer('/').headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
  });
});

describe('the operations page function (AWS)', () => {
  it('tells the page to sign in with the stack’s Cognito pools and to call the API on the stage it came through', async () => {
    Object.assign(process.env, {
      AWS_REGION: 'eu-west-1',
      OPS_USER_POOL_ID: AWS.auth === 'cognito' ? AWS.userPoolId : '',
      OPS_USER_POOL_CLIENT_ID: AWS.auth === 'cognito' ? AWS.clientId : '',
      OPS_IDENTITY_POOL_ID: AWS.auth === 'cognito' ? AWS.identityPoolId : '',
    });
    const { handler } = await import('../../functions/operations-page/handler.js');
    const event = (path: string, callerPath: string) =>
      ({ path, requestContext: { path: callerPath } }) as unknown as Parameters<typeof handler>[0];

    const config = await handler(event('/ops/config.json', '/prod/ops/config.json'));
    expect(JSON.parse(config.body)).toEqual(AWS);
    // A custom domain's base path instead of the stage.
    const mapped = await handler(event('/ops/config.json', '/notifications-api/ops/config.json'));
    expect(JSON.parse(mapped.body).apiBase).toBe('/notifications-api/v1');
    expect(await handler(event('/ops', '/prod/ops'))).toMatchObject({
      statusCode: 301,
      headers: { location: '/prod/ops/' },
    });
  });
});
