/**
 * Locating the next hop of a SIP URI (RFC 3263 4.1-4.2, client side): NAPTR picks the
 * transport, SRV the host and port, A/AAAA the address. A URI with an IP address or a port
 * skips what it already says; a URI naming no transport, on a name with no NAPTR, tries the
 * SRV records of each transport we speak; a name with no records at all is used as is, on
 * the transport's default port.
 *
 * `resolveHops` lists every target of the service found, in the order they are to be tried
 * (RFC 3263 4.3: on a transport error or 503, the next one). Not done: NAPTR regexp
 * rewriting (SIP's NAPTR records use replacements).
 */
import dns from 'node:dns';
import net from 'node:net';
import { parseUri } from './lib.js';
import type { Protocol, Remote } from './transport.js';

/** The DNS lookups the SIP layer makes; a name with no such record resolves to `[]`. */
export interface SipResolver {
  naptr(name: string): Promise<dns.NaptrRecord[]>;
  srv(name: string): Promise<dns.SrvRecord[]>;
  /** One address of `name` (A or AAAA). Rejects when it has none. */
  address(name: string): Promise<string>;
}

/** Answers that mean "no such record", as opposed to a DNS failure. */
const NO_RECORD = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME', 'NXDOMAIN', 'ENOTIMP', 'EREFUSED']);

async function records<T>(lookup: () => Promise<T[]>): Promise<T[]> {
  try {
    return await lookup();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code && NO_RECORD.has(code)) return [];
    throw err;
  }
}

/**
 * NAPTR answers, or none when the lookup fails: some servers and middleboxes mishandle NAPTR
 * queries, and SRV and A lookups can still find the server.
 */
async function lookupOrNone<T>(lookup: () => Promise<T[]>): Promise<T[]> {
  try {
    return await lookup();
  } catch {
    return [];
  }
}

/** The system's resolver: NAPTR and SRV from its DNS servers, addresses as getaddrinfo finds them (hosts file included). */
export function systemResolver(): SipResolver {
  // The system's servers, with short timeouts: a dial waits on these lookups before it rings.
  const resolver = new dns.promises.Resolver({ timeout: 2000, tries: 2 });
  return {
    naptr: (name) => records(() => resolver.resolveNaptr(name)),
    srv: (name) => records(() => resolver.resolveSrv(name)),
    address: async (name) => (await dns.promises.lookup(name)).address,
  };
}

/** A resolver asking these DNS servers (`address` or `address:port`) for everything. */
export function resolverFor(servers: string[]): SipResolver {
  const resolver = new dns.promises.Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers(servers);
  return {
    naptr: (name) => records(() => resolver.resolveNaptr(name)),
    srv: (name) => records(() => resolver.resolveSrv(name)),
    address: async (name) => {
      const v4 = await records(() => resolver.resolve4(name));
      const found = v4[0] ?? (await records(() => resolver.resolve6(name)))[0];
      if (!found) throw new Error(`no address for ${name}`);
      return found;
    },
  };
}

const DEFAULT_PORT: Record<Protocol, number> = { UDP: 5060, TCP: 5060, TLS: 5061 };
/** RFC 3263 service names: `SIP+D2U` in NAPTR, `_sip._udp` in SRV. */
const NAPTR_SERVICE: Record<string, Protocol> = { 'SIP+D2U': 'UDP', 'SIP+D2T': 'TCP', 'SIPS+D2T': 'TLS' };
const SRV_PREFIX: Record<Protocol, string> = { UDP: '_sip._udp', TCP: '_sip._tcp', TLS: '_sips._tcp' };

/** The transport a URI's `;transport=` parameter names, if it names one we speak. */
export function transportOf(transportParam: string | null | undefined): Protocol | undefined {
  switch (transportParam?.toLowerCase()) {
    case 'udp':
      return 'UDP';
    case 'tcp':
      return 'TCP';
    case 'tls':
      return 'TLS';
    default:
      return undefined;
  }
}

/**
 * RFC 2782 selection: the lowest priority; among its records, one at random in proportion
 * to weight (zero-weight records only when all are zero). A target of "." means "no service".
 */
export function pickSrv(
  list: dns.SrvRecord[],
  random: () => number = Math.random,
): dns.SrvRecord | undefined {
  const usable = list.filter((r) => r.name !== '' && r.name !== '.');
  if (usable.length === 0) return undefined;
  const best = Math.min(...usable.map((r) => r.priority));
  const tier = usable.filter((r) => r.priority === best);
  const total = tier.reduce((sum, r) => sum + r.weight, 0);
  if (total === 0) return tier[Math.floor(random() * tier.length)];
  let point = random() * total;
  for (const r of tier) {
    point -= r.weight;
    if (point < 0) return r;
  }
  return tier[tier.length - 1];
}

