/**
 * Wire layer details: the fields of valid torture messages (escapes, folding, compact forms),
 * checks on crafted messages, serialize and makeResponse.
 */
import { describe, expect, it } from 'vitest';
import {
  makeResponse,
  parseDatagram,
  SerializeError,
  type SipRequest,
  type SipResponse,
  serialize,
  type WireVerdict,
} from '../../src/sip/wire/index.js';
import { loadTortureCases } from '../unit/sip/rfc4475-corpus.js';

const CASES = new Map(loadTortureCases().map((c) => [c.name, c]));

function torture(name: string): Buffer {
  const c = CASES.get(name);
  if (!c) throw new Error(`no torture message ${name}`);
  return c.bytes;
}

function request(v: WireVerdict): SipRequest {
  if (v.kind !== 'message' || !('method' in v.message))
    throw new Error(`expected a request, got ${JSON.stringify(v)}`);
  return v.message;
}

function response(v: WireVerdict): SipResponse {
  if (v.kind !== 'message' || !('status' in v.message))
    throw new Error(`expected a response, got ${JSON.stringify(v)}`);
  return v.message;
}

/** A valid request with `extra` header lines and an optional body. */
function craft(extra: string[], opts: { startLine?: string; drop?: string[]; body?: string } = {}): Buffer {
  const base: Record<string, string> = {
    via: 'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-crafted',
    mf: 'Max-Forwards: 70',
    from: 'From: <sip:alice@example.com>;tag=a1',
    to: 'To: <sip:bob@example.com>',
    callid: 'Call-ID: crafted@192.0.2.1',
    cseq: 'CSeq: 1 OPTIONS',
  };
  for (const d of opts.drop ?? []) delete base[d];
  const body = opts.body ?? '';
  const lines = [opts.startLine ?? 'OPTIONS sip:bob@example.com SIP/2.0', ...Object.values(base), ...extra];
  if (!extra.some((l) => /^(content-length|l)\s*:/i.test(l)))
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

function status(v: WireVerdict): number | string {
  return v.kind === 'reject' ? v.status : v.kind;
}

describe('fields of valid torture messages', () => {
  it('wsinv: folded headers, odd whitespace, escaped quotes, compact Via/Contact', () => {
    const m = request(parseDatagram(torture('wsinv')));
    expect(m.method).toBe('INVITE');
    expect(m.uri).toBe('sip:vivekg@chair-dnrc.example.com;unknownparam');
    expect(m.headers.to).toEqual({
      uri: 'sip:vivekg@chair-dnrc.example.com',
      params: { tag: '1918181833n' },
    });
    expect(m.headers.from).toEqual({
      name: '"J Rosenberg \\\\\\""',
      uri: 'sip:jdrosen@example.com',
      params: { tag: '98asjd8' },
    });
    expect(m.headers['max-forwards']).toBe('0068');
    expect(m.headers.cseq).toEqual({ seq: 9, method: 'INVITE' });
    expect(m.headers.via.map((v) => [v.protocol, v.host, v.params.branch])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    expect(m.headers.contact).toEqual([
      {
        name: '"Quoted string \\"\\""',
        uri: 'sip:jdrosen@example.com',
        params: { newparam: 'newvalue', secondparam: null, q: '0.33' },
      },
    ]);
    expect(m.headers.newfangledheader).toBe('newfangled value continued newfangled value');
    expect(m.headers.subject).toBe('');
    expect(m.headers.route).toEqual([
      { uri: 'sip:services.example.com;lr;unknownwith=value;unknown-no-value', params: {} },
    ]);
    expect(m.content.length).toBe(150);
    expect(m.content.startsWith('v=0\r\n')).toBe(true);
  });

  it('esc01: escaped URIs are kept as written; compact i, C', () => {
    const m = request(parseDatagram(torture('esc01')));
    expect(m.uri).toBe('sip:sips%3Auser%40example.com@example.net');
    expect(m.headers.to.uri).toBe('sip:%75se%72@example.com');
    expect(m.headers.from.uri).toBe('sip:I%20have%20spaces@example.net');
    expect(m.headers['call-id']).toBe('esc01.239409asdfakjkn23onasd0-3234');
    expect(m.headers['content-type']).toBe('application/sdp');
    expect(m.headers.contact).toEqual([
      { uri: 'sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31', params: {} },
    ]);
  });

  it('esc02: an escaped method is a different method and C%6Fntact is not Contact', () => {
    const m = request(parseDatagram(torture('esc02')));
    expect(m.method).toBe('RE%47IST%45R');
    expect(m.headers.cseq.method).toBe('RE%47IST%45R');
    expect((m.headers.contact as { uri: string }[]).map((c) => c.uri)).toEqual([
      'sip:alias1@host1.example.com',
      'sip:alias3@host3.example.com',
    ]);
    expect(m.headers['c%6fntact']).toBe('<sip:alias2@host2.example.com>');
  });

  it('intmeth: unusual token characters, control characters escaped in a quoted display name', () => {
    const m = request(parseDatagram(torture('intmeth')));
    expect(m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    expect(m.headers.to.name).toBe('"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f"');
    expect(m.headers.from.name).toBe("token1~` token2'+_ token3*%!.-");
    expect(m.headers.from.params.tag).toBe("_token~1'+`*%!-.");
    expect(m.headers['call-id']).toBe('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    expect(m.headers['max-forwards']).toBe('255');
  });

  it('longreq: 34 Via entries from every spelling of Via and v', () => {
    const m = request(parseDatagram(torture('longreq')));
    expect(m.headers.via).toHaveLength(34);
    expect(m.headers.via[33]?.params.received).toBe('192.0.2.5');
    expect(m.headers.from.uri.length).toBeGreaterThan(100);
  });

  it('lwsdisp, semiuri, transports, dblreq, regaut01', () => {
    expect(request(parseDatagram(torture('lwsdisp'))).headers.from.name).toBe('caller');
    expect(request(parseDatagram(torture('semiuri'))).uri).toBe('sip:user;par=u%40example.net@example.com');
    expect(request(parseDatagram(torture('transports'))).headers.via.map((v) => v.protocol)).toEqual([
      'UDP',
      'SCTP',
      'TLS',
      'UNKNOWN',
      'TCP',
    ]);
    const dbl = request(parseDatagram(torture('dblreq')));
    expect(dbl.method).toBe('REGISTER');
    expect(dbl.content).toBe('');
    expect(dbl.headers['call-id']).toBe('dblreq.0ha0isndaksdj99sdfafnl3lk233412');
    expect(request(parseDatagram(torture('regaut01'))).headers.authorization).toEqual([
      { scheme: 'NoOneKnowsThisScheme', 'opaque-data': 'here' },
    ]);
  });

  it('mpart01: a binary body survives byte for byte', () => {
    const bytes = torture('mpart01');
    const m = request(parseDatagram(bytes));
    const body = bytes.subarray(bytes.indexOf('\r\n\r\n') + 4);
    expect(Buffer.from(m.content, 'latin1').equals(body.subarray(0, 553))).toBe(true);
  });

  it('unreason: a UTF-8 reason phrase is decoded', () => {
    const r = response(parseDatagram(torture('unreason')));
    expect(r.status).toBe(200);
    expect(r.reason).toBe('= 2**3 * 5**2 но сто девяносто девять - простое');
  });
});

describe('checks on crafted requests', () => {
  it('accepts the base message', () => {
    expect(status(parseDatagram(craft([])))).toBe('message');
  });

  it.each([
    ['no Via', 'drop', craft([], { drop: ['via'] })],
    ['no From', 400, craft([], { drop: ['from'] })],
    ['no CSeq', 400, craft([], { drop: ['cseq'] })],
    [
      'CSeq 2^31',
      400,
      craft([], { drop: ['cseq'] })
        .toString()
        .replace('\r\n\r\n', '\r\nCSeq: 2147483648 OPTIONS\r\n\r\n'),
    ],
    [
      'CSeq 2^31-1',
      'message',
      craft([], { drop: ['cseq'] })
        .toString()
        .replace('\r\n\r\n', '\r\nCSeq: 2147483647 OPTIONS\r\n\r\n'),
    ],
    ['Max-Forwards 256', 400, craft(['Max-Forwards: 256'], { drop: ['mf'] })],
    [
      'Max-Forwards 0 on INVITE (a UAS does not check it)',
      'message',
      craft(['Max-Forwards: 0'], { drop: ['mf', 'cseq'], startLine: 'INVITE sip:bob@example.com SIP/2.0' })
        .toString()
        .replace('\r\n\r\n', '\r\nCSeq: 1 INVITE\r\n\r\n'),
    ],
    ['two Call-IDs', 400, craft(['i: other@x'])],
    ['Content-Length five', 400, craft(['Content-Length: five'])],
    ['Content-Length with a sign', 400, craft(['Content-Length: +0'])],
    ['Content-Length beyond the body', 400, craft(['Content-Length: 3'], { body: 'ab' })],
    ['SIP/2.1', 505, craft([], { startLine: 'OPTIONS sip:bob@example.com SIP/2.1' })],
    ['HTTP/1.1', 400, craft([], { startLine: 'OPTIONS sip:bob@example.com HTTP/1.1' })],
    ['tel: Request-URI', 'message', craft([], { startLine: 'OPTIONS tel:+15551234567 SIP/2.0' })],
    ['http: Request-URI', 416, craft([], { startLine: 'OPTIONS http://example.com/ SIP/2.0' })],
    ['sip: URI without a host', 400, craft([], { startLine: 'OPTIONS sip: SIP/2.0' })],
    ['header without a colon', 400, craft(['Subject hello'])],
    ['folded line first', 400, Buffer.from(craft([]).toString().replace('\r\nVia', '\r\n folded\r\nVia'))],
    ['raw NUL in a header', 400, craft(['Subject: a\x00b'])],
    ['bare LF inside the head', 400, craft(['Subject: a\nX: b'])],
    ['Contact * with another', 400, craft(['Contact: *', 'Contact: <sip:a@b>'])],
    [
      'IPv6 Via',
      'message',
      craft(['Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK6;received=2001:db8::2']),
    ],
    ['Via without SIP', 400, craft(['Via: HTTP/1.1/TCP x'])],
    ['Via port 70000', 400, craft(['Via: SIP/2.0/UDP x:70000'])],
    ['unterminated <', 400, craft(['Route: <sip:a@b'])],
    ['Basic credentials kept as text', 'message', craft(['Authorization: Basic dXNlcjpwYXNz'])],
  ] as Array<[string, number | string, Buffer | string]>)('%s → %s', (_name, expected, bytes) => {
    expect(status(parseDatagram(Buffer.from(bytes)))).toBe(expected);
  });

  it('names the missing headers in the reason', () => {
    const v = parseDatagram(craft([], { drop: ['from', 'callid'] }));
    expect(v.kind === 'reject' && v.reason).toMatch(/missing From, Call-ID/);
  });

  it('cuts the body to Content-Length and ignores the rest of the datagram', () => {
    const m = request(
      parseDatagram(craft(['Content-Length: 2', 'Content-Type: text/plain'], { body: 'hi and more' })),
    );
    expect(m.content).toBe('hi');
    expect(m.headers['content-length']).toBe(2);
  });

  it('treats a datagram without Content-Length as carrying the rest', () => {
    const base = craft([]).toString().replace('Content-Length: 0\r\n', '');
    const m = request(parseDatagram(Buffer.from(`${base}body`)));
    expect(m.content).toBe('body');
  });

  it('skips leading CRLFs; a datagram of CRLFs only is a keep-alive', () => {
    expect(status(parseDatagram(Buffer.concat([Buffer.from('\r\n\r\n'), craft([])])))).toBe('message');
    expect(parseDatagram(Buffer.from('\r\n\r\n'))).toEqual({ kind: 'keepalive', pong: false });
    expect(parseDatagram(Buffer.alloc(0)).kind).toBe('drop');
  });

  it('drops responses with a bad status or missing headers', () => {
    const ok =
      'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';
    expect(status(parseDatagram(Buffer.from(ok)))).toBe('message');
    expect(status(parseDatagram(Buffer.from(ok.replace('200 OK', '099 Low'))))).toBe('drop');
    expect(status(parseDatagram(Buffer.from(ok.replace('200 OK', '700 High'))))).toBe('drop');
    expect(status(parseDatagram(Buffer.from(ok.replace('SIP/2.0 200', 'SIP/3.0 200'))))).toBe('drop');
    expect(status(parseDatagram(Buffer.from(ok.replace('Call-ID: x\r\n', ''))))).toBe('drop');
  });
});

describe('serialize and makeResponse', () => {
  it('round-trips every valid torture request and response through serialize', () => {
    for (const [name, c] of CASES) {
      const v = parseDatagram(c.bytes);
      if (v.kind !== 'message') continue;
      const again = parseDatagram(serialize(v.message));
      expect(again.kind, name).toBe('message');
      if (again.kind !== 'message') continue;
      expect(again.message.headers.via, name).toEqual(v.message.headers.via);
      expect(again.message.headers.from, name).toEqual(v.message.headers.from);
      expect(again.message.headers.to, name).toEqual(v.message.headers.to);
      expect(again.message.headers.cseq, name).toEqual(v.message.headers.cseq);
      expect(again.message.headers['call-id'], name).toBe(v.message.headers['call-id']);
      expect(again.message.content, name).toBe(v.message.content);
    }
  });

  it('answers a rejected request along its Via with its From, To (plus a tag), Call-ID and CSeq', () => {
    const v = parseDatagram(torture('mismatch01'));
    if (v.kind !== 'reject') throw new Error('expected a rejection');
    const wire = serialize(makeResponse(v.request, v.status, v.reason));
    const r = response(parseDatagram(wire));
    expect(r.status).toBe(400);
    expect(r.reason).toBe(v.reason);
    expect(r.headers.via[0]?.params.branch).toBe('z9hG4bKkdjuw');
    expect(r.headers['call-id']).toBe('mismatch01.dj0234sxdfl3');
    expect(r.headers.cseq).toEqual({ seq: 8, method: 'INVITE' });
    expect(r.headers.from.params.tag).toBe('34525');
    expect(r.headers.to.params.tag).toMatch(/^[0-9a-f]{16}$/);
  });

  it('answers a request with an unparseable header by echoing the raw value', () => {
    const v = parseDatagram(torture('quotbal'));
    if (v.kind !== 'reject') throw new Error('expected a rejection');
    const text = serialize(makeResponse(v.request, 400, v.reason)).toString();
    expect(text).toContain('To: "Mr. J. User <sip:j.user@example.com>\r\n');
  });

  it('keeps an existing To tag, adds none to 100, and carries extra headers and a body', () => {
    const req = request(parseDatagram(craft([])));
    const trying = makeResponse(req, 100, 'Trying');
    expect(trying.headers.to.params.tag).toBeUndefined();
    const busy = makeResponse(req, 503, 'Service Unavailable', { 'retry-after': 5 });
    const text = serialize(busy).toString();
    expect(text).toContain('\r\nRetry-After: 5\r\n');
    const withTag = { ...req, headers: { ...req.headers, to: { ...req.headers.to, params: { tag: 'x1' } } } };
    expect(makeResponse(withTag, 200, 'OK').headers.to.params.tag).toBe('x1');
    const ok = makeResponse(req, 200, 'OK', { 'content-type': 'text/plain' }, 'héllo ☎');
    const wire = serialize(ok);
    expect(wire.toString()).toContain('Content-Length: 10\r\n');
    expect(wire.subarray(wire.length - 10).toString('utf8')).toBe('héllo ☎');
  });

  it('does not mutate the message it serializes', () => {
    const req = request(parseDatagram(craft([])));
    const before = JSON.stringify(req);
    serialize({ ...req, content: 'abc' });
    expect(JSON.stringify(req)).toBe(before);
  });

  it('refuses header injection', () => {
    const req = request(parseDatagram(craft([])));
    const evil = makeResponse(req, 200, 'OK', { subject: 'hi\r\nEvil: 1' });
    expect(() => serialize(evil)).toThrow(SerializeError);
    const evilName = makeResponse(req, 200, 'OK');
    evilName.headers.from = { ...evilName.headers.from, name: '"x"\r\n\r\nINVITE' };
    expect(() => serialize(evilName)).toThrow(SerializeError);
  });
});
