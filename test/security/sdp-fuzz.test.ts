/**
 * The SDP offer/answer code as a call reaches it, on hostile bodies: src/sip/sdp.ts parseSdp,
 * negotiateOffer, SdpSession.answer and acceptAnswer (the code behind parseSdpSafe's guard, which
 * test/sip/sip-fuzz.test.ts covers) on mutated SDP taken from the RFC 4475 torture messages, from
 * the offers of the sipp scenarios and from real baresip offers.
 *
 * Properties: nothing throws but SdpError (400 malformed, 488 unusable); whatever is accepted has
 * a sane shape (port, address, a codec we asked for, a positive ptime); every answer we build
 * parses back to our own address, port and chosen codec. A failing input is saved under
 * fixtures/sdp-crashes/ and replayed by the last test, so a crash found once stays a test.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  acceptAnswer,
  type CodecPref,
  negotiateOffer,
  parseSdp,
  SdpError,
  SdpSession,
} from '../../src/sip/sdp.js';
import { parseSdpSafe } from '../../src/sip/wire/sdp-guard.js';
import { SIPP_FIXTURES } from '../support/sipp.js';
import { loadTortureCases } from '../unit/sip/rfc4475-corpus.js';

const HERE = import.meta.dirname;
const CRASH_DIR = path.join(HERE, 'fixtures/sdp-crashes');

/** SDP bodies of the RFC 4475 messages (those that carry one). */
function tortureSdp(): string[] {
  return loadTortureCases()
    .map((c) => c.bytes.toString('latin1'))
    .map((t) => t.slice(t.indexOf('\r\n\r\n') + 4))
    .filter((b) => b.startsWith('v=0'));
}

/** The offers in the sipp scenarios, placeholders filled in as sipp would. */
function sippSdp(): string[] {
  const out: string[] = [];
  for (const f of readdirSync(SIPP_FIXTURES).filter((x) => x.endsWith('.xml'))) {
    const xml = readFileSync(path.join(SIPP_FIXTURES, f), 'latin1');
    for (const m of xml.matchAll(/\n(v=0\n[\s\S]*?)\n\s*\]\]>/g)) {
      out.push(
        m[1]!
          .replace(/\[(local|media)_ip_type\]/g, '4')
          .replace(/\[(local|media)_ip\]/g, '127.0.0.1')
          .replace(/\[media_port\]/g, '6000')
          .replace(/\[[a-z_]+\]/g, '1')
          .split('\n')
          .map((l) => l.trim())
          .join('\r\n'),
      );
    }
  }
  return out;
}

function baresipSdp(): string[] {
  const dir = path.join(HERE, 'fixtures/sdp');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sdp'))
    .map((f) => readFileSync(path.join(dir, f), 'latin1'));
}

const SEEDS = [...tortureSdp(), ...sippSdp(), ...baresipSdp()];

/** Lines that sit on the edges of the SDP grammar and of what the negotiation reads. */
const LINES = [
  'm=audio 0 RTP/AVP 0',
  'm=audio 65536 RTP/AVP 0',
  'm=audio 65535 RTP/AVP 0',
  'm=audio -1 RTP/AVP 0',
  'm=audio 6000/2 RTP/AVP 0 8',
  'm=audio 6000 RTP/SAVP 0',
  'm=audio 6000 RTP/AVP',
  'm=audio 6000 RTP/AVP 300',
  'm=video 6002 RTP/AVP 96',
  'c=IN IP4 0.0.0.0',
  'c=IN IP6 ::1',
  'c=IN IP4 999.1.1.1',
  'c=IN IP4',
  'a=rtpmap:0 PCMU/0',
  'a=rtpmap:96 opus/48000/2',
  'a=rtpmap:96 opus/48000/0',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:101 telephone-event/0',
  'a=rtpmap:101 telephone-event/48000',
  'a=fmtp:101 0-16,99999',
  'a=ptime:0',
  'a=ptime:-20',
  'a=ptime:1e9',
  'a=maxptime:NaN',
  'a=rtcp:0',
  'a=rtcp:70000 IN IP4 127.0.0.1',
  'a=rtcp-mux',
  'a=sendonly',
  'a=inactive',
  'a=recvonly',
  'a=',
  'b=AS:-1',
  '\u0000',
  'x',
];