/** Every usable SRV record in the order RFC 2782 has them tried: pickSrv, again and again. */
export function orderSrv(list: dns.SrvRecord[], random: () => number = Math.random): dns.SrvRecord[] {
  const left = [...list];
  const out: dns.SrvRecord[] = [];
  for (let next = pickSrv(left, random); next; next = pickSrv(left, random)) {
    out.push(next);
    left.splice(left.indexOf(next), 1);
  }
  return out;
}

/** What a server looks next hops up with: its resolver and the transports it can send over. */
export interface HopLookup {
  readonly resolver: SipResolver;
  /** The transports the server listens on, so can send over: UDP, then TCP and TLS when on. */
  readonly transports: readonly Protocol[];
}

export interface ResolveOptions {
  /** The transport to use when the URI and DNS do not name one (a dialog's own). */
  protocolHint?: Protocol;
  /** Transports we can use, in preference order for SRV probing; default UDP, TCP, TLS. */
  supported?: readonly Protocol[];
  resolver?: SipResolver;
}

/**
 * Next hop of a SIP URI. A TLS hop carries the host written in the URI (not the SRV
 * target), which the peer's certificate must name (RFC 5922).
 */
export async function resolveHop(uri: string, options: ResolveOptions = {}): Promise<Remote> {
  const [first] = await resolveHops(uri, options);
  if (!first) throw new Error(`no address for ${uri}`);
  return first;
}

/**
 * Every next hop of a SIP URI in the order to try them: the SRV targets of the service
 * found (RFC 2782 order), or the one hop the URI or its name gives. Rejects when none
 * has an address.
 */
export async function resolveHops(uri: string, options: ResolveOptions = {}): Promise<Remote[]> {
  const parsed = parseUri(uri.replace(/^<|>$/g, ''));
  if (!parsed) throw new Error(`not a SIP URI: ${uri}`);
  const resolver = options.resolver ?? systemResolver();
  const supported = options.supported ?? ['UDP', 'TCP', 'TLS'];
  const host = parsed.host.replace(/^\[|\]$/g, '');
  const named = transportOf(parsed.params.transport);
  const hop = (protocol: Protocol, address: string, port: number): Remote =>
    protocol === 'TLS' ? { protocol, address, port, serverName: host } : { protocol, address, port };
  /** The transport when DNS does not choose one. */
  const plain = named ?? options.protocolHint ?? 'UDP';

  if (net.isIP(host)) return [hop(plain, host, parsed.port ?? DEFAULT_PORT[plain])];
  if (parsed.port !== undefined) return [hop(plain, await resolver.address(host), parsed.port)];

  // Which SRV names to try, in order, each with the transport it stands for.
  const candidates: Array<{ protocol: Protocol; srv: string }> = [];
  if (named) candidates.push({ protocol: named, srv: `${SRV_PREFIX[named]}.${host}` });
  else {
    const naptr = (await lookupOrNone(() => resolver.naptr(host)))
      .filter((r) => r.flags.toLowerCase() === 's' && NAPTR_SERVICE[r.service.toUpperCase()] !== undefined)
      .filter((r) => supported.includes(NAPTR_SERVICE[r.service.toUpperCase()] as Protocol))
      .sort((a, b) => a.order - b.order || a.preference - b.preference);
    for (const r of naptr)
      candidates.push({ protocol: NAPTR_SERVICE[r.service.toUpperCase()] as Protocol, srv: r.replacement });
    if (naptr.length === 0) {
      const order = options.protocolHint
        ? [options.protocolHint, ...supported.filter((p) => p !== options.protocolHint)]
        : supported;
      for (const protocol of order) candidates.push({ protocol, srv: `${SRV_PREFIX[protocol]}.${host}` });
    }
  }
  for (const { protocol, srv } of candidates) {
    let found: dns.SrvRecord[];
    try {
      found = await resolver.srv(srv);
    } catch {
      // DNS itself failing (a timeout, SERVFAIL): more SRV questions would only wait as long;
      // the name's own address is the last resort.
      break;
    }
    const targets = orderSrv(found);
    if (targets.length === 0) continue;
    const hops: Remote[] = [];
    let lastError: unknown;
    for (const target of targets) {
      try {
        hops.push(hop(protocol, await resolver.address(target.name), target.port));
      } catch (err) {
        // A target with no address is passed over; the others may still serve.
        lastError = err;
      }
    }
    if (hops.length > 0) return hops;
    throw lastError;
  }
  return [hop(plain, await resolver.address(host), DEFAULT_PORT[plain])];
}
