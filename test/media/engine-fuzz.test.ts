import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MediaEngine, MediaEngineError } from '../../src/media/engine.js';

/** Anything a buggy caller might pass. */
const junk = fc.oneof(
  fc.integer({ min: -5, max: 70000 }),
  fc.constantFrom(0, 1, 2, 3, NaN, Infinity, -1, 2 ** 32, 0.5),
  fc.string({ maxLength: 8 }),
  fc.constantFrom('c', 'd', 'pcmu', 'opus', 'g722', 'both', 'in', 'out', 'sendrecv', '127.0.0.1'),
  fc.constant(undefined),
  fc.constant(null),
  fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 3 }),
  fc.record({ muted: fc.boolean(), gain: fc.double({ min: -2, max: 20 }), speakTo: fc.constant([1, 2]) }),
  fc.constant(new Int16Array(0)),
  fc.constant(new Int16Array(160)),
  fc.constant({ endpoint: 1 }),
  fc.constant({ conference: 'c' }),
  fc.constant({
    remote: { address: '127.0.0.1', port: 9 },
    send: { codec: 'pcmu', payloadType: 0 },
    receive: {
      payloadTypes: { 0: { codec: 'pcmu', rate: 8000 } },
      telephoneEvent: { payloadType: 101, rate: 8000 },
    },
    direction: 'sendrecv',
  }),
);

const METHODS = [
  'createEndpoint',
  'configureEndpoint',
  'destroyEndpoint',
  'createConference',
  'destroyConference',
  'join',
  'updateRouting',
  'leave',
  'play',
  'stopPlayer',
  'record',
  'stopRecorder',
  'link',
  'unlink',
  'sendDtmf',
  'endpointStats',
  'conferenceStats',
  'engineStats',
  'createBuffer',
  'releaseBuffer',
] as const;

describe('engine facade under random calls', () => {
  it('every call either works or throws a MediaEngineError; the engine keeps ticking', () => {
    const engine = MediaEngine.open({
      address: '127.0.0.1',
      portMin: 44000,
      portMax: 44400,
      onEvent: () => {},
    });
    try {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.constantFrom(...METHODS), fc.array(junk, { maxLength: 4 })), {
            maxLength: 40,
          }),
          (calls) => {
            for (const [method, args] of calls) {
              // Record targets would create files: only into a path that cannot exist.
              if (method === 'record') args[1] = '/nonexistent-parley-dir/x.wav';
              try {
                (engine[method] as (...a: unknown[]) => unknown)(...args);
              } catch (err) {
                if (!(err instanceof MediaEngineError)) throw err;
              }
            }
          },
        ),
        { numRuns: 150, endOnFailure: true },
      );
      const before = engine.engineStats().ticks;
      const until = Date.now() + 200;
      while (Date.now() < until) {
        // busy wait: the engine thread ticks on its own
      }
      expect(engine.engineStats().ticks).toBeGreaterThan(before);
      expect(engine.engineStats().internalErrors).toBe(0);
    } finally {
      engine.close();
    }
  });
});
