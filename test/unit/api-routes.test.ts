// The local API door routes as API Gateway does: a {param} matches one segment and reaches the function as a
// path parameter; anything else is not a route.
import { describe, expect, it } from 'vitest';
import { API_BINARY_MEDIA_TYPES, apiRoutes } from '../../functions/catalog.js';
import { matchRoute, proxyBody } from '../../local/doors/api-gateway.js';

const routes = [
  { method: 'POST', resource: '/notifications', target: 'ingest' as const },
  { method: 'GET', resource: '/notifications/{id}', target: 'ingest' as const },
  { method: 'POST', resource: '/notifications/{id}/cancel', target: 'ingest' as const },
];

describe('matchRoute', () => {
  it('matches a resource without parameters, with or without a trailing slash', () => {
    expect(matchRoute(routes, '/notifications')).toEqual({ route: routes[0], pathParameters: {} });
    expect(matchRoute(routes, '/notifications/')).toEqual({ route: routes[0], pathParameters: {} });
  });

  it('gives each {param} the segment it matched, decoded', () => {
    expect(matchRoute(routes, '/notifications/01KB%20X')).toEqual({
      route: routes[1],
      pathParameters: { id: '01KB X' },
    });
    expect(matchRoute(routes, '/notifications/42/cancel')?.pathParameters).toEqual({ id: '42' });
  });

  it.each(['/', '/notifications/42/retry', '/notifications//cancel', '/other', '/notifications/%E0%A4%A'])(
    'finds no route for %s',
    (path) => {
      expect(matchRoute(routes, path)).toBeUndefined();
    },
  );
});

describe('matchRoute on the REST API', () => {
  const routes = apiRoutes();

  it('prefers a static resource to a {param} at the same place, as API Gateway does', () => {
    expect(matchRoute(routes, '/v1/notifications/export.csv', 'GET')).toMatchObject({
      route: { resource: '/v1/notifications/export.csv', target: 'operator-read' },
      pathParameters: {},
    });
    expect(matchRoute(routes, '/v1/notifications/retry', 'POST')).toMatchObject({
      route: { resource: '/v1/notifications/retry', target: 'operator-actions' },
      pathParameters: {},
    });
    expect(matchRoute(routes, '/v1/notifications/01KB8Z4N6QAAAAAAAAAAAAAAAA', 'GET')).toMatchObject({
      route: { resource: '/v1/notifications/{id}', target: 'operator-read' },
      pathParameters: { id: '01KB8Z4N6QAAAAAAAAAAAAAAAA' },
    });
    expect(matchRoute(routes, '/v1/notifications/retry/retry', 'POST')).toMatchObject({
      route: { resource: '/v1/notifications/{id}/retry' },
      pathParameters: { id: 'retry' },
    });
  });

  it('finds the resource first, then its method: a method the resource lacks is no route', () => {
    expect(matchRoute(routes, '/v1/notifications/retry', 'GET')).toBeUndefined();
    expect(matchRoute(routes, '/v1/notifications/export.csv', 'POST')).toBeUndefined();
    expect(matchRoute(routes, '/v1/notifications', 'POST')?.route.target).toBe('ingest');
    expect(matchRoute(routes, '/v1/notifications', 'GET')?.route.target).toBe('operator-read');
  });

  it('leaves the upstream its API key, puts every operator route behind IAM authorization, the contract open', () => {
    expect(routes.map((r) => `${r.auth} ${r.method} ${r.resource}`).sort()).toEqual([
      'apiKey POST /notifications',
      'apiKey POST /v1/notifications',
      'iam GET /v1/notifications',
      'iam GET /v1/notifications/counts',
      'iam GET /v1/notifications/export.csv',
      'iam GET /v1/notifications/{id}',
      'iam GET /v1/provider/circuit',
      'iam POST /v1/notifications/retry',
      'iam POST /v1/notifications/{id}/cancel',
      'iam POST /v1/notifications/{id}/retry',
      'iam POST /v1/provider/circuit',
      'none GET /v1/openapi.json',
    ]);
    // A scheduled function serves routes too: the provider probe, the circuit's commands over HTTP.
    expect(matchRoute(routes, '/v1/provider/circuit', 'POST')?.route.target).toBe('provider-probe');
    // A static segment wins over the {id}: the counts are no notification.
    expect(matchRoute(routes, '/v1/notifications/counts', 'GET')?.route.target).toBe('operator-read');
    expect(matchRoute(routes, '/v1/notifications/counts', 'GET')?.route.resource).toBe('/v1/notifications/counts');
  });

  it('serves the API under /v1, and only the ingest route also at its old unversioned path, naming its successor', () => {
    expect(routes.filter((r) => !r.resource.startsWith('/v1/'))).toEqual([
      { method: 'POST', resource: '/notifications', auth: 'apiKey', target: 'ingest', successor: '/v1/notifications' },
    ]);
    expect(matchRoute(routes, '/notifications', 'GET')).toBeUndefined();
    expect(matchRoute(routes, '/notifications/01KB8Z4N6QAAAAAAAAAAAAAAAA', 'GET')).toBeUndefined();
  });
});

describe('proxyBody', () => {
  // Not UTF-8: decoding it as text would turn 0xFF into U+FFFD before the function could refuse it.
  const bytes = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xe9, 0x22, 0x7d]);

  it("hands any body over as API Gateway does with the API's binary media types: the raw bytes in base64", () => {
    expect(API_BINARY_MEDIA_TYPES).toEqual(['*/*']);
    for (const contentType of ['application/json', 'application/json; charset=iso-8859-1', 'text/plain', undefined]) {
      const event = proxyBody(bytes, contentType);
      expect(event.isBase64Encoded).toBe(true);
      expect(Buffer.from(event.body!, 'base64')).toEqual(bytes);
    }
  });

  it('matches a narrower list as API Gateway does: the exact type or type/*, parameters aside', () => {
    const types = ['application/json', 'image/*'];
    expect(proxyBody(bytes, 'Application/JSON; charset=utf-8', types).isBase64Encoded).toBe(true);
    expect(proxyBody(bytes, 'image/png', types).isBase64Encoded).toBe(true);
    expect(proxyBody(bytes, 'application/problem+json', types)).toEqual({
      body: bytes.toString('utf8'),
      isBase64Encoded: false,
    });
    expect(proxyBody(bytes, undefined, types).isBase64Encoded).toBe(false);
  });

  it('gives null for no body, as API Gateway does', () => {
    expect(proxyBody(Buffer.alloc(0), 'application/json')).toEqual({ body: null, isBase64Encoded: false });
  });
});
