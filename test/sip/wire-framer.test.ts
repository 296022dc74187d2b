/** StreamFramer: Content-Length framing, limits, keep-alives, chunking. */
import { describe, expect, it } from 'vitest';
import { StreamFramer, type WireVerdict } from '../../src/sip/wire/index.js';

function options(n: number, body = '', extra: string[] = []): string {
  const lines = [
    `OPTIONS sip:bob@example.com SIP/2.0`,
    `Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-${n}`,
    'Max-Forwards: 70',
    'From: <sip:alice@example.com>;tag=a1',
    'To: <sip:bob@example.com>',
    `Call-ID: framer-${n}@192.0.2.1`,
    `CSeq: ${n} OPTIONS`,
    ...extra,
  ];
  if (!extra.some((l) => /^content-length|^l:/i.test(l)))
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

function callIds(verdicts: WireVerdict[]): string[] {
  return verdicts.map((v) => (v.kind === 'message' ? String(v.message.headers['call-id']) : v.kind));
}

describe('StreamFramer', () => {
  it('splits several messages in one chunk', () => {
    const f = new StreamFramer();
    const out = f.push(
      Buffer.from(options(1) + options(2, 'hello', ['Content-Type: text/plain']) + options(3)),
    );
    expect(callIds(out)).toEqual(['framer-1@192.0.2.1', 'framer-2@192.0.2.1', 'framer-3@192.0.2.1']);
    expect(out[1]?.kind === 'message' && out[1].message.content).toBe('hello');
    expect(f.fatal).toBeUndefined();
    expect(f.buffered).toBe(0);
  });

  it('joins one message across many chunks, and reports it partial until done', () => {
    const bytes = Buffer.from(options(7, 'x'.repeat(300), ['Content-Type: text/plain']));
    const f = new StreamFramer();
    const cuts = [1, 17, 18, 100, bytes.indexOf('\r\n\r\n') + 2, bytes.length - 1];
    let from = 0;
    for (const cut of cuts) {
      expect(f.push(bytes.subarray(from, cut))).toEqual([]);
      expect(f.partial).toBe(true);
      from = cut;
    }
    expect(callIds(f.push(bytes.subarray(from)))).toEqual(['framer-7@192.0.2.1']);
    expect(f.partial).toBe(false);
  });

  it('keeps the tail of a chunk for the next message', () => {
    const two = Buffer.from(options(1) + options(2));
    const f = new StreamFramer();
    const mid = two.length - 40;
    expect(callIds(f.push(two.subarray(0, mid)))).toEqual(['framer-1@192.0.2.1']);
    expect(f.partial).toBe(true);
    expect(callIds(f.push(two.subarray(mid)))).toEqual(['framer-2@192.0.2.1']);
  });

  it('answers a CRLFCRLF ping with a pong and ignores lone CRLFs', () => {
    const f = new StreamFramer();
    expect(f.push(Buffer.from('\r\n\r\n'))).toEqual([{ kind: 'keepalive', pong: true }]);
    expect(f.push(Buffer.from('\r\n'))).toEqual([]);
    expect(f.partial).toBe(false);
    expect(f.push(Buffer.from('\r\n'))).toEqual([{ kind: 'keepalive', pong: true }]);
    const out = f.push(Buffer.from(`\r\n${options(1)}\r\n\r\n${options(2)}`));
    expect(out.map((v) => v.kind)).toEqual(['message', 'keepalive', 'message']);
    expect(f.fatal).toBeUndefined();
  });

  it.each([
    ['Content-Length: five', 400],
    ['Content-Length: -1', 400],
    ['Content-Length: 1.5', 400],
    ['Content-Length: 99999999999', 400],
  ])('closes on %s after answering %s', (cl, status) => {
    const f = new StreamFramer();
    const out = f.push(Buffer.from(options(1, '', [cl])));
    expect(out).toHaveLength(1);
    expect(out[0]?.kind === 'reject' && out[0].status).toBe(status);
    expect(f.fatal).toMatch(/Content-Length/);
    // Nothing more is read from a connection that is being closed.
    expect(f.push(Buffer.from(options(2)))).toEqual([]);
  });

  it('closes on a message without Content-Length and on two of them', () => {
    const noCl = options(1).replace('Content-Length: 0\r\n', '');
    const f1 = new StreamFramer();
    expect(f1.push(Buffer.from(noCl)).map((v) => v.kind)).toEqual(['reject']);
    expect(f1.fatal).toMatch(/missing Content-Length/);
    const f2 = new StreamFramer();
    f2.push(Buffer.from(options(1, '', ['Content-Length: 0', 'l: 0'])));
    expect(f2.fatal).toMatch(/more than one Content-Length/);
  });

  it('drops (without answering) a response it cannot frame', () => {
    const f = new StreamFramer();
    const out = f.push(Buffer.from('SIP/2.0 200 OK\r\nContent-Length: x\r\n\r\n'));
    expect(out.map((v) => v.kind)).toEqual(['drop']);
    expect(f.fatal).toBeDefined();
  });

  it('refuses a body beyond maxMessageBytes with 413 before buffering it', () => {
    const f = new StreamFramer({ maxMessageBytes: 2048, maxHeaderBytes: 1024 });
    const out = f.push(Buffer.from(options(1, '', ['Content-Length: 4000'])));
    expect(out[0]?.kind === 'reject' && out[0].status).toBe(413);
    expect(f.fatal).toBeDefined();
  });

  it('closes when the head grows beyond maxHeaderBytes, without waiting for its end', () => {
    const f = new StreamFramer({ maxHeaderBytes: 1024 });
    f.push(Buffer.from('OPTIONS sip:x SIP/2.0\r\n'));
    for (let i = 0; i < 40 && f.fatal === undefined; i++)
      f.push(Buffer.from(`X-Pad-${i}: ${'a'.repeat(40)}\r\n`));
    expect(f.fatal).toMatch(/header section too large/);
    expect(f.buffered).toBe(0);
  });

  it('closes on a complete head larger than maxHeaderBytes', () => {
    const f = new StreamFramer({ maxHeaderBytes: 300 });
    f.push(Buffer.from(options(1, '', [`Subject: ${'s'.repeat(400)}`])));
    expect(f.fatal).toMatch(/header section too large/);
  });

  it('bounds what is buffered between pushes', () => {
    const f = new StreamFramer({ maxMessageBytes: 4096, maxHeaderBytes: 1024, maxBufferedBytes: 4096 });
    // Each message is complete, but the tail keeps growing: a valid head announcing a body that fits.
    f.push(Buffer.from(options(1, '', ['Content-Length: 3000'])));
    expect(f.fatal).toBeUndefined();
    f.push(Buffer.alloc(2000, 0x61));
    expect(f.fatal).toBeUndefined();
    f.push(Buffer.alloc(6000, 0x61));
    // 3000 of them completed the message, the rest is a head that never ends: over the limits.
    expect(f.fatal).toBeDefined();
  });

  it('raises maxBufferedBytes to hold at least one message', () => {
    const f = new StreamFramer({ maxMessageBytes: 8192, maxBufferedBytes: 10, maxHeaderBytes: 4096 });
    const out = f.push(Buffer.from(options(1, 'b'.repeat(5000), ['Content-Type: text/plain'])));
    expect(out.map((v) => v.kind)).toEqual(['message']);
  });

  it('hands a message with bad headers on as a rejection and keeps the connection', () => {
    const f = new StreamFramer();
    const bad = options(1).replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE');
    const out = f.push(Buffer.from(bad + options(2)));
    expect(out.map((v) => (v.kind === 'reject' ? v.status : v.kind))).toEqual([400, 'message']);
    expect(f.fatal).toBeUndefined();
  });

  it('handles a long stream of tiny chunks in linear time', () => {
    const msg = Buffer.from(options(1, 'z'.repeat(60_000), ['Content-Type: text/plain']));
    const f = new StreamFramer();
    let n = 0;
    for (let i = 0; i < msg.length; i += 3) n += f.push(msg.subarray(i, i + 3)).length;
    expect(n).toBe(1);
  });
});
