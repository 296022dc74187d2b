/**
 * The HTTP API around a real Runtime on simulated calls and media: the shipped
 * `conferences/` copied to a temporary folder (so reload tests may edit it), a
 * virtual clock that follows real time, simulated inbound calls the test places
 * with `call(to)`, and the API listening on 127.0.0.1 at a free port.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ParleyApi } from '../../src/api/app.js';
import type { ApiBackend } from '../../src/api/backend.js';
import { parseTokens } from '../../src/api/tokens.js';
import { VirtualClock } from '../../src/runtime/clock.js';
import { ConfigStore } from '../../src/runtime/config-store.js';
import { celExpressions } from '../../src/runtime/expressions.js';
import type { Logger, RuntimeEvent } from '../../src/runtime/ports.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { SimCallLeg, SimCalls, SimMedia } from '../../src/runtime/sim/fakes.js';

export const CONFERENCES = path.resolve(import.meta.dirname, '../../conferences');
export const READ = 'read-token-0123456789abcdef';
export const CONTROL = 'control-token-0123456789abcd';
export const ADMIN = 'admin-token-0123456789abcdef';

export const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface Harness {
  api: ParleyApi;
  runtime: Runtime;
  config: ConfigStore;
  dir: string;
  recordings: string;
  base: string;
  events: RuntimeEvent[];
  legs: SimCallLeg[];
  /** Places a simulated inbound call to a request-URI user; resolves once routed. */
  call(to: string, from?: string): Promise<SimCallLeg>;
  /** fetch against the API with a token (default admin: read and control). */
  req(method: string, url: string, body?: unknown, token?: string | null): Promise<Response>;
  waitFor<T>(probe: () => T | undefined | false, what: string, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export async function startHarness(
  opts: { recordings?: string; sessionTimeoutMs?: number; rateLimitPerMinute?: number } = {},
): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-api-conf-'));
  cpSync(CONFERENCES, dir, { recursive: true });
  const recordings = opts.recordings ?? mkdtempSync(path.join(tmpdir(), 'parley-api-rec-'));
  const clock = new VirtualClock();
  const origin = performance.now();
  // The virtual clock follows real time so timers (prompts, dial delays) fire while HTTP waits.
  const pump = setInterval(() => {
    const now = performance.now() - origin;
    while (clock.fireNext(now)) {}
    clock.setTime(now);
  }, 2);
  const legs: SimCallLeg[] = [];
  const events: RuntimeEvent[] = [];
  let api: ParleyApi | undefined;
  const config = ConfigStore.load({
    paths: [dir],
    root: dir,
    logger: quiet,
    onSwap: (next) => runtime.updateSet(next.set),
    onResult: (r) => api?.reloaded(r),
  });
  const runtime = new Runtime(config.current.set, {
    clock,
    logger: quiet,
    media: new SimMedia(clock, dir),
    calls: new SimCalls(clock, (leg) => legs.push(leg), 50),
    events: {
      emit: (e) => {
        events.push(e);
        api?.ingest(e);
      },
    },
    expressions: celExpressions,
  });
  const backend: ApiBackend = {
    runtime,
    config,
    recordingsDir: recordings,
    legMedia: () => undefined,
    engineFigures: () => undefined,
    ready: () => true,
  };
  api = await ParleyApi.create({
    backend,
    tokens: parseTokens(`${READ}:read ${CONTROL}:control ${ADMIN}:read,control`),
    logger: quiet,
    sessionTimeoutMs: opts.sessionTimeoutMs ?? 1000,
    webhookRetryDelaysMs: [50, 100],
    ...(opts.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: opts.rateLimitPerMinute } : {}),
  });
  const { port } = await api.listen('127.0.0.1', 0);
  const base = `http://127.0.0.1:${port}`;
  let seq = 0;
  const h: Harness = {
    api,
    runtime,
    config,
    dir,
    recordings,
    base,
    events,
    legs,
    async call(to, from = 'alice@example.com') {
      const leg = new SimCallLeg({
        id: `in-${++seq}`,
        from,
        to,
        source: '127.0.0.1',
        transport: 'udp',
        headers: {},
        direction: 'inbound',
      });
      legs.push(leg);
      await runtime.acceptCall(leg);
      return leg;
    },
    req(method, url, body, token = ADMIN) {
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      return fetch(`${base}${url}`, {
        method,
        headers,
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
    },
    async waitFor(probe, what, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = probe();
        if (v !== undefined && v !== false) return v as never;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      await runtime.shutdown('test end');
      await api?.close();
      await config.close();
      clearInterval(pump);
      rmSync(dir, { recursive: true, force: true });
      if (!opts.recordings) rmSync(recordings, { recursive: true, force: true });
    },
  };
  return h;
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field by the assertions.
export type Json = any;
export const json = (res: Response): Promise<Json> => res.json() as Promise<Json>;
