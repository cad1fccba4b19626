/**
 * Which IP addresses the URL fetcher may connect to, and the operator allow-list that can open exceptions.
 * Pure functions over parsed addresses: no DNS, no sockets (src/net/fetch-url.ts does those).
 *
 * IPv4 is refused by named range. IPv6 is refused by default: only global unicast (2000::/3) minus the
 * special-purpose blocks is public, and addresses that embed an IPv4 address (IPv4-mapped, -translated and
 * -compatible, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the IPv4 address they embed.
 */
import { isIP } from 'node:net';
import { AppError } from '../errors/app-error.js';

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'unspecified'
  | 'private'
  | 'link-local'
  | 'carrier-grade NAT'
  | 'multicast'
  | 'reserved'
  | 'broadcast'
  | 'benchmarking'
  | 'documentation'
  | 'cloud metadata';

export interface ParsedIp {
  readonly family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
}

export interface Classification {
  readonly cls: AddressClass;
  /** The IPv4 address an IPv6 address embeds, when that is what was judged. */
  readonly embedded?: string;
}

/** Parses an IPv4 (dotted decimal) or IPv6 literal; brackets and a %zone suffix are accepted. */
export function parseIp(text: string): ParsedIp | undefined {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const family = isIP(s);
  if (family === 4) return { family: 4, bytes: Uint8Array.from(s.split('.').map(Number)) };
  if (family !== 6) return undefined;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = tail.split('.').map(Number);
    const hi = ((v4[0] ?? 0) << 8) | (v4[1] ?? 0);
    const lo = ((v4[2] ?? 0) << 8) | (v4[3] ?? 0);
    s = `${s.slice(0, lastColon + 1)}${hi.toString(16)}:${lo.toString(16)}`;
  }
  const [head = '', rest] = s.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    bytes[i * 2] = n >> 8;
    bytes[i * 2 + 1] = n & 0xff;
  });
  return { family: 6, bytes };
}