type Mutation =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'line'; at: number; line: number }
  | { kind: 'dup'; at: number }
  | { kind: 'swap'; a: number; b: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant('line' as const), at: fc.nat(), line: fc.nat(LINES.length - 1) }),
  fc.record({ kind: fc.constant('dup' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
);

function mutate(seed: string, mutations: Mutation[]): string {
  let s = seed;
  for (const m of mutations) {
    const lines = s.split('\r\n');
    switch (m.kind) {
      case 'flip': {
        const at = m.at % (s.length + 1);
        s = s.slice(0, at) + String.fromCharCode(m.byte) + s.slice(at + 1);
        break;
      }
      case 'truncate':
        s = s.slice(0, m.at % (s.length + 1));
        break;
      case 'delete': {
        const at = m.at % (s.length + 1);
        s = s.slice(0, at) + s.slice(at + m.len);
        break;
      }
      case 'line':
        lines.splice(m.at % (lines.length + 1), 0, LINES[m.line]!);
        s = lines.join('\r\n');
        break;
      case 'dup': {
        const at = m.at % lines.length;
        lines.splice(at, 0, lines[at]!);
        s = lines.join('\r\n');
        break;
      }
      case 'swap': {
        const a = m.a % lines.length;
        const b = m.b % lines.length;
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        s = lines.join('\r\n');
        break;
      }
    }
  }
  return s;
}

class PropertyBroken extends Error {}

function ensure(ok: boolean, what: () => string): void {
  if (!ok) throw new PropertyBroken(what());
}

/** Runs `fn`; an SdpError with 400 or 488 is an accepted refusal, anything else breaks the property. */
function refusedOr<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SdpError && (err.status === 400 || err.status === 488)) return undefined;
    if (err instanceof PropertyBroken) throw err;
    throw new PropertyBroken(`threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
}

const PREFS: readonly CodecPref[][] = [['opus', 'g722', 'pcmu', 'pcma'], ['pcmu'], ['g722', 'pcma']];
const LOCAL = { address: '127.0.0.1', port: 33000 };

function check(text: string): void {
  const guard = parseSdpSafe(text);
  ensure(typeof guard.ok === 'boolean', () => 'parseSdpSafe without a verdict');
  const remote = refusedOr(() => parseSdp(text));
  if (!remote) return;
  ensure(
    Number.isInteger(remote.port) && remote.port >= 0 && remote.port <= 65535,
    () => `port ${remote.port}`,
  );
  ensure(
    Number.isInteger(remote.rtcpPort) && remote.rtcpPort >= 0 && remote.rtcpPort <= 65535,
    () => 'rtcp port',
  );
  ensure(typeof remote.address === 'string' && remote.address.length > 0, () => 'no address');
  ensure(Array.isArray(remote.codecs) && Array.isArray(remote.telephoneEvents), () => 'codec lists');
  for (const prefs of PREFS) {
    const media = refusedOr(() => negotiateOffer(remote, { ...LOCAL, codecs: prefs }));
    if (media) {
      ensure(prefs.includes(media.codec.id), () => `chose ${media.codec.id} outside ${prefs.join(',')}`);
      ensure(Number.isFinite(media.ptime) && media.ptime > 0, () => `ptime ${media.ptime}`);
    }
    const answered = refusedOr(() => new SdpSession().answer(text, { ...LOCAL, codecs: prefs }));
    if (answered) {
      const back = refusedOr(() => parseSdp(answered.sdp));
      ensure(back !== undefined, () => `our answer does not parse:\n${answered.sdp}`);
      ensure(back!.port === LOCAL.port && back!.address === LOCAL.address, () => 'answer address/port');
      ensure(
        back!.codecs[0]?.payloadType === answered.media.codec.payloadType,
        () => `answer codec ${back!.codecs[0]?.payloadType} vs ${answered.media.codec.payloadType}`,
      );
    }
  }
  // The same body read as the answer to an offer of ours (dial-out).
  const { offered } = new SdpSession().offer(LOCAL);
  const accepted = refusedOr(() => acceptAnswer(offered, remote));
  if (accepted)
    ensure(
      offered.codecs.some((c) => c.name.toLowerCase() === accepted.codec.name.toLowerCase()),
      () => 'accepted a codec we did not offer',
    );
}

function saveCrash(input: string): string {
  mkdirSync(CRASH_DIR, { recursive: true });
  const file = path.join(
    CRASH_DIR,
    `${createHash('sha256').update(input, 'latin1').digest('hex').slice(0, 16)}.sdp`,
  );
  writeFileSync(file, input, 'latin1');
  return file;
}

function fuzz(arb: fc.Arbitrary<string>, numRuns: number): void {
  const details = fc.check(
    fc.property(arb, (input) => {
      check(input);
    }),
    { numRuns },
  );
  if (details.failed && details.counterexample) {
    const input = details.counterexample[0];
    const file = saveCrash(input);
    expect.fail(
      `SDP property broken (saved as ${file}): ${String(details.errorInstance)}\n${JSON.stringify(input)}`,
    );
  }
  expect(details.numRuns).toBe(numRuns);
}

describe('SDP offer/answer fuzzing', { timeout: 120_000 }, () => {
  it('has seeds from every source', () => {
    expect(tortureSdp().length).toBeGreaterThan(5);
    expect(sippSdp().length).toBeGreaterThan(5);
    expect(baresipSdp().length).toBeGreaterThan(0);
    // Every unmutated seed from a real client parses and negotiates.
    for (const s of [...sippSdp(), ...baresipSdp()]) {
      expect(() => parseSdp(s), s).not.toThrow();
      check(s);
    }
  });

  it('parseSdp, negotiateOffer, SdpSession.answer and acceptAnswer on mutated offers', () => {
    const arb = fc
      .tuple(fc.nat(SEEDS.length - 1), fc.array(mutationArb, { minLength: 1, maxLength: 6 }))
      .map(([seed, ms]) => mutate(SEEDS[seed]!, ms));
    fuzz(arb, 60_000);
  });

  it('the same on offers built from random grammar-edge lines', () => {
    const arb = fc
      .array(fc.oneof(fc.constantFrom(...LINES), fc.string({ maxLength: 40 })), { maxLength: 12 })
      .map((lines) =>
        ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', ...lines].join('\r\n'),
      );
    fuzz(arb, 20_000);
  });

  it('replays every saved crash input', () => {
    const files = existsSync(CRASH_DIR) ? readdirSync(CRASH_DIR).filter((f) => f.endsWith('.sdp')) : [];
    for (const f of files) check(readFileSync(path.join(CRASH_DIR, f), 'latin1'));
  });
});
