import { describe, expect, it } from 'vitest';
import { parseDuration, parseScript, ScriptError, wavDurationMs } from '../../../src/runtime/sim/index.js';

function wav(seconds: number, rate = 8000, channels = 1, bits = 16): Buffer {
  const dataBytes = Math.round(seconds * rate * channels * (bits / 8));
  const b = Buffer.alloc(44 + dataBytes);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(channels, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * channels * (bits / 8), 28);
  b.writeUInt16LE(channels * (bits / 8), 32);
  b.writeUInt16LE(bits, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(dataBytes, 40);
  return b;
}

describe('script language', () => {
  it('parses every command, prefixes, separators and quoted text', () => {
    const cmds =
      parseScript(`call alice from sip:alice@example.com to conf-1234 source 10.0.0.1 header X-Tenant=acme
      dtmf 12*#; wait 1.5s
      # a comment
      bob: message "a; b \\"c\\""
      http POST /rooms?x=1 {"a": "x;y", "b": [1, 2]}
      busy ^sip:carol@; no-answer dave; fail .; answer x
      start conference room-1; start scenario callout number=5 name=bob flag=true
      talk; silent; hangup`);
    expect(cmds.map((c) => c.op)).toEqual([
      'call',
      'dtmf',
      'wait',
      'message',
      'http',
      'rule',
      'rule',
      'rule',
      'rule',
      'start-conference',
      'start-scenario',
      'talk',
      'silent',
      'hangup',
    ]);
    expect(cmds[0]).toMatchObject({
      name: 'alice',
      from: 'alice@example.com',
      to: 'conf-1234',
      source: '10.0.0.1',
      headers: { 'x-tenant': 'acme' },
    });
    expect(cmds[1]).toMatchObject({ keys: '12*#', line: 2 });
    expect(cmds[2]).toMatchObject({ ms: 1500 });
    expect(cmds[3]).toMatchObject({ subject: 'bob', text: 'a; b "c"', line: 4 });
    expect(cmds[4]).toMatchObject({ method: 'POST', path: '/rooms?x=1', body: { a: 'x;y', b: [1, 2] } });
    expect(cmds[10]).toMatchObject({ name: 'callout', vars: { number: 5, name: 'bob', flag: true } });
  });

  it('rejects malformed commands with their line', () => {
    expect(() => parseScript('call\nwait soon')).toThrow(ScriptError);
    expect(() => parseScript('call\nwait soon')).toThrow(/line 2/);
    expect(() => parseScript('dance')).toThrow(/unknown command "dance"/);
    expect(() => parseScript('dtmf 12x')).toThrow(/bad keys/);
    expect(() => parseScript('http POST / {nope')).toThrow(/not JSON/);
  });

  it('parses durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('2 s')).toBeUndefined();
  });

  it('reads WAV durations from the header', () => {
    expect(wavDurationMs(wav(2.5))).toBe(2500);
    expect(wavDurationMs(wav(1, 48000, 2))).toBe(1000);
    expect(wavDurationMs(Buffer.from('not a wav file at all'))).toBeUndefined();
  });
});