export function formatIp(ip: ParsedIp): string {
  if (ip.family === 4) return Array.from(ip.bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((ip.bytes[i] ?? 0) << 8) | (ip.bytes[i + 1] ?? 0));
  let best = -1;
  let bestLen = 1; // RFC 5952: "::" only for a run of two or more zero groups, the first longest run
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (g: number[]) => g.map((n) => n.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

interface Cidr {
  readonly ip: ParsedIp;
  readonly prefix: number;
}

function inCidr(ip: ParsedIp, net: Cidr): boolean {
  if (ip.family !== net.ip.family) return false;
  let bits = net.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((ip.bytes[i] ?? 0) & mask) !== ((net.ip.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Parses "a.b.c.d/n", "x::/n" or a bare address (a /32 or /128). */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  if (slash < 0) return { ip, prefix: max };
  const p = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(p) || Number(p) > max) return undefined;
  return { ip, prefix: Number(p) };
}

function table(rows: readonly (readonly [string, AddressClass])[]): readonly (readonly [Cidr, AddressClass])[] {
  return rows.map(([text, cls]) => {
    const cidr = parseCidr(text);
    if (!cidr) throw new Error(`bad built-in range ${text}`);
    return [cidr, cls] as const;
  });
}

/** First match wins, so the narrow ranges (metadata, broadcast) come before the blocks that contain them. */
const V4_RANGES = table([
  ['169.254.169.254/32', 'cloud metadata'], // AWS, GCP, Azure IMDS, OpenStack, Oracle, ...
  ['169.254.170.2/32', 'cloud metadata'], // AWS ECS task metadata
  ['100.100.100.200/32', 'cloud metadata'], // Alibaba Cloud
  ['168.63.129.16/32', 'cloud metadata'], // Azure WireServer (a public address on purpose)
  ['255.255.255.255/32', 'broadcast'],
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'], // IETF protocol assignments
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', 'reserved'], // former 6to4 relay anycast
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
]);

const V6_RANGES = table([
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fd00:ec2::254/128', 'cloud metadata'], // AWS IMDS over IPv6
  ['64:ff9b:1::/48', 'private'], // local-use NAT64
  ['100::/64', 'reserved'], // discard-only
  ['2001:2::/48', 'benchmarking'],
  ['2001::/23', 'reserved'], // IETF protocol assignments, Teredo included
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'],
  ['5f00::/16', 'reserved'], // SRv6 SIDs
  ['fc00::/7', 'private'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'private'], // deprecated site-local
  ['ff00::/8', 'multicast'],
]);

const GLOBAL_UNICAST = parseCidr('2000::/3') as Cidr;
/** Prefixes whose low 32 bits carry an IPv4 address: mapped, translated, NAT64 well-known, compatible. */
const EMBED_LOW32 = ['::ffff:0:0/96', '::ffff:0:0:0/96', '64:ff9b::/96', '::/96'].map((t) => parseCidr(t) as Cidr);
const SIX_TO_FOUR = parseCidr('2002::/16') as Cidr;

export function classifyIp(ip: ParsedIp): Classification {
  if (ip.family === 4) {
    for (const [cidr, cls] of V4_RANGES) if (inCidr(ip, cidr)) return { cls };
    return { cls: 'public' };
  }
  for (const [cidr, cls] of V6_RANGES) if (inCidr(ip, cidr)) return { cls };
  const embedAt = EMBED_LOW32.some((c) => inCidr(ip, c)) ? 12 : inCidr(ip, SIX_TO_FOUR) ? 2 : -1;
  if (embedAt >= 0) {
    const v4: ParsedIp = { family: 4, bytes: ip.bytes.slice(embedAt, embedAt + 4) };
    const inner = classifyIp(v4).cls;
    const compatible = inCidr(ip, EMBED_LOW32[3] as Cidr) && !inCidr(ip, EMBED_LOW32[0] as Cidr);
    // IPv4-compatible (::a.b.c.d) is deprecated and never routable: refused even when it embeds a public address.
    return { cls: inner === 'public' && compatible ? 'reserved' : inner, embedded: formatIp(v4) };
  }
  return { cls: inCidr(ip, GLOBAL_UNICAST) ? 'public' : 'reserved' };
}

/** Classifies an address string; anything that does not parse as an IP is 'reserved'. */
export function classifyAddress(address: string): Classification {
  const ip = parseIp(address);
  return ip ? classifyIp(ip) : { cls: 'reserved' };
}

/** "a private address (10.0.0.5)", "a loopback address (::ffff:7f00:1, which embeds 127.0.0.1)". */
export function describeAddress(address: string, c: Classification = classifyAddress(address)): string {
  const article = /^[aeiou]/.test(c.cls) ? 'an' : 'a';
  const embeds = c.embedded === undefined ? '' : `, which embeds ${c.embedded}`;
  return `${article} ${c.cls} address (${address}${embeds})`;
}

// ---------------------------------------------------------------------------------------------------------
// Operator allow-list (IMGSENSE_FETCH_ALLOW_HOSTS)

export interface AllowList {
  readonly hosts: ReadonlySet<string>;
  readonly nets: readonly Cidr[];
}

export const EMPTY_ALLOW_LIST: AllowList = { hosts: new Set(), nets: [] };

/** Lower case, no brackets, no trailing dot: the form host names are compared in. */
export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/**
 * Compiles allow-list entries: exact host names (case-insensitive), IP literals, or CIDRs ("127.0.0.0/8",
 * "::1/128"). Throws InvalidParameterValue naming the bad entry; call it once at startup to validate config.
 */
export function compileAllowList(entries: readonly string[]): AllowList {
  const hosts = new Set<string>();
  const nets: Cidr[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    const bad = () =>
      new AppError(
        'InvalidParameterValue',
        `Expected host names, IP addresses or CIDRs (e.g. "127.0.0.0/8") for allowHosts but received ${JSON.stringify(entry.slice(0, 64))}`,
      );
    const bare = entry.startsWith('[') && entry.endsWith(']') ? entry.slice(1, -1) : entry;
    if (bare.includes('/') || isIP(bare)) {
      const cidr = parseCidr(bare);
      if (!cidr) throw bad();
      nets.push(cidr);
      continue;
    }
    // Normalise the way URLs are normalised (IDN to punycode, "127.1" to 127.0.0.1) so entries match url hosts.
    let host: string;
    try {
      const u = new URL(`http://${entry}/`);
      if (u.port !== '' || u.username !== '' || u.password !== '' || u.pathname !== '/' || u.search !== '') throw bad();
      host = normaliseHost(u.hostname);
    } catch {
      throw bad();
    }
    const ip = parseIp(host);
    if (ip) nets.push({ ip, prefix: ip.family === 4 ? 32 : 128 });
    else if (host === '' || !/^[a-z0-9_.-]+$/.test(host)) throw bad();
    else hosts.add(host);
  }
  return { hosts, nets };
}

export function isHostAllowed(list: AllowList, host: string): boolean {
  return list.hosts.has(normaliseHost(host));
}

/** True when the address, or the IPv4 address an IPv4-mapped IPv6 address carries, is in an allowed range. */
export function isAddressAllowed(list: AllowList, address: string): boolean {
  const ip = parseIp(address);
  if (!ip) return false;
  const candidates = [ip];
  if (inCidr(ip, EMBED_LOW32[0] as Cidr)) candidates.push({ family: 4, bytes: ip.bytes.slice(12) });
  return candidates.some((c) => list.nets.some((n) => inCidr(c, n)));
}

/**
 * The description of the first address the fetcher must refuse for this host, or undefined when all may be
 * used. An allow-listed host name permits all its addresses; otherwise each refused address must be allow-listed.
 */
export function firstRefused(list: AllowList, host: string, addresses: readonly string[]): string | undefined {
  if (isHostAllowed(list, host)) return undefined;
  for (const address of addresses) {
    const c = classifyAddress(address);
    if (c.cls !== 'public' && !isAddressAllowed(list, address)) return describeAddress(address, c);
  }
  return undefined;
}
