/**
 * A minimal SIP UAC over UDP with a test RTP peer: INVITE with a PCMU offer, ACK on
 * 200, 200 to whatever the server sends in the dialog (BYE, OPTIONS), BYE to end.
 * Every RTP packet it receives keeps its arrival time, so a test can look for gaps.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { RtpPeer } from '../support/rtp-peer.js';
import { parseSipText, type SipText } from '../support/sip-text.js';

const rand = () => randomBytes(6).toString('hex');

export class RawCall {
  readonly rtp: RtpPeer;
  private readonly sip: dgram.Socket;
  private readonly callId = `${rand()}@127.0.0.1`;
  private readonly fromTag = rand();
  private toHeader = '';
  private remoteTarget = '';
  private waiting: ((m: SipText) => void) | undefined;

  private constructor(
    sip: dgram.Socket,
    rtp: RtpPeer,
    private readonly server: { port: number },
    private readonly user: string,
  ) {
    this.sip = sip;
    this.rtp = rtp;
    sip.on('message', (buf) => this.onMessage(buf.toString()));
  }

  static async open(serverPort: number, user: string, tone: number): Promise<RawCall> {
    const sip = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sip.bind(0, '127.0.0.1', () => resolve()));
    const rtp = await RtpPeer.open({ codec: 'pcmu', payloadType: 0, freq: tone });
    return new RawCall(sip, rtp, { port: serverPort }, user);
  }

  private get localPort(): number {
    return (this.sip.address() as AddressInfo).port;
  }

  private send(text: string): void {
    this.sip.send(Buffer.from(text), this.server.port, '127.0.0.1');
  }

  private onMessage(text: string): void {
    const m = parseSipText(text);
    if (m.start.startsWith('SIP/2.0')) {
      this.waiting?.(m);
      return;
    }
    // A request inside the dialog: answer 200 so the server is content.
    const copy = ['via', 'from', 'to', 'call-id', 'cseq']
      .map(
        (h) =>
          `${h === 'call-id' ? 'Call-ID' : h === 'cseq' ? 'CSeq' : h[0]?.toUpperCase() + h.slice(1)}: ${m.headers.get(h) ?? ''}`,
      )
      .join('\r\n');
    this.send(`SIP/2.0 200 OK\r\n${copy}\r\nContent-Length: 0\r\n\r\n`);
  }

  /** Calls `to` (request-URI user); resolves once answered and RTP flows both ways. */
  async invite(to: string, timeoutMs = 10_000): Promise<void> {
    const sdp = [
      'v=0',
      `o=- 1 1 IN IP4 127.0.0.1`,
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${this.rtp.port} RTP/AVP 0`,
      'a=rtpmap:0 PCMU/8000',
      'a=ptime:20',
      'a=sendrecv',
      '',
    ].join('\r\n');
    const uri = `sip:${to}@127.0.0.1:${this.server.port}`;
    const final = new Promise<SipText>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.user}: no final answer to INVITE`)), timeoutMs);
      this.waiting = (m) => {
        const code = Number(m.start.split(' ')[1]);
        if (code >= 200) {
          clearTimeout(timer);
          resolve(m);
        }
      };
    });
    this.send(
      `INVITE ${uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${this.localPort};branch=z9hG4bK${rand()};rport\r\n` +
        `Max-Forwards: 70\r\nFrom: <sip:${this.user}@127.0.0.1>;tag=${this.fromTag}\r\nTo: <sip:${to}@127.0.0.1>\r\n` +
        `Call-ID: ${this.callId}\r\nCSeq: 1 INVITE\r\nContact: <sip:${this.user}@127.0.0.1:${this.localPort}>\r\n` +
        `Content-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(sdp)}\r\n\r\n${sdp}`,
    );
    const ok = await final;
    if (!ok.start.startsWith('SIP/2.0 200')) throw new Error(`${this.user}: INVITE answered ${ok.start}`);
    this.toHeader = ok.headers.get('to') ?? '';
    this.remoteTarget = /<([^>]+)>/.exec(ok.headers.get('contact') ?? '')?.[1] ?? uri;
    this.send(this.request('ACK', 1));
    const port = Number(/^m=audio (\d+)/m.exec(ok.body)?.[1]);
    const addr = /^c=IN IP4 (\S+)/m.exec(ok.body)?.[1] ?? '127.0.0.1';
    this.rtp.target(addr, port);
    this.rtp.start();
  }

  private request(method: string, cseq: number): string {
    return (
      `${method} ${this.remoteTarget} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${this.localPort};branch=z9hG4bK${rand()};rport\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:${this.user}@127.0.0.1>;tag=${this.fromTag}\r\nTo: ${this.toHeader}\r\n` +
      `Call-ID: ${this.callId}\r\nCSeq: ${cseq} ${method}\r\nContent-Length: 0\r\n\r\n`
    );
  }

  /** Gaps longer than `overMs` between consecutive RTP arrivals in [fromMs, toMs) (performance.now()). */
  gaps(fromMs: number, toMs: number, overMs: number): Array<{ start: number; end: number }> {
    const at = this.rtp.received.map((r) => r.at).filter((t) => t >= fromMs && t < toMs);
    const out: Array<{ start: number; end: number }> = [];
    for (let i = 1; i < at.length; i++) {
      const a = at[i - 1] ?? 0;
      const b = at[i] ?? 0;
      if (b - a > overMs) out.push({ start: a, end: b });
    }
    return out;
  }

  /**
   * Frames missing from what the server sent in [fromMs, toMs): sequence numbers that
   * skip, or timestamps that do not step by one 20 ms frame (160 at 8 kHz).
   */
  missingFrames(fromMs: number, toMs: number): number {
    const rs = this.rtp.received.filter((r) => r.at >= fromMs && r.at < toMs);
    let missing = 0;
    for (let i = 1; i < rs.length; i++) {
      const a = rs[i - 1];
      const b = rs[i];
      if (!a || !b) continue;
      const dSeq = (b.seq - a.seq + 65536) % 65536;
      const dTs = (b.ts - a.ts + 2 ** 32) % 2 ** 32;
      if (dSeq !== 1 || dTs !== 160) missing += Math.max(1, dSeq - 1, Math.round(dTs / 160) - 1);
    }
    return missing;
  }

  async hangup(): Promise<void> {
    if (this.remoteTarget) this.send(this.request('BYE', 2));
    await new Promise((r) => setTimeout(r, 50));
    await this.rtp.close();
    this.sip.close();
  }
}
