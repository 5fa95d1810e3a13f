// Where a callback may be POSTed. In AWS (`public-https`) only to https URLs whose host is a public address: a
// callback URL is the caller's input, and without this rule it would make our functions request whatever sits inside
// the VPC or on the instance metadata endpoint (SSRF). The rule is applied twice: at ingest, on what the URL itself
// says (its scheme, a literal IP host), and at connect time, on every address its name resolves to (a name that
// resolved to a public address at ingest may resolve to 127.0.0.1 later: DNS rebinding). Locally (`any`) the test's
// receiver listens on 127.0.0.1 over http.
// Plain parsing, no node:net: the rule is data, and testable as such.

export const CALLBACK_URL_POLICIES = ['public-https', 'any'] as const;
export type CallbackUrlPolicy = (typeof CALLBACK_URL_POLICIES)[number];

/** Why a callback URL is refused under `policy`, judging the URL alone (no DNS); undefined when it may be used. */
export function callbackUrlProblem(url: string, policy: CallbackUrlPolicy): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'must be an http(s) URL';
  if (policy === 'any') return undefined;
  if (parsed.protocol !== 'https:') return 'must be an https URL';
  if (parsed.username || parsed.password) return 'must not carry credentials';
  // URL keeps an IPv6 host in brackets.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return 'must name a public host, not localhost';
  if (isIpLiteral(host) && isForbiddenAddress(host)) {
    return 'must name a public host: private, loopback and link-local addresses are refused';
  }
  return undefined;
}

/** Why a resolved address must not be connected to under `policy`; undefined when it may be. */
export function addressProblem(address: string, policy: CallbackUrlPolicy): string | undefined {
  if (policy === 'any') return undefined;
  return isForbiddenAddress(address) ? `${address} is a private, loopback, link-local or reserved address` : undefined;
}

export const isIpLiteral = (host: string): boolean => parseIpv4(host) !== undefined || parseIpv6(host) !== undefined;

/**
 * An address no callback may reach: private (10/8, 172.16/12, 192.168/16, fc00::/7), loopback (127/8, ::1),
 * link-local (169.254/16, fe80::/10), unspecified (0.0.0.0/8, ::), CGNAT (100.64/10), multicast and reserved, and
 * the IPv4 ones in IPv6 clothing (::ffff:a.b.c.d mapped, ::a.b.c.d compatible, 64:ff9b::a.b.c.d NAT64). Something
 * that is no address at all is refused too.
 */
export function isForbiddenAddress(address: string): boolean {
  const v4 = parseIpv4(address);
  if (v4 !== undefined) return isForbiddenIpv4(v4);
  const v6 = parseIpv6(address.replace(/%.*$/, ''));
  if (v6 === undefined) return true;
  const embedded = embeddedIpv4(v6);
  if (embedded !== undefined) return isForbiddenIpv4(embedded);
  return FORBIDDEN_IPV6.some(([prefix, bits]) => inPrefix(v6, prefix, bits));
}

// ---- IPv4 ---------------------------------------------------------------------------------------------------

/** [network, prefix length]. */
const FORBIDDEN_IPV4: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (the instance metadata endpoint lives here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
];

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    // Dotted decimal only: octal or hex forms (010.0.0.1) are not what a resolver returns.
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const byte = Number(part);
    if (byte > 255) return undefined;
    value = value * 256 + byte;
  }
  return value;
}

const isForbiddenIpv4 = (address: number): boolean =>
  FORBIDDEN_IPV4.some(([network, bits]) => {
    const size = 2 ** (32 - bits);
    const start = parseIpv4(network)!;
    return address >= start && address < start + size;
  });

// ---- IPv6 ---------------------------------------------------------------------------------------------------

/** Eight 16-bit groups. */
type Ipv6 = readonly number[];

const FORBIDDEN_IPV6: readonly (readonly [Ipv6, number])[] = [
  [parseIpv6('::')!, 128], // unspecified
  [parseIpv6('::1')!, 128], // loopback
  [parseIpv6('fc00::')!, 7], // unique local (private)
  [parseIpv6('fe80::')!, 10], // link-local
  [parseIpv6('fec0::')!, 10], // site-local (deprecated, still private)
  [parseIpv6('ff00::')!, 8], // multicast
  [parseIpv6('100::')!, 64], // discard-only
  [parseIpv6('2001:db8::')!, 32], // documentation
];

function parseIpv6(text: string): Ipv6 | undefined {
  if (!text.includes(':') || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    const pieces = part.split(':');
    for (const [index, piece] of pieces.entries()) {
      if (piece.includes('.')) {
        // An embedded IPv4 address, only as the last piece.
        const v4 = index === pieces.length - 1 ? parseIpv4(piece) : undefined;
        if (v4 === undefined) return undefined;
        groups.push(Math.floor(v4 / 65_536), v4 % 65_536);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
        groups.push(Number.parseInt(piece, 16));
      }
    }
    return groups;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...Array<number>(missing).fill(0), ...tail];
}

function inPrefix(address: Ipv6, prefix: Ipv6, bits: number): boolean {
  for (let group = 0; group < 8; group++) {
    const groupBits = Math.min(16, Math.max(0, bits - group * 16));
    if (groupBits === 0) return true;
    const mask = (0xffff << (16 - groupBits)) & 0xffff;
    if ((address[group]! & mask) !== (prefix[group]! & mask)) return false;
  }
  return true;
}

/** The IPv4 address an IPv6 one stands for: mapped (::ffff:0:0/96), compatible (::/96), NAT64 (64:ff9b::/96). */
function embeddedIpv4(address: Ipv6): number | undefined {
  const last32 = address[6]! * 65_536 + address[7]!;
  const zeros = (count: number) => address.slice(0, count).every((group) => group === 0);
  if (zeros(5) && address[5] === 0xffff) return last32;
  // ::/96 holds :: and ::1 too, which the IPv6 list refuses on their own.
  if (zeros(6) && last32 > 1) return last32;
  if (address[0] === 0x64 && address[1] === 0xff9b && address.slice(2, 6).every((group) => group === 0)) return last32;
  return undefined;
}
