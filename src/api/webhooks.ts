/**
 * Webhooks per conference: each event about a conference is POSTed as JSON to the
 * URLs registered for it, signed with HMAC-SHA256 over `<timestamp>.<body>` in
 * `X-Parley-Signature: t=<unix seconds>,v1=<hex>`, retried with backoff on network
 * errors and 5xx/429 answers. Deliveries to one URL keep the events' order.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '../runtime/ports.js';
import type { ApiEvent, EventHub } from './event-hub.js';

export interface Webhook {
  id: string;
  conference: string;
  url: string;
  secret: string;
  /** Event types sent; empty = all. */
  types: string[];
  delivered: number;
  failed: number;
  lastError?: string;
}

export interface WebhookOptions {
  logger: Logger;
  /** Delays before each retry, in ms. Default 0.5 s, 2 s, 8 s. */
  retryDelaysMs?: readonly number[];
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Most events waiting per webhook; older ones are dropped (and counted failed). */
  maxQueue?: number;
}

export function signature(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

interface Queue {
  hook: Webhook;
  events: ApiEvent[];
  running: boolean;
}

export class Webhooks {
  private readonly hooks = new Map<string, Queue>();
  private readonly opts: WebhookOptions;
  private readonly unsubscribe: () => void;
  private closed = false;
  private readonly inflight = new Set<AbortController>();

  constructor(hub: EventHub, opts: WebhookOptions) {
    this.opts = opts;
    this.unsubscribe = hub.subscribe({}, (e) => this.dispatch(e));
  }

  add(conference: string, url: string, types: string[], secret?: string): Webhook {
    const hook: Webhook = {
      id: randomUUID(),
      conference,
      url,
      secret: secret ?? randomBytes(24).toString('base64url'),
      types,
      delivered: 0,
      failed: 0,
    };
    this.hooks.set(hook.id, { hook, events: [], running: false });
    return hook;
  }

  list(conference?: string): Webhook[] {
    return [...this.hooks.values()]
      .map((q) => q.hook)
      .filter((h) => conference === undefined || h.conference === conference);
  }

  get(id: string): Webhook | undefined {
    return this.hooks.get(id)?.hook;
  }

  remove(id: string): boolean {
    return this.hooks.delete(id);
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const a of this.inflight) a.abort();
  }

  private dispatch(e: ApiEvent): void {
    if (e.conference === undefined) return;
    for (const q of this.hooks.values()) {
      if (q.hook.conference !== e.conference) continue;
      if (q.hook.types.length > 0 && !q.hook.types.includes(e.type)) continue;
      q.events.push(e);
      if (q.events.length > (this.opts.maxQueue ?? 1000)) {
        q.events.shift();
        q.hook.failed++;
      }
      if (!q.running) void this.drain(q);
    }
  }

  private async drain(q: Queue): Promise<void> {
    q.running = true;
    try {
      while (q.events.length > 0 && !this.closed && this.hooks.has(q.hook.id)) {
        const e = q.events[0] as ApiEvent;
        const ok = await this.deliver(q.hook, e);
        q.events.shift();
        if (ok) q.hook.delivered++;
        else q.hook.failed++;
      }
    } finally {
      q.running = false;
    }
  }

  private async deliver(hook: Webhook, e: ApiEvent): Promise<boolean> {
    const body = JSON.stringify(e);
    const delays = this.opts.retryDelaysMs ?? [500, 2000, 8000];
    const doFetch = this.opts.fetch ?? fetch;
    for (let attempt = 0; attempt <= delays.length; attempt++) {
      if (this.closed) return false;
      const t = Math.floor(Date.now() / 1000);
      const abort = new AbortController();
      this.inflight.add(abort);
      const timer = setTimeout(() => abort.abort(), this.opts.timeoutMs ?? 5000);
      let retry = true;
      try {
        const res = await doFetch(hook.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'parley-webhook',
            'x-parley-event': e.type,
            'x-parley-delivery': `${hook.id}/${e.id}`,
            'x-parley-signature': `t=${t},v1=${signature(hook.secret, t, body)}`,
          },
          body,
          signal: abort.signal,
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return true;
        hook.lastError = `HTTP ${res.status}`;
        // A client error other than 408/429 will not change by retrying.
        retry = res.status >= 500 || res.status === 408 || res.status === 429;
      } catch (err) {
        hook.lastError = err instanceof Error ? err.message : String(err);
      } finally {
        clearTimeout(timer);
        this.inflight.delete(abort);
      }
      const delay = delays[attempt];
      if (!retry || delay === undefined) break;
      await new Promise((r) => setTimeout(r, delay));
    }
    this.opts.logger.warn(
      { webhook: hook.id, url: hook.url, event: e.id, err: hook.lastError },
      'webhook failed',
    );
    return false;
  }
}
