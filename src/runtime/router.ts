/**
 * Incoming call → decision, from the compiled routes. The first route whose every
 * condition holds wins: `to` (request-URI user), `from`, headers, source CIDR,
 * transport. Named regex captures feed the route's templates (bare names).
 */
import { BlockList, isIP } from 'node:net';
import type { CompiledRoute } from '../compiler/ir.js';
import { errorMessage, formatSrc, RuntimeError } from './errors.js';
import type { ExpressionEngine } from './ports.js';
import { RegexCache } from './regex-cache.js';

export interface RouteRequest {
  /** Request-URI user part. */
  to: string;
  /** From URI without scheme (user@host). */
  from: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Source IP address. */
  source: string;
  transport: string;
}

interface Matched {
  route: CompiledRoute;
  index: number;
  captures: Record<string, string>;
  vars: Record<string, string | number | boolean>;
}

export type RouteDecision =
  | (Matched & { kind: 'conference'; name: string })
  | (Matched & { kind: 'scenario'; name: string })
  | (Matched & { kind: 'reject'; code: number; reason?: string })
  /** No route matched: the caller should be refused with 404. */
  | { kind: 'none' };

export class Router {
  private readonly regexes = new RegexCache();
  private readonly cidrs = new Map<CompiledRoute, BlockList>();

  constructor(
    private readonly routes: readonly CompiledRoute[],
    private readonly expressions: ExpressionEngine,
  ) {}

  /**
   * Decides where a call goes. Throws `RuntimeError` (with the route's source
   * position) when a matching route's template fails to render.
   */
  route(req: RouteRequest): RouteDecision {
    for (const [index, route] of this.routes.entries()) {
      const captures = this.match(route, req);
      if (!captures) continue;
      const render = (t: string) => {
        try {
          return this.expressions.render(t, captures);
        } catch (err) {
          throw new RuntimeError('expression', `route ${formatSrc(route.src)}: ${errorMessage(err)}`, {
            src: route.src,
            cause: err,
          });
        }
      };
      const vars: Record<string, string | number | boolean> = {};
      for (const [k, v] of Object.entries(route.vars)) vars[k] = typeof v === 'string' ? render(v) : v;
      const base = { route, index, captures, vars };
      const a = route.action;
      if (a.kind === 'reject') {
        return {
          ...base,
          kind: 'reject',
          code: a.code,
          ...(a.reason !== undefined ? { reason: a.reason } : {}),
        };
      }
      return { ...base, kind: a.kind, name: render(a.name) };
    }
    return { kind: 'none' };
  }

  /** Named captures of every regex of the route, or undefined when a condition fails. */
  private match(route: CompiledRoute, req: RouteRequest): Record<string, string> | undefined {
    const captures: Record<string, string> = {};
    const test = (source: string | undefined, value: string): boolean => {
      if (source === undefined) return true;
      const m = this.regexes.get(source).exec(value);
      if (!m) return false;
      for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) captures[k] = v;
      return true;
    };
    const m = route.match;
    if (!test(m.to, req.to) || !test(m.from, req.from)) return undefined;
    for (const [name, source] of Object.entries(m.headers ?? {})) {
      const value = req.headers[name.toLowerCase()];
      if (value === undefined || !test(source, value)) return undefined;
    }
    if (m.source && !this.inCidrs(route, m.source, req.source)) return undefined;
    if (m.transport && !m.transport.some((t) => t.toLowerCase() === req.transport.toLowerCase()))
      return undefined;
    return captures;
  }

  private inCidrs(route: CompiledRoute, cidrs: string[], address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    let list = this.cidrs.get(route);
    if (!list) {
      list = new BlockList();
      for (const c of cidrs) {
        const [net, bits] = c.split('/');
        const fam = isIP(net ?? '') === 6 ? 'ipv6' : 'ipv4';
        const prefix = bits === undefined ? (fam === 'ipv6' ? 128 : 32) : Number(bits);
        list.addSubnet(net ?? '', prefix, fam);
      }
      this.cidrs.set(route, list);
    }
    return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }
}
