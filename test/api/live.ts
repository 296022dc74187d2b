/**
 * A real ParleyServer with its HTTP API for end-to-end API tests: SIP on a free UDP
 * port of 127.0.0.1, RTP in a range given per test file, the API on a free port with
 * one read+control token, recordings in a temporary folder, logs kept in memory.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseTokens } from '../../src/api/tokens.js';
import { ParleyServer } from '../../src/runtime/live/server.js';
import { MemoryLogger } from '../helpers/memory-logger.js';
import { CONFERENCES, type Json, json } from './harness.js';

export const TOKEN = 'live-test-token-0123456789abcdef';

export interface Live {
  server: ParleyServer;
  base: string;
  dir: string;
  recordings: string;
  uri(user: string): string;
  req(method: string, url: string, body?: unknown): Promise<Response>;
  get(url: string): Promise<Json>;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export async function startLive(opts: {
  rtp: { portMin: number; portMax: number };
  /** Copy of `conferences/` to serve (and edit); default the shipped folder itself. */
  copy?: boolean;
  watch?: boolean;
}): Promise<Live> {
  const dir = opts.copy ? mkdtempSync(path.join(tmpdir(), 'parley-live-conf-')) : CONFERENCES;
  if (opts.copy) cpSync(CONFERENCES, dir, { recursive: true });
  const recordings = mkdtempSync(path.join(tmpdir(), 'parley-live-rec-'));
  const logger = new MemoryLogger({ debug: false });
  const server = await ParleyServer.start({
    config: [dir],
    root: dir,
    sip: { address: '127.0.0.1', udpPort: 0, tcpPort: false },
    rtp: { address: '127.0.0.1', ...opts.rtp },
    recordings,
    logger,
    http: { host: '127.0.0.1', port: 0, tokens: parseTokens(`${TOKEN}:read,control`) },
    ...(opts.watch ? { watch: true } : {}),
  });
  const address = server.control?.address;
  if (!address) throw new Error('the HTTP API did not start');
  const base = `http://127.0.0.1:${address.port}`;
  const req = (method: string, url: string, body?: unknown) =>
    fetch(`${base}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  return {
    server,
    base,
    dir,
    recordings,
    uri: (user) => `sip:${user}@127.0.0.1:${server.sip.udpPort}`,
    req,
    async get(url) {
      const res = await req('GET', url);
      if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
      return json(res);
    },
    logTail: (lines = 60) => logger.tail(lines),
    async stop() {
      await server.stop('test end').done;
      if (!process.env.PARLEY_KEEP_E2E) {
        rmSync(recordings, { recursive: true, force: true });
        if (opts.copy) rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export async function until<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 10_000,
  explain: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${explain()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
