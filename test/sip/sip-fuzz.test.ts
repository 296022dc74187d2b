/**
 * Hostile input never escapes as an exception: the RFC 4475 messages mutated (byte flips,
 * truncations, splices, duplicated and swapped header lines, inserted separators) go through
 * parseDatagram, StreamFramer (random chunking) and parseSdpSafe; every verdict has a sane shape,
 * and whatever is accepted or rejected can be serialized and parsed back. An input that breaks a
 * property is saved under test/fixtures/sip-crashes/ and replayed by the regression test below.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  INTERNAL_ERROR,
  makeResponse,
  parseDatagram,
  StreamFramer,
  serialize,
  type WireVerdict,
} from '../../src/sip/wire/index.js';
import { parseSdpSafe } from '../../src/sip/wire/sdp-guard.js';
import { loadTortureCases } from '../unit/sip/rfc4475-corpus.js';

const CRASH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/sip-crashes');
const SEEDS = loadTortureCases().map((c) => c.bytes);
const SDP_SEEDS = SEEDS.map((b) => b.subarray(b.indexOf('\r\n\r\n') + 4)).filter(
  (b) => b.subarray(0, 4).toString() === 'v=0\r',
);

/** Byte strings that sit on the grammar's edges. */
const PIECES = [
  '\r\n',
  '\r\n ',
  '\r\n\r\n',
  '\r',
  '\n',
  ':',
  ';',
  ',',
  '"',
  '\\',
  '<',
  '>',
  '@',
  '%00',
  '\x00',
  '\x7f',
  '\xff',
  ' ',
  '\t',
  '=',
  'SIP/2.0',
  'Content-Length: -1\r\n',
  'Content-Length: 99999\r\n',
  'l: 0\r\n',
  'Via: SIP/2.0/UDP [::1\r\n',
  'CSeq: 4294967296 INVITE\r\n',
  'Contact: *\r\n',
  'm=audio 70000 RTP/AVP 0\r\n',
  'a=rtpmap:x\r\n',
  'c=IN IP9 ?\r\n',
];

type Mutation =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'insert'; at: number; piece: number }
  | { kind: 'splice'; at: number; seed: number; from: number; len: number }
  | { kind: 'dupLine'; line: number }
  | { kind: 'swapLines'; a: number; b: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), piece: fc.nat(PIECES.length - 1) }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    seed: fc.nat(SEEDS.length - 1),
    from: fc.nat(),
    len: fc.integer({ min: 1, max: 200 }),
  }),
  fc.record({ kind: fc.constant('dupLine' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
);

function lines(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n', from)) {
    out.push(buf.subarray(from, i + 2));
    from = i + 2;
  }
  out.push(buf.subarray(from));
  return out;
}

function mutate(seed: Buffer, mutations: Mutation[]): Buffer {
  let b = Buffer.from(seed);
  for (const m of mutations) {
    const at =
      b.length === 0
        ? 0
        : (m as { at?: number }).at === undefined
          ? 0
          : (m as { at: number }).at % (b.length + 1);
    switch (m.kind) {
      case 'flip':
        if (b.length > 0) b[at % b.length] = m.byte;
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
      case 'insert':
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from(PIECES[m.piece] as string, 'latin1'),
          b.subarray(at),
        ]);
        break;
      case 'splice': {
        const src = SEEDS[m.seed] as Buffer;
        const from = m.from % src.length;
        b = Buffer.concat([b.subarray(0, at), src.subarray(from, from + m.len), b.subarray(at)]);
        break;
      }
      case 'dupLine': {
        const ls = lines(b);
        const i = m.line % ls.length;
        ls.splice(i, 0, ls[i] as Buffer);
        b = Buffer.concat(ls);
        break;
      }
      case 'swapLines': {
        const ls = lines(b);
        const i = m.a % ls.length;
        const j = m.b % ls.length;
        [ls[i], ls[j]] = [ls[j] as Buffer, ls[i] as Buffer];
        b = Buffer.concat(ls);
        break;
      }
    }
  }
  return b;
}

const inputArb = fc
  .tuple(fc.nat(SEEDS.length - 1), fc.array(mutationArb, { minLength: 1, maxLength: 5 }))
  .map(([seed, ms]) => mutate(SEEDS[seed] as Buffer, ms));

function saveCrash(kind: string, input: Buffer): void {
  mkdirSync(CRASH_DIR, { recursive: true });
  const name = `${kind}-${createHash('sha1').update(input).digest('hex').slice(0, 16)}.bin`;
  writeFileSync(resolve(CRASH_DIR, name), input);
}

/**
 * fc.assert that saves the shrunk counterexample (as the bytes that were fed in) under
 * test/fixtures/sip-crashes/ before failing, so it becomes a regression case.
 */
function assertSaving<T>(
  kind: string,
  arb: fc.Arbitrary<T>,
  toBytes: (v: T) => Buffer,
  check: (v: T) => void,
  numRuns: number,
): void {
  const details = fc.check(fc.property(arb, check), { numRuns });
  if (details.failed && details.counterexample) {
    const input = toBytes(details.counterexample[0]);
    saveCrash(kind, input);
    throw new Error(
      `${kind}: property failed (seed ${details.seed}); input saved under test/fixtures/sip-crashes/\n` +
        `${JSON.stringify(input.toString('latin1'))}\n${String(details.errorInstance)}`,
    );
  }
}

