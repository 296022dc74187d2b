/**
 * Cost of the RTP receive path: ns per received packet (parse, source and sequence
 * checks, statistics, jitter-buffer insert) and per 20 ms pull (decode, concealment,
 * playout), for PCMU and Opus, without and with 5 % loss. Packets go in batches of 32
 * and frames come out in batches of 32, each batch timed as a whole, so the clock reads
 * do not dominate; every figure still includes one Node-API call (~0.1 µs with a Buffer).
 * Prints JSON.
 *
 *   node --import tsx bench/media/jitter.ts
 */
import { loadNativeEngine } from '../../src/media/native.js';
import { toneStream } from '../../test/support/rtp-script.js';

const engine = loadNativeEngine();
const BATCH = 32;

function bench(codec: 'pcmu' | 'opus', pt: number, lossEvery: number) {
  const packets = 3008; // about 60 s of audio per round, a whole number of batches
  const sched = toneStream(engine, { codec, pt, ptimeMs: 20, packets }).map((s) => s.packet);
  const out = new Int16Array(codec === 'pcmu' ? 160 : 960);
  let pushNs = 0n;
  let pullNs = 0n;
  let pushes = 0;
  let pulls = 0;
  const rounds = 5;
  for (let r = 0; r <= rounds; r++) {
    // A 1 s target and 64 slots hold a whole batch ahead without the steering dropping frames.
    const s = new engine.ReceiveStream({
      payloadTypes: { [pt]: { codec } },
      jitter: { minDelayMs: 1000, maxDelayMs: 2000, initialDelayMs: 1000, slots: 64 },
    });
    for (let b = 0; b < packets; b += BATCH) {
      let n = 0;
      const t0 = process.hrtime.bigint();
      for (let k = b; k < b + BATCH; k++) {
        if (lossEvery === 0 || k % lossEvery !== 7) {
          s.push(sched[k]!, k * 20 + 1);
          n++;
        }
      }
      const t1 = process.hrtime.bigint();
      // Pull one batch behind what was pushed, so each pull finds its packet buffered.
      if (b > 0) for (let k = b - BATCH; k < b; k++) s.pullInto(k * 20 + 1020, out);
      const t2 = process.hrtime.bigint();
      if (r > 0) {
        // Round 0 warms up the JIT, the caches and the allocator.
        pushNs += t1 - t0;
        pushes += n;
        if (b > 0) {
          pullNs += t2 - t1;
          pulls += BATCH;
        }
      }
    }
  }
  return {
    codec,
    loss: lossEvery === 0 ? 0 : 1 / lossEvery,
    packets: pushes,
    pulls,
    nsPerPacket: Math.round(Number(pushNs) / pushes),
    nsPerPull: Math.round(Number(pullNs) / pulls),
  };
}

const results = [bench('pcmu', 0, 0), bench('pcmu', 0, 20), bench('opus', 111, 0), bench('opus', 111, 20)];
console.log(
  JSON.stringify({ bench: 'rtp-receive', note: 'each figure includes one Node-API call', results }, null, 2),
);
