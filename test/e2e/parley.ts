/**
 * Parley in-process for end-to-end tests: the shipped `conferences/` examples served on
 * 127.0.0.1 (SIP on a free UDP port, TCP off, RTP in a range given per test file so files
 * running side by side never share ports; the ranges sit in 11600–13999, below the kernel's
 * ephemeral ports and apart from baresip's 14000–19999), recordings in a temporary folder, logs and
 * runtime events kept in memory for assertions and failure messages.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { parseTokens } from '../../src/api/tokens.js';
import { ParleyServer } from '../../src/runtime/live/server.js';
import type { RuntimeEvent } from '../../src/runtime/ports.js';
import { MemoryLogger } from '../helpers/memory-logger.js';
import { type Baresip, stopAllBaresip } from '../support/baresip.js';

export const CONFERENCES = path.resolve(import.meta.dirname, '../../conferences');

/** Bearer token (read and control) of the HTTP API when a test starts it (`http: true`). */
export const E2E_TOKEN = 'e2e-test-token-0123456789abcdef';

/**
 * A temporary copy of `conferences/` with exact text replacements in named files, for
 * examples that dial `sip:USER@127.0.0.1` (port 5060, which a test cannot bind): the
 * replacement points the dial at a client's real port and leaves the flow as shipped.
 * Throws when a search text is missing, so a changed example fails loudly instead of
 * silently dialling port 5060. Remove the folder with `rmSync(dir, { recursive: true })`.
 */
export function conferencesCopy(edits: Record<string, ReadonlyArray<readonly [string, string]>>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-e2e-conf-'));
  cpSync(CONFERENCES, dir, { recursive: true });
  for (const [file, pairs] of Object.entries(edits)) {
    const target = path.join(dir, file);
    let text = readFileSync(target, 'utf8');
    for (const [from, to] of pairs) {
      if (!text.includes(from))
        throw new Error(`conferences/${file} no longer contains ${JSON.stringify(from)}`);
      text = text.split(from).join(to);
    }
    writeFileSync(target, text);
  }
  return dir;
}

export interface E2eOptions {
  /** Configuration folder to serve instead of the shipped `conferences/` (see conferencesCopy). */
  config?: string;
  /** Start the HTTP API on a free port of 127.0.0.1 with E2E_TOKEN (read, control). */
  http?: boolean;
  /** Also SIP over TLS on a free port, with this certificate and key. */
  tls?: { cert: Buffer; key: Buffer };
}

export interface E2eParley {
  server: ParleyServer;
  /** `sip:USER@127.0.0.1:PORT` for a request-URI user (the number a route matches). */
  uri(user: string): string;
  /** `sip:USER@127.0.0.1:PORT;transport=tls` (only when started with `tls`). */
  tlsUri(user: string): string;
  recordings: string;
  events: RuntimeEvent[];
  /** `client.established()`, with the server's log added to a failure. */
  established(client: Baresip, timeoutMs?: number): Promise<void>;
  /** Wall-clock ms at which the test process received a runtime event. */
  timeOf(event: RuntimeEvent): number;
  /** The runtime's event source (`call:cN`) of the latest call from a From user. */
  callOf(user: string): string;
  /** Resolves once `count` events of `type` came from the call of `user`; returns the last. */
  waitCallEvent(user: string, type: string, count?: number, timeoutMs?: number): Promise<RuntimeEvent>;
  /** Resolves with the first runtime event (from now or earlier) that matches. */
  waitEvent(match: (e: RuntimeEvent) => boolean, what: string, timeoutMs?: number): Promise<RuntimeEvent>;
  logTail(lines?: number): string;
  eventSummary(): string;
  /** A request to the HTTP API with the test token (only when started with `http: true`). */
  req(method: string, url: string, body?: unknown): Promise<Response>;
  stop(): Promise<void>;
}

