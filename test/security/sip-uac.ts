/**
 * A small SIP UAC over UDP with a test RTP peer, for the security tests: INVITE with a PCMU
 * offer, ACK on 200, 200 to whatever the server sends inside the dialog, BYE to end.
 *
 * `behindNat` makes it a caller behind a NAT: the SDP names a decoy port (a socket that only
 * counts what reaches it) while the RTP really comes from the peer's own socket, so the server
 * can only reach the caller by learning the source from its packets (latching).
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { RtpPeer } from '../support/rtp-peer.js';
import { parseSipText, type SipText } from '../support/sip-text.js';

const rand = (): string => randomBytes(6).toString('hex');

export interface UacOptions {
  server: { address: string; port: number };
  /** From user. */
  user: string;
  /** Tone sent once the call is up, in Hz. */
  tone: number;
  behindNat?: boolean;
  /** Lines replacing the default `a=ptime:20` / `a=sendrecv` attributes of the offer. */
  attributes?: string[];
  /** The offer's c= line value; default `IN IP4 127.0.0.1`. */
  connection?: string;
}

export class SipUac {
  /** Datagrams that reached the decoy port named in the SDP (behindNat only). */
  decoyPackets = 0;
  /** Status line of the final answer to the INVITE. */
  answer = '';
  private readonly callId = `${rand()}@127.0.0.1`;
  private readonly fromTag = rand();
  private toHeader = '';
  private remoteTarget = '';
  private waiting: ((m: SipText) => void) | undefined;

  private constructor(
    readonly rtp: RtpPeer,
    private readonly sip: dgram.Socket,
    private readonly decoy: dgram.Socket | undefined,
    private readonly opts: UacOptions,
  ) {
    sip.on('message', (buf) => this.onMessage(buf.toString('latin1')));
    decoy?.on('message', () => {
      this.decoyPackets++;
    });
  }

  static async open(opts: UacOptions): Promise<SipUac> {
    const bind = async (): Promise<dgram.Socket> => {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
      return s;
    };
    const sip = await bind();
    const decoy = opts.behindNat ? await bind() : undefined;
    const rtp = await RtpPeer.open({ codec: 'pcmu', payloadType: 0, freq: opts.tone, amplitude: 8000 });
    return new SipUac(rtp, sip, decoy, opts);
  }

  /** The RTP port written into the SDP offer. */
  get sdpPort(): number {
    return this.decoy ? (this.decoy.address() as AddressInfo).port : this.rtp.port;
  }

  private get localPort(): number {
    return (this.sip.address() as AddressInfo).port;
  }

  private send(text: string): void {
    this.sip.send(Buffer.from(text, 'latin1'), this.opts.server.port, this.opts.server.address);
  }

  private onMessage(text: string): void {
    const m = parseSipText(text);
    if (m.start.startsWith('SIP/2.0')) {
      this.waiting?.(m);
      return;
    }
    const h = (name: string): string => m.headers.get(name) ?? '';
    this.send(
      `SIP/2.0 200 OK\r\nVia: ${h('via')}\r\nFrom: ${h('from')}\r\nTo: ${h('to')}\r\nCall-ID: ${h('call-id')}\r\n` +
        `CSeq: ${h('cseq')}\r\nContent-Length: 0\r\n\r\n`,
    );
  }

  private final(what: string, timeoutMs: number): Promise<SipText> {
    return new Promise<SipText>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`${this.opts.user}: no final answer to ${what} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = (m) => {
        if (Number(m.start.split(' ')[1]) >= 200) {
          clearTimeout(timer);
          this.waiting = undefined;
          resolve(m);
        }
      };
    });
  }

  /** Calls `to` (the request-URI user); resolves once answered, with RTP flowing to the server. */
  async invite(to: string, timeoutMs = 10_000): Promise<void> {
    const sdp = [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      `c=${this.opts.connection ?? 'IN IP4 127.0.0.1'}`,
      't=0 0',
      `m=audio ${this.sdpPort} RTP/AVP 0`,
      'a=rtpmap:0 PCMU/8000',
      ...(this.opts.attributes ?? ['a=ptime:20', 'a=sendrecv']),
      '',
    ].join('\r\n');
    const { address, port } = this.opts.server;
    const uri = `sip:${to}@${address}:${port}`;
    const answered = this.final('INVITE', timeoutMs);
    this.send(
      `INVITE ${uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${this.localPort};branch=z9hG4bK${rand()};rport\r\n` +
        `Max-Forwards: 70\r\nFrom: <sip:${this.opts.user}@127.0.0.1>;tag=${this.fromTag}\r\nTo: <sip:${to}@${address}>\r\n` +
        `Call-ID: ${this.callId}\r\nCSeq: 1 INVITE\r\nContact: <sip:${this.opts.user}@127.0.0.1:${this.localPort}>\r\n` +
        `Content-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(sdp)}\r\n\r\n${sdp}`,
    );
    const ok = await answered;
    this.answer = ok.start;
    if (!ok.start.startsWith('SIP/2.0 200'))
      throw new Error(`${this.opts.user}: INVITE answered ${ok.start}`);
    this.toHeader = ok.headers.get('to') ?? '';
    this.remoteTarget = /<([^>]+)>/.exec(ok.headers.get('contact') ?? '')?.[1] ?? uri;
    this.send(this.request('ACK', 1));
    const rtpPort = Number(/^m=audio (\d+)/m.exec(ok.body)?.[1]);
    const rtpAddress = /^c=IN IP4 (\S+)/m.exec(ok.body)?.[1] ?? address;
    this.rtp.target(rtpAddress, rtpPort);
    this.rtp.start();
  }

  private request(method: string, cseq: number): string {
    return (
      `${method} ${this.remoteTarget} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${this.localPort};branch=z9hG4bK${rand()};rport\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:${this.opts.user}@127.0.0.1>;tag=${this.fromTag}\r\nTo: ${this.toHeader}\r\n` +
      `Call-ID: ${this.callId}\r\nCSeq: ${cseq} ${method}\r\nContent-Length: 0\r\n\r\n`
    );
  }

  /** Ends the call (BYE, waiting up to 2 s for its answer) and closes the sockets. */
  async hangup(): Promise<void> {
    this.rtp.stop();
    if (this.remoteTarget) {
      const answered = this.final('BYE', 2000).catch(() => undefined);
      this.send(this.request('BYE', 2));
      await answered;
    }
    await this.close();
  }

  async close(): Promise<void> {
    await this.rtp.close();
    this.sip.close();
    this.decoy?.close();
  }
}