const WIRE_STATUSES = new Set([400, 413, 416, 505]);

/** Plain checks, not expect(): they run hundreds of thousands of times and must cost nothing when they pass. */
function ensure(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(what());
}

function checkVerdict(v: WireVerdict): void {
  switch (v.kind) {
    case 'drop':
      ensure(!v.reason.startsWith(INTERNAL_ERROR), () => v.reason);
      return;
    case 'keepalive':
      return;
    case 'reject': {
      ensure(WIRE_STATUSES.has(v.status), () => `unexpected status ${v.status}`);
      ensure(v.request.headers.via.length > 0, () => 'rejection without Via');
      // The answer must be writable; it echoes the request's own (possibly invalid) headers, so
      // only its status line is ours to vouch for.
      const answer = serialize(makeResponse(v.request, v.status, v.reason));
      ensure(
        answer.toString('latin1').startsWith(`SIP/2.0 ${v.status} `),
        () => 'bad status line in the answer',
      );
      const back = parseDatagram(answer);
      ensure(back.kind !== 'drop' || !back.reason.startsWith(INTERNAL_ERROR), () => JSON.stringify(back));
      return;
    }
    case 'message': {
      const back = parseDatagram(serialize(v.message));
      ensure(
        back.kind === 'message',
        () => `serialized message does not parse back: ${JSON.stringify(back)}`,
      );
      return;
    }
  }
}

const checkDatagram = (input: Buffer): void => checkVerdict(parseDatagram(input));

const checkStream =
  (cuts: number[]) =>
  (input: Buffer): void => {
    const framer = new StreamFramer({ maxMessageBytes: 8192, maxHeaderBytes: 4096, maxBufferedBytes: 16384 });
    let from = 0;
    for (const cut of [...cuts.map((c) => c % (input.length + 1)).sort((a, b) => a - b), input.length]) {
      for (const v of framer.push(input.subarray(from, Math.max(from, cut)))) checkVerdict(v);
      from = Math.max(from, cut);
    }
    ensure(!String(framer.fatal ?? '').startsWith(INTERNAL_ERROR), () => String(framer.fatal));
  };

const checkSdp = (input: Buffer): void => {
  const v = parseSdpSafe(input.toString('latin1'));
  if (!v.ok) ensure(!v.reason.startsWith(INTERNAL_ERROR), () => v.reason);
  else ensure(Array.isArray(v.sdp.media), () => 'SDP without a media list');
};

// About 20 s in all on an idle 2-core machine; the timeout leaves room for a loaded one.
describe('SIP fuzzing', { timeout: 90_000 }, () => {
  it('parseDatagram: mutated torture messages', () => {
    assertSaving('datagram', inputArb, (b) => b, checkDatagram, 50_000);
  });

  it('StreamFramer: several mutated messages in random chunks', () => {
    const streamArb = fc.tuple(
      fc.array(inputArb, { minLength: 1, maxLength: 3 }),
      fc.array(fc.nat(), { maxLength: 8 }),
    );
    assertSaving(
      'stream',
      streamArb,
      ([parts]) => Buffer.concat(parts),
      ([parts, cuts]) => checkStream(cuts)(Buffer.concat(parts)),
      20_000,
    );
  });

  it('StreamFramer: unmutated messages give the same verdicts however they are chunked', () => {
    const valid = SEEDS.filter((b) => {
      const f = new StreamFramer();
      f.push(b);
      return f.fatal === undefined && !f.partial;
    });
    const arb = fc.tuple(
      fc.array(fc.constantFrom(...valid), { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat(), { maxLength: 10 }),
    );
    fc.assert(
      fc.property(arb, ([parts, cuts]) => {
        const all = Buffer.concat(parts);
        const whole = new StreamFramer().push(all);
        const framer = new StreamFramer();
        const got: WireVerdict[] = [];
        let from = 0;
        for (const cut of [...cuts.map((c) => c % (all.length + 1)).sort((a, b) => a - b), all.length]) {
          got.push(...framer.push(all.subarray(from, Math.max(from, cut))));
          from = Math.max(from, cut);
        }
        expect(got).toEqual(whole);
        expect(got).toHaveLength(parts.length);
      }),
      { numRuns: 1_500 },
    );
  });

  it('parseSdpSafe: mutated SDP bodies and random text', () => {
    const sdpArb = fc.oneof(
      fc
        .tuple(fc.nat(SDP_SEEDS.length - 1), fc.array(mutationArb, { minLength: 1, maxLength: 5 }))
        .map(([seed, ms]) => mutate(SDP_SEEDS[seed] as Buffer, ms)),
      fc.string({ maxLength: 300 }).map((s) => Buffer.from(`v=0\r\n${s}`, 'latin1')),
    );
    assertSaving('sdp', sdpArb, (b) => b, checkSdp, 100_000);
  });

  it('replays every saved crash input', () => {
    const files = existsSync(CRASH_DIR) ? readdirSync(CRASH_DIR).filter((f) => f.endsWith('.bin')) : [];
    for (const f of files) {
      const input = readFileSync(resolve(CRASH_DIR, f));
      checkVerdict(parseDatagram(input));
      checkStream([1, 7, 64])(input);
      checkSdp(input);
    }
  });
});
