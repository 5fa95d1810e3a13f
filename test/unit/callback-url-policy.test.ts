// Where a callback may go (SSRF): https only, and never an address inside, in IPv4, IPv6 or IPv4 dressed as IPv6;
// checked on the URL at ingest, and on the resolved addresses when the dispatcher connects.
import { describe, expect, it } from 'vitest';
import { RefusedAddressError, vettedLookup } from '../../shared/adapters/http/callback-transport.js';
import { addressProblem, callbackUrlProblem, isForbiddenAddress } from '../../shared/domain/callback-url-policy.js';

describe('the callback URL policy', () => {
  describe('public-https, at ingest (the URL alone)', () => {
    it.each([
      'https://tms.example.com/hooks/wachap',
      'https://tms.example.com:8443/hooks?token=abc',
      'https://8.8.8.8/hooks',
      'https://[2606:4700:4700::1111]/hooks',
    ])('accepts %s', (url) => {
      expect(callbackUrlProblem(url, 'public-https')).toBeUndefined();
    });

    it.each([
      ['http://tms.example.com/hooks', /https/],
      ['ftp://tms.example.com/hooks', /http\(s\)/],
      ['https://user:pass@tms.example.com/hooks', /credentials/],
      ['https://localhost/hooks', /localhost/],
      ['https://api.localhost/hooks', /localhost/],
      ['https://127.0.0.1/hooks', /public host/],
      ['https://10.1.2.3/hooks', /public host/],
      ['https://169.254.169.254/latest/meta-data', /public host/],
      ['https://[::1]/hooks', /public host/],
      ['https://[::ffff:10.0.0.1]/hooks', /public host/],
      ['https://[fd00::1]/hooks', /public host/],
      ['not a url', /URL/],
    ])('refuses %s', (url, why) => {
      expect(callbackUrlProblem(url, 'public-https')).toMatch(why);
    });
  });

  describe('any (the local stack)', () => {
    it('accepts http to 127.0.0.1, and still refuses what is not http(s)', () => {
      expect(callbackUrlProblem('http://127.0.0.1:4567/hooks', 'any')).toBeUndefined();
      expect(callbackUrlProblem('file:///etc/passwd', 'any')).toMatch(/http\(s\)/);
      expect(addressProblem('127.0.0.1', 'any')).toBeUndefined();
    });
  });

  describe('the addresses, as a resolver returns them (at connect time)', () => {
    it.each([
      ['0.0.0.0', 'unspecified'],
      ['0.1.2.3', '"this network"'],
      ['10.0.0.1', 'private 10/8'],
      ['10.255.255.255', 'private 10/8, its end'],
      ['172.16.0.1', 'private 172.16/12'],
      ['172.31.255.254', 'private 172.16/12, its end'],
      ['192.168.1.10', 'private 192.168/16'],
      ['127.0.0.1', 'loopback'],
      ['127.8.9.10', 'loopback 127/8'],
      ['169.254.169.254', 'link-local (instance metadata)'],
      ['100.64.0.1', 'CGNAT 100.64/10'],
      ['100.127.255.255', 'CGNAT, its end'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['::', 'IPv6 unspecified'],
      ['::1', 'IPv6 loopback'],
      ['fc00::1', 'unique local fc00::/7'],
      ['fd12:3456:789a::1', 'unique local fd00::/8'],
      ['fe80::1', 'link-local fe80::/10'],
      ['fe80::1%eth0', 'link-local with a zone'],
      ['febf:ffff::1', 'link-local, its end'],
      ['ff02::1', 'IPv6 multicast'],
      ['::ffff:127.0.0.1', 'mapped loopback'],
      ['::ffff:10.0.0.1', 'mapped private'],
      ['::ffff:a9fe:a9fe', 'mapped link-local, in hex'],
      ['::ffff:0:0', 'mapped unspecified'],
      ['::10.0.0.1', 'IPv4-compatible private'],
      ['64:ff9b::a9fe:a9fe', 'NAT64 of the metadata endpoint'],
      ['not-an-address', 'no address at all'],
      ['1.2.3', 'an incomplete IPv4'],
      ['1:2:3:4:5:6:7:8:9', 'too many IPv6 groups'],
    ])('refuses %s (%s)', (address) => {
      expect(isForbiddenAddress(address)).toBe(true);
      expect(addressProblem(address, 'public-https')).toContain('address');
    });

    it.each([
      ['8.8.8.8', 'a public IPv4'],
      ['172.32.0.1', 'just past 172.16/12'],
      ['172.15.255.255', 'just before 172.16/12'],
      ['100.128.0.1', 'just past CGNAT'],
      ['11.0.0.1', 'just past 10/8'],
      ['192.169.0.1', 'just past 192.168/16'],
      ['2606:4700:4700::1111', 'a public IPv6'],
      ['2a00:1450:4007:80f::200e', 'another public IPv6'],
      ['::ffff:8.8.8.8', 'a mapped public IPv4'],
      ['fe00::1', 'fe00::/9, outside the link-local and site-local ranges'],
    ])('allows %s (%s)', (address) => {
      expect(isForbiddenAddress(address)).toBe(false);
    });
  });
});

describe('the connect-time lookup', () => {
  const resolve = (policy: 'public-https' | 'any', host: string, all: boolean) =>
    new Promise<{ error: Error | null; result: unknown }>((done) => {
      vettedLookup(policy)(host, { all }, (error, address, family) =>
        done({ error, result: all ? address : { address, family } }),
      );
    });

  it('hands the socket the vetted addresses, in the shape it asked for', async () => {
    // A literal resolves to itself, without the network.
    expect(await resolve('public-https', '8.8.8.8', true)).toEqual({
      error: null,
      result: [{ address: '8.8.8.8', family: 4 }],
    });
    expect(await resolve('public-https', '8.8.8.8', false)).toEqual({
      error: null,
      result: { address: '8.8.8.8', family: 4 },
    });
  });

  it('fails the connection to a name that resolves to a forbidden address', async () => {
    const { error } = await resolve('public-https', 'localhost', true);

    expect(error).toBeInstanceOf(RefusedAddressError);
    expect(error?.message).toMatch(/localhost resolves to a refused address/);
  });
});
