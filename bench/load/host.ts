/**
 * The server side of the load benchmark: the same ParleyServer `parley serve` runs, started
 * in a child process of bench/load/run.ts, which also answers the benchmark's requests for
 * engine statistics over the IPC channel. `parley serve` has no way to expose them yet, so
 * this host keeps a reference to the engine the server opens (by wrapping
 * `MediaEngine.open`, in this process only).
 *
 * `--limits relaxed` raises the SIP guard's per-source rate and dialog caps: every sipp call
 * comes from one address, and the defaults (20 new transactions per second per source, 1000
 * dialogs) would measure the guard instead of the server. ParleyServer does not pass SIP
 * limits through, so the host wraps `SipServer.listen` for that too.
 *
 * The last three arguments are the engine settings `parley serve` takes as --rt-priority,
 * --send-spread and --tick-spin.
 *
 * PARLEY_LOAD_ADDON names a private copy of build/Release/parley_media.node that run.ts took
 * under the build lock: the addon is rebuilt often in a shared tree, and a run must measure
 * one build from start to end. The copy is put in the require cache under the addon's usual
 * name, so src/media/native.ts finds it there.
 *
 * Usage (run.ts does this):
 *   node --import tsx bench/load/host.ts CONFIG_DIR SIP_PORT RTP_MIN RTP_MAX relaxed|default [RT_PRIORITY SPREAD_MS SPIN_US]
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import pino from 'pino';
import { type EngineStats, MediaEngine } from '../../src/media/engine.js';
import { ParleyServer } from '../../src/runtime/live/server.js';
import type { SipLimits } from '../../src/sip/guard/index.js';
import { SipServer } from '../../src/sip/server.js';

export type HostRequest = { type: 'stats'; conferences: string[] } | { type: 'stop' };

export type HostReply =
  | { type: 'ready'; pid: number }
  | {
      type: 'stats';
      engine: EngineStats;
      /** Largest mix time of any listed conference since it started (µs) and their late ticks. */
      mixMaxUs: number;
      conferenceLateTicks: number;
      conferences: number;
      sessions: number;
    }
  | { type: 'error'; message: string };

const RELAXED: Partial<SipLimits> = {
  rateLimitExempt: ['127.0.0.1'],
  maxDialogs: 100_000,
  globalTransactionsPerSecond: 100_000,
  globalTransactionBurst: 100_000,
};

function send(reply: HostReply): void {
  process.send?.(reply);
}

function useAddonCopy(copy: string): void {
  const require = createRequire(import.meta.url);
  const addon = path.resolve(import.meta.dirname, '../../build/Release/parley_media.node');
  const exports: unknown = require(copy);
  // A module record as Node's loader keeps it; only `exports` and `loaded` are read back.
  require.cache[addon] = { id: addon, filename: addon, loaded: true, exports } as NodeJS.Module;
}

async function main(): Promise<void> {
  if (process.env.PARLEY_LOAD_ADDON) useAddonCopy(process.env.PARLEY_LOAD_ADDON);
  const [config, sipPort, rtpMin, rtpMax, limits, realtime = '0', spread = '0', spin = '0'] =
    process.argv.slice(2);
  if (!config || !sipPort || !rtpMin || !rtpMax || (limits !== 'relaxed' && limits !== 'default')) {
    throw new Error(
      'usage: host.ts CONFIG_DIR SIP_PORT RTP_MIN RTP_MAX relaxed|default [RT_PRIORITY SPREAD_MS SPIN_US]',
    );
  }
  let engine: MediaEngine | undefined;
  const open = MediaEngine.open.bind(MediaEngine);
  MediaEngine.open = (options) => {
    engine = open(options);
    return engine;
  };
  if (limits === 'relaxed') {
    const listen = SipServer.listen.bind(SipServer);
    SipServer.listen = (options) => listen({ ...options, limits: { ...options.limits, ...RELAXED } });
  }
  const server = await ParleyServer.start({
    config: [config],
    sip: { address: '127.0.0.1', udpPort: Number(sipPort), tcpPort: false },
    rtp: {
      address: '127.0.0.1',
      portMin: Number(rtpMin),
      portMax: Number(rtpMax),
      realtimePriority: Number(realtime),
      sendSpreadMs: Number(spread),
      tickSpinUs: Number(spin),
    },
    recordings: `${process.env.TMPDIR ?? '/tmp'}/parley-load-recordings-${process.pid}`,
    logger: pino({ level: 'warn', base: undefined }, pino.destination(2)),
  });
  process.on('message', (msg: HostRequest) => {
    if (msg.type === 'stop') {
      void server.stop('benchmark finished', 0).done.finally(() => process.exit(0));
      return;
    }
    if (msg.type !== 'stats' || !engine) return;
    try {
      let mixMaxUs = 0;
      let conferenceLateTicks = 0;
      let conferences = 0;
      for (const name of msg.conferences) {
        try {
          const c = engine.conferenceStats(name);
          mixMaxUs = Math.max(mixMaxUs, c.mixMaxUs);
          conferenceLateTicks += c.lateTicks;
          conferences++;
        } catch {
          // Not (or no longer) running: a room nobody reached, or one already ended.
        }
      }
      send({
        type: 'stats',
        engine: engine.engineStats(),
        mixMaxUs,
        conferenceLateTicks,
        conferences,
        sessions: server.runtime.flowSessions().length,
      });
    } catch (err) {
      send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  });
  process.on('disconnect', () => {
    // The benchmark is gone: do not linger holding ports.
    void server.stop('benchmark gone', 0).done.finally(() => process.exit(0));
  });
  send({ type: 'ready', pid: process.pid });
}

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100);
});
