/**
 * Cost of the RTP receive path per packet and per 20 ms pull, for PCMU and Opus,
 * through the Node binding (so each figure includes one Node-API call, ~0.1 µs with a
 * Buffer). The pull includes decoding. Prints JSON.
 *
 *   node --import tsx bench/media/jitter.ts
 */
import { loadNativeEngine } from '../../src/media/native.js';
import { toneStream } from '../../test/support/rtp-script.js';

const engine = loadNativeEngine();

function bench(codec: 'pcmu' | 'opus', pt: number, lossEvery: number) {
  const packets = 3000; // 60 s of audio per round
  const sched = toneStream(engine, { codec, pt, ptimeMs: 20, packets }).map((s) => s.packet);
  const rate = codec === 'pcmu' ? 8000 : 48000;
  const out = new Int16Array(rate / 50);
  let pushNs = 0n;
  let pullNs = 0n;
  let pushes = 0;
  let pulls = 0;
  const rounds = 5;
  for (let r = 0; r < rounds + 1; r++) {
    const s = new engine.ReceiveStream({ payloadTypes: { [pt]: { codec } }, jitter: { minDelayMs: 40 } });
    let rp = 0n;
    let rl = 0n;
    for (let k = 0; k < packets; k++) {
      const t = k * 20;
      if (lossEvery === 0 || k % lossEvery !== 7) {
        const a = process.hrtime.bigint();
        s.push(sched[k]!, t + 1);
        rp += process.hrtime.bigint() - a;
        if (r > 0) pushes++;
      }
      const b = process.hrtime.bigint();
      s.pullInto(t + 20, out);
      rl += process.hrtime.bigint() - b;
      if (r > 0) pulls++;
    }
    if (r > 0) {
      // The first round warms up the JIT and the allocator.
      pushNs += rp;
      pullNs += rl;
    }
  }
  return {
    codec,
    loss: lossEvery === 0 ? 0 : 1 / lossEvery,
    packets: pushes,
    nsPerPacket: Number(pushNs) / pushes,
    nsPerPull: Number(pullNs) / pulls,
  };
}

const results = [bench('pcmu', 0, 0), bench('pcmu', 0, 20), bench('opus', 111, 0), bench('opus', 111, 20)];
console.log(
  JSON.stringify(
    { bench: 'rtp-receive', note: 'includes one Node-API call per operation', results },
    null,
    2,
  ),
);
