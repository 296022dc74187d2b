/**
 * Prometheus metrics (prom-client, a registry of our own): calls, conferences,
 * participants, RTP packets, loss, jitter, mix tick time, late ticks, reloads, the versions running.
 * Counters follow runtime events as they happen; gauges are read from the
 * runtime and the engine when scraped.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ReloadResult } from '../runtime/config-store.js';
import type { RuntimeEvent } from '../runtime/ports.js';
import { PARLEY_VERSION } from '../version.js';
import type { ApiBackend } from './backend.js';
import type { EventHub } from './event-hub.js';

export class Metrics {
  readonly registry = new Registry();
  private readonly calls: Counter<'outcome'>;
  private readonly reloads: Counter<'result'>;
  private readonly lateTicks: Counter;
  private readonly lateTicksByCause: Counter<'cause'>;
  private readonly lastLateBy = { overrun: 0, wake: 0, lock: 0 };
  private readonly events: Counter<'type'>;
  private lastLate = 0;

  constructor(backend: ApiBackend, hub: EventHub) {
    const registry = this.registry;
    collectDefaultMetrics({ register: registry, prefix: 'parley_process_' });
    this.calls = new Counter({
      name: 'parley_calls_total',
      help: 'Calls by outcome: answered (inbound), rejected, dialled (outbound answered), dial_failed',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.reloads = new Counter({
      name: 'parley_config_reloads_total',
      help: 'Configuration reloads by result: reloaded, unchanged, refused',
      labelNames: ['result'],
      registers: [registry],
    });
    this.events = new Counter({
      name: 'parley_api_events_total',
      help: 'Events published on the API stream, by type',
      labelNames: ['type'],
      registers: [registry],
    });
    hub.subscribe({}, (e) => this.events.inc({ type: e.type }));
    const figures = () => backend.engineFigures();
    this.lateTicks = new Counter({
      name: 'parley_mix_late_ticks_total',
      help: 'Media clock ticks that started late',
      registers: [registry],
      collect: () => {
        const f = figures();
        if (!f) return;
        // The engine's count is cumulative: add what happened since the last scrape.
        if (f.lateTicks > this.lastLate) this.lateTicks.inc(f.lateTicks - this.lastLate);
        this.lastLate = f.lateTicks;
      },
    });
    this.lateTicksByCause = new Counter({
      name: 'parley_mix_late_ticks_by_cause_total',
      help:
        "Late media clock ticks by what held them up: overrun (the engine's own work ran past the deadline), " +
        'wake (the OS woke the idle engine thread late: host or hypervisor), lock (an API call held the engine)',
      labelNames: ['cause'],
      registers: [registry],
      collect: () => {
        const f = figures();
        if (!f) return;
        for (const cause of ['overrun', 'wake', 'lock'] as const) {
          const now = f.lateTicksBy[cause];
          if (now > this.lastLateBy[cause])
            this.lateTicksByCause.inc({ cause }, now - this.lastLateBy[cause]);
          this.lastLateBy[cause] = now;
        }
      },
    });
    // Every cause shows from the first scrape, at 0 until it happens, so that rates can be taken.
    for (const cause of ['overrun', 'wake', 'lock']) this.lateTicksByCause.inc({ cause }, 0);
    new Gauge({
      name: 'parley_calls_active',
      help: 'Calls with a running flow',
      registers: [registry],
      collect() {
        this.set(backend.runtime.flowSessions().filter((f) => f.leg !== undefined && !f.ended).length);
      },
    });
    new Gauge({
      name: 'parley_conferences',
      help: 'Running standalone conferences',
      registers: [registry],
      collect() {
        this.set(backend.runtime.conferences().filter((c) => !c.ended).length);
      },
    });
    new Gauge({
      name: 'parley_participants',
      help: 'Participants in running standalone conferences',
      registers: [registry],
      collect() {
        let n = 0;
        for (const c of backend.runtime.conferences()) n += c.members().length;
        this.set(n);
      },
    });
    new Gauge({
      name: 'parley_rtp_packets',
      help: 'RTP packets of the live endpoints, by direction',
      labelNames: ['direction'],
      registers: [registry],
      collect() {
        const f = figures();
        if (!f) return;
        this.set({ direction: 'in' }, f.packetsIn);
        this.set({ direction: 'out' }, f.packetsOut);
      },
    });
    new Gauge({
      name: 'parley_rtp_packets_lost',
      help: 'RTP packets lost on the live endpoints',
      registers: [registry],
      collect() {
        const f = figures();
        if (f) this.set(f.lost);
      },
    });
    new Gauge({
      name: 'parley_rtp_jitter_ms',
      help: 'Mean interarrival jitter of the live endpoints with traffic',
      registers: [registry],
      collect() {
        const f = figures();
        if (f) this.set(f.jitterMs);
      },
    });
    new Gauge({
      name: 'parley_mix_tick_us',
      help: 'Work of one media clock tick (last and max since start), microseconds',
      labelNames: ['stat'],
      registers: [registry],
      collect() {
        const f = figures();
        if (!f) return;
        this.set({ stat: 'last' }, f.tickWorkLastUs);
        this.set({ stat: 'max' }, f.tickWorkMaxUs);
      },
    });
    new Gauge({
      name: 'parley_build_info',
      help: 'The Parley and Node.js versions running (value 1)',
      labelNames: ['version', 'node'],
      registers: [registry],
    }).set({ version: PARLEY_VERSION, node: process.version }, 1);
    new Gauge({
      name: 'parley_config_info',
      help: 'The configuration version serving now (value 1)',
      labelNames: ['version'],
      registers: [registry],
      collect() {
        this.reset();
        this.set({ version: backend.config.current.version.slice(0, 12) }, 1);
      },
    });
  }

  runtimeEvent(e: RuntimeEvent): void {
    if (
      !e.source.startsWith('call:') &&
      !e.source.startsWith('conference:') &&
      !e.source.startsWith('scenario:')
    )
      return;
    if (e.type === 'answer' && e.fields.early !== true) this.calls.inc({ outcome: 'answered' });
    else if (e.type === 'reject') this.calls.inc({ outcome: 'rejected' });
    else if (e.type === 'answered') this.calls.inc({ outcome: 'dialled' });
    else if (e.type === 'busy' || e.type === 'no-answer' || e.type === 'failed')
      this.calls.inc({ outcome: 'dial_failed' });
  }

  reload(result: ReloadResult): void {
    this.reloads.inc({ result: result.status });
  }
}
