/**
 * SIP call-setup benchmark: sipp places N calls (INVITE with offer → 200 → ACK → BYE) at a fixed
 * rate against a SipServer on loopback that answers each at once; prints one JSON line with the
 * calls completed, the achieved rate and this process's CPU time per call.
 *
 *   node --import tsx bench/sip/calls.ts [--calls 2000] [--rate 200] [--transport u1|t1]
 */
import { performance } from 'node:perf_hooks';
import { SipServer } from '../../src/sip/index.js';
import { runSipp } from '../../test/support/sipp.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const calls = Number(arg('calls', '2000'));
const rate = Number(arg('rate', '200'));
const transport = arg('transport', 'u1') === 't1' ? 't1' : 'u1';

const server = await SipServer.listen({
  address: '127.0.0.1',
  udpPort: 0,
  tcpPort: 0,
  mediaPrefs: ['pcmu', 'pcma'],
  // The benchmark is one source sending fast on purpose.
  limits: { rateLimitExempt: ['127.0.0.1'], maxDialogs: 100_000 },
});
/** Calls whose 200 was confirmed by an ACK (a BYE may overtake an ACK lost under load). */
let answered = 0;
let ended = 0;
server.onInvite((call) => {
  call.on('ended', () => {
    ended += 1;
  });
  // uac-call.xml checks for this port in the answer.
  call.answer({ address: '127.0.0.1', port: 40000 }).then(
    () => {
      answered += 1;
    },
    () => {},
  );
});

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const run = await runSipp({
  scenario: 'uac-call.xml',
  target: `127.0.0.1:${transport === 't1' ? server.tcpPort : server.udpPort}`,
  transport,
  calls,
  rate,
  timeoutS: Math.ceil(calls / rate) + 30,
  extraArgs: ['-l', String(Math.max(50, rate * 2))],
});
const result = await run.done;
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await server.close();

console.log(
  JSON.stringify({
    bench: 'sip-call-setup',
    transport,
    calls,
    requestedRate: rate,
    sippExit: result.code,
    confirmedByAck: answered,
    ended,
    seconds: Number(seconds.toFixed(2)),
    callsPerSecond: Number((ended / seconds).toFixed(1)),
    cpuMicrosPerCall: Math.round((cpu.user + cpu.system) / Math.max(1, ended)),
    heapMB: Math.round(process.memoryUsage().heapUsed / 1e6),
  }),
);
process.exit(result.code === 0 && ended === calls ? 0 : 1);
