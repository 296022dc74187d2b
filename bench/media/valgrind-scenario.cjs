// A short engine scenario for memcheck (bench/media/valgrind.sh): plain JS on the built addon, so
// that almost all the time under valgrind is spent in the engine. Endpoints send to each other over
// loopback, prompts feed the audio, every kind of object is created, used and destroyed, garbage
// hits the ports, and close() runs with objects still alive.
'use strict';
const dgram = require('node:dgram');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const addon = require(path.resolve(__dirname, '../../build/Release/parley_media.node'));

const seconds = Number(process.argv[2] ?? 3);
const events = [];
const engine = new addon.MediaEngine(
  { address: '127.0.0.1', portMin: 46000, portMax: 46200, rtpTimeoutMs: 500 },
  (batch) => events.push(...batch),
);
const tone = (freq, rate, n) =>
  Int16Array.from({ length: n }, (_, i) => Math.round(6000 * Math.sin((2 * Math.PI * freq * i) / rate)));
const codecs = [
  ['pcmu', 0, 8000],
  ['g722', 9, 16000],
  ['opus', 111, 48000],
];
const eps = codecs.map(() => engine.createEndpoint(false, false));
const mux = engine.createEndpoint(true, true);
// Each endpoint sends to the next one: a ring over loopback, every codec on the wire.
eps.forEach((ep, i) => {
  const [codec, pt, rate] = codecs[i];
  const next = eps[(i + 1) % eps.length];
  const [rcodec, rpt, rrate] = codecs[(i + eps.length - 1) % eps.length];
  engine.configureEndpoint(ep.id, {
    remoteAddress: '127.0.0.1',
    remotePort: next.port,
    sendCodec: codec,
    sendPayloadType: pt,
    sendRate: rate,
    payloadTypes: [
      [rpt, rcodec, rrate],
      [pt, codec, rate],
    ],
    telephoneEventPayloadType: 101,
    telephoneEventRate: 8000,
    direction: 'sendrecv',
  });
});
engine.configureEndpoint(mux.id, {
  remoteAddress: '127.0.0.1',
  remotePort: 9,
  sendCodec: 'pcmu',
  sendPayloadType: 0,
  payloadTypes: [[0, 'pcmu', 8000]],
  direction: 'sendrecv',
});
engine.createConference('a', 48000, 3);
engine.createConference('b', 8000, 2);
engine.link('a', 'b', 'both');
engine.join('a', eps[0].id, {});
engine.join('a', eps[1].id, { speakTo: [eps[0].id] });
engine.join('b', eps[2].id, { hearFrom: [eps[0].id] });
engine.join('b', mux.id, { muted: true });
engine.playToConference('a', tone(440, 16000, 16000), 16000, true);
const p2 = engine.playToEndpoint(eps[2].id, tone(880, 8000, 4000), 8000, false);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-vg-'));
const r1 = engine.recordConference('a', path.join(dir, 'a.wav'));
const r2 = engine.recordEndpoint(eps[1].id, path.join(dir, 'e1.wav'), 'both');
engine.recordEndpoint(eps[2].id, path.join(dir, 'e2.wav'), 'out');
const sock = dgram.createSocket('udp4');
let n = 0;
const spray = setInterval(() => {
  for (let i = 0; i < 5; i++) {
    const buf = Buffer.alloc((n * 37) % 300);
    for (let k = 0; k < buf.length; k++) buf[k] = (n * 31 + k * 17) & 0xff;
    if (buf.length > 0) buf[0] = 0x80 | (buf[0] & 0x3f);
    n++;
    for (const ep of [...eps, mux]) sock.send(buf, ep.port, '127.0.0.1');
  }
}, 20);
setTimeout(() => engine.sendDtmf(eps[0].id, '5', 100), 300);
setTimeout(
  () => {
    engine.updateRouting('a', eps[0].id, { muted: true, gain: 2 });
    try {
      engine.stopPlayer(p2);
    } catch {}
    engine.stopRecorder(r2);
    engine.unlink('a', 'b');
    engine.leave('b', mux.id);
    engine.destroyEndpoint(eps[1].id);
  },
  (seconds * 1000) / 2,
);
setTimeout(() => {
  clearInterval(spray);
  const stats = engine.stats();
  engine.destroyConference('b');
  engine.close(); // conference a, its recorder r1, the player and endpoints still alive
  sock.close();
  let threw = false;
  try {
    engine.stats();
  } catch (e) {
    threw = e.code === 'CLOSED';
  }
  console.log(
    JSON.stringify({
      ticks: stats.ticks,
      datagrams: stats.datagrams,
      events: events.length,
      closedThrows: threw,
      r1,
    }),
  );
}, seconds * 1000);
