/**
 * The media clock's late ticks on /metrics: the total and the split by cause follow the engine's
 * cumulative counts scrape by scrape, and every cause is there (at 0) before it first happens.
 */
import { describe, expect, it } from 'vitest';
import type { ApiBackend, EngineFigures } from '../../src/api/backend.js';
import { EventHub } from '../../src/api/event-hub.js';
import { Metrics } from '../../src/api/metrics.js';

function figures(late: EngineFigures['lateTicksBy']): EngineFigures {
  return {
    ticks: 1000,
    lateTicks: late.overrun + late.wake + late.lock,
    lateTicksBy: late,
    tickWorkLastUs: 100,
    tickWorkMaxUs: 200,
    endpoints: 0,
    conferences: 0,
    packetsIn: 0,
    packetsOut: 0,
    lost: 0,
    jitterMs: 0,
  };
}

describe('late tick metrics', () => {
  it('counts late ticks in total and by cause, from the engine figures of each scrape', async () => {
    let current = figures({ overrun: 0, wake: 0, lock: 0 });
    // Only what the metrics read on a scrape: no flows, no conferences, a configuration version.
    const backend = {
      runtime: { flowSessions: () => [], conferences: () => [] },
      config: { current: { version: 'abcdef0123456789' } },
      engineFigures: () => current,
    } as unknown as ApiBackend;
    const hub = new EventHub({
      conferenceOf: () => undefined,
      callerOf: () => undefined,
      version: () => 'abcdef0123456789',
      recordingPath: (file) => file,
    });
    const metrics = new Metrics(backend, hub);
    const scrape = async () => metrics.registry.metrics();

    let text = await scrape();
    for (const cause of ['overrun', 'wake', 'lock'])
      expect(text).toContain(`parley_mix_late_ticks_by_cause_total{cause="${cause}"} 0`);

    current = figures({ overrun: 1, wake: 4, lock: 0 });
    text = await scrape();
    expect(text).toMatch(/^parley_mix_late_ticks_total 5$/m);
    expect(text).toContain('parley_mix_late_ticks_by_cause_total{cause="overrun"} 1');
    expect(text).toContain('parley_mix_late_ticks_by_cause_total{cause="wake"} 4');
    expect(text).toContain('parley_mix_late_ticks_by_cause_total{cause="lock"} 0');

    current = figures({ overrun: 1, wake: 6, lock: 2 });
    text = await scrape();
    expect(text).toMatch(/^parley_mix_late_ticks_total 9$/m);
    expect(text).toContain('parley_mix_late_ticks_by_cause_total{cause="wake"} 6');
    expect(text).toContain('parley_mix_late_ticks_by_cause_total{cause="lock"} 2');
  });
});
