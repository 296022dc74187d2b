/**
 * ParleyServer in-process for the security tests: a given configuration on 127.0.0.1 (SIP on a
 * free UDP port, its own RTP range, latching and SIP limits as asked), logs and runtime events
 * kept in memory, and the media engine's per-call figures (endpoint stats) by caller.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EndpointStats, EngineStats } from '../../src/media/engine.js';
import type { MediaEngineApi } from '../../src/runtime/live/media-api.js';
import { ParleyServer } from '../../src/runtime/live/server.js';
import { SipCallLeg } from '../../src/runtime/live/sip-leg.js';
import type { RuntimeEvent } from '../../src/runtime/ports.js';
import type { SipLimits } from '../../src/sip/guard/limits.js';
import { type LogEntry, MemoryLogger } from '../helpers/memory-logger.js';

export const SPRAY_CONFIG = path.resolve(import.meta.dirname, 'fixtures/spray');

export interface LiveOptions {
  rtp: { portMin: number; portMax: number; latching?: boolean };
  config?: string;
  limits?: Partial<SipLimits>;
  /** Listen on TCP too (a free port). Default UDP only. */
  tcp?: boolean;
}

export class LiveServer {
  readonly events: RuntimeEvent[] = [];

  private constructor(
    readonly server: ParleyServer,
    private readonly logger: MemoryLogger,
    private readonly recordings: string,
  ) {}

  static async start(options: LiveOptions): Promise<LiveServer> {
    const recordings = mkdtempSync(path.join(tmpdir(), 'parley-security-rec-'));
    const logger = new MemoryLogger({ debug: false });
    let live: LiveServer | undefined;
    const early: RuntimeEvent[] = [];
    const server = await ParleyServer.start({
      config: [options.config ?? SPRAY_CONFIG],
      sip: {
        address: '127.0.0.1',
        udpPort: 0,
        tcpPort: options.tcp ? 0 : false,
        ...(options.limits ? { limits: options.limits } : {}),
      },
      rtp: { address: '127.0.0.1', ...options.rtp },
      recordings,
      logger,
      onEvent: (e) => (live ? live.events.push(e) : early.push(e)),
    });
    live = new LiveServer(server, logger, recordings);
    live.events.push(...early);
    return live;
  }

  get sipPort(): number {
    return this.server.sip.udpPort;
  }

  get tcpPort(): number {
    return this.server.sip.tcpPort;
  }

  uri(user: string): string {
    return `sip:${user}@127.0.0.1:${this.sipPort}`;
  }

  get log(): readonly LogEntry[] {
    return this.logger.entries;
  }

  /**
   * The engine behind the server. ParleyServer keeps it private (nothing outside the server
   * should drive it); the tests only read its figures.
   */
  private get engine(): MediaEngineApi {
    // biome-ignore lint/complexity/useLiteralKeys: element access is TypeScript's way to read a private member in a test
    return this.server['engine'];
  }

  /** Call id (`c1`) → the From user, from the server's "incoming call" log lines. */
  callsByUser(): Map<string, string> {
    return this.logger.incomingCalls();
  }

  /** Endpoint stats of every live call, by From user. */
  endpointStats(): Map<string, EndpointStats & { endpoint: number }> {
    const byCall = new Map([...this.callsByUser()].map(([user, call]) => [call, user]));
    const out = new Map<string, EndpointStats & { endpoint: number }>();
    for (const f of this.server.runtime.flowSessions()) {
      if (!(f.leg instanceof SipCallLeg) || f.leg.endpoint === undefined) continue;
      const user = byCall.get(f.leg.id);
      const stats = this.engine.endpointStats?.(f.leg.endpoint);
      if (user && stats) out.set(user, { ...stats, endpoint: f.leg.endpoint });
    }
    return out;
  }

  engineStats(): EngineStats | undefined {
    return this.engine.stats?.();
  }

  /** Resolves once `count` calls are members of a conference (runtime `joined` events). */
  async waitJoined(count: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.filter((e) => e.type === 'joined').length < count) {
      if (Date.now() > deadline)
        throw new Error(
          `only ${this.events.filter((e) => e.type === 'joined').length} of ${count} joined\n${this.logTail()}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  logTail(lines = 60): string {
    return `${this.logger.tail(lines)}\n--- events ---\n${this.events.map((e) => `${e.source}:${e.type}`).join(', ')}`;
  }

  async stop(): Promise<void> {
    await this.server.stop('test end').done;
    rmSync(this.recordings, { recursive: true, force: true });
  }
}
