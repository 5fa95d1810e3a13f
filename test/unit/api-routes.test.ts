// The local API door routes as API Gateway does: a {param} matches one segment and reaches the function as a
// path parameter; anything else is not a route.
import { describe, expect, it } from 'vitest';
import { matchRoute } from '../../local/doors/api-gateway.js';

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
