/** Properties of DTMF collection and audience resolution over generated inputs. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/runtime/clock.js';
import { resolveAudience } from '../../../src/runtime/conference/audience.js';
import { Collector, type CollectResult } from '../../../src/runtime/flow/collect.js';
import { tick } from './helpers.js';

/** What collect must yield for keys typed quickly in one entry (no timeouts between keys). */
function expected(keys: string, digits: number, end: string, min: number): string | undefined {
  let entry = '';
  for (const k of keys) {
    if (k === end) break;
    entry += k;
    if (entry.length >= digits) break;
  }
  return entry.length >= min ? entry : undefined;
}

describe('Collector properties', () => {
  it('an entry ends at the end key or at `digits`, and counts only from `min`', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: fc.constantFrom('0', '1', '2', '9', '*', '#'), maxLength: 12 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        async (keys, digits, min) => {
          const clock = new VirtualClock();
          const c = new Collector({ digits, min, end: '#', timeoutMs: 1000, tries: 1 }, clock, undefined);
          const abort = new AbortController();
          const result: Promise<CollectResult> = c.run(abort.signal);
          for (const k of keys) c.feed(k);
          // Whatever was not ended by a key ends by the timeout.
          while (clock.fireNext(Number.POSITIVE_INFINITY)) await tick();
          const r = await result;
          const want = expected(keys, digits, '#', min);
          if (want === undefined) expect(r).toEqual({ kind: 'exhausted', tries: 1 });
          else expect(r).toEqual({ kind: 'collected', digits: want, tries: 1 });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('audience properties', () => {
  const member = fc.record({ id: fc.uuid(), role: fc.constantFrom('participant', 'moderator', 'coach') });
  it('self and others partition all; roles select exactly their members', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(member, { selector: (m) => m.id, maxLength: 8 }),
        fc.nat(),
        (members, pick) => {
          const self = members.length ? members[pick % members.length]!.id : undefined;
          const ctx = self === undefined ? {} : { self };
          const all = resolveAudience('all', members, ctx);
          const mine = resolveAudience('self', members, ctx);
          const others = resolveAudience('others', members, ctx);
          expect([...mine, ...others].sort()).toEqual([...all].sort());
          expect(mine.filter((id) => others.includes(id))).toEqual([]);
          for (const role of ['participant', 'moderator', 'coach']) {
            const ids = resolveAudience(`role:${role}`, members, ctx);
            expect(ids).toEqual(members.filter((m) => m.role === role).map((m) => m.id));
          }
          expect(resolveAudience('participant', members, {})).toEqual([]);
        },
      ),
    );
  });
});