export async function startParley(
  rtp: { portMin: number; portMax: number },
  options: E2eOptions = {},
): Promise<E2eParley> {
  const recordings = mkdtempSync(path.join(tmpdir(), 'parley-e2e-rec-'));
  const logger = new MemoryLogger();
  const events: RuntimeEvent[] = [];
  const times = new WeakMap<RuntimeEvent, number>();
  const started = Date.now();
  let waiters: Array<() => void> = [];
  const server = await ParleyServer.start({
    config: [options.config ?? CONFERENCES],
    ...(options.config ? { root: options.config } : {}),
    ...(options.http
      ? { http: { host: '127.0.0.1', port: 0, tokens: parseTokens(`${E2E_TOKEN}:read,control`) } }
      : {}),
    sip: {
      address: '127.0.0.1',
      udpPort: 0,
      tcpPort: false,
      ...(options.tls ? { tls: { port: 0, ...options.tls } } : {}),
    },
    rtp: { address: '127.0.0.1', ...rtp },
    recordings,
    logger,
    onEvent: (e) => {
      events.push(e);
      times.set(e, Date.now());
      logger.note('event', `${e.source} ${e.type}`, e.fields);
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    },
  });
  const port = server.sip.udpPort;
  const logTail = (lines = 80): string => logger.tail(lines);
  const eventSummary = (): string => events.map((e) => `${e.source}:${e.type}`).join(', ');
  const waitEvent = async (
    match: (e: RuntimeEvent) => boolean,
    what: string,
    timeoutMs = 10_000,
  ): Promise<RuntimeEvent> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `parley: no ${what} within ${timeoutMs} ms (${((Date.now() - started) / 1000).toFixed(1)} s after start)\n${logTail()}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  const callOf = (user: string): string => {
    const call = logger.incomingCalls().get(user);
    if (call === undefined) throw new Error(`parley has no call from ${user}\n${logTail()}`);
    return `call:${call}`;
  };
  return {
    server,
    async established(client, timeoutMs) {
      try {
        await client.established(timeoutMs);
      } catch (err) {
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n${logTail(60)}`);
      }
    },
    timeOf: (e) => times.get(e) ?? Number.NaN,
    callOf,
    waitEvent,
    async waitCallEvent(user, type, count = 1, timeoutMs = 10_000) {
      await waitEvent(() => logger.incomingCalls().has(user), `a call from ${user}`, timeoutMs);
      const source = callOf(user);
      const mine = (e: RuntimeEvent): boolean => e.source === source && e.type === type;
      await waitEvent(
        () => events.filter(mine).length >= count,
        `${type} #${count} from ${source} (${user})`,
        timeoutMs,
      );
      return events.filter(mine)[count - 1]!;
    },
    uri: (user) => `sip:${user}@127.0.0.1:${port}`,
    tlsUri(user) {
      if (!options.tls) throw new Error('SIP over TLS is off: start Parley with { tls }');
      return `sip:${user}@127.0.0.1:${server.sip.tlsPort};transport=tls`;
    },
    req(method, url, body) {
      const address = server.control?.address;
      if (!address) throw new Error('the HTTP API is not running: start Parley with { http: true }');
      return fetch(`http://127.0.0.1:${address.port}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${E2E_TOKEN}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    },
    recordings,
    events,
    logTail,
    eventSummary,
    async stop() {
      // stop() returns at once; `done` resolves when calls, RTP and the HTTP API are closed.
      await server.stop('test end').done;
      if (!process.env.PARLEY_KEEP_E2E) rmSync(recordings, { recursive: true, force: true });
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A test's own server and configuration copy. */
export interface ServerSlot {
  parley?: E2eParley;
  config?: string;
}

/**
 * A slot for each test's server and configuration copy, emptied after every test: baresip
 * clients stopped, the server stopped, the copy removed.
 */
export function serverPerTest(): ServerSlot {
  const slot: ServerSlot = {};
  afterEach(async () => {
    await stopAllBaresip();
    await slot.parley?.stop();
    if (slot.config) rmSync(slot.config, { recursive: true, force: true });
    slot.parley = undefined;
    slot.config = undefined;
  });
  return slot;
}
