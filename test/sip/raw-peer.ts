/** A bare UDP SIP peer for tests: sends hand-written messages, collects what comes back. */
import dgram from 'node:dgram';

export class RawPeer {
  readonly received: string[] = [];
  private waiters: Array<() => void> = [];
  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (msg) => {
      this.received.push(msg.toString('latin1'));
      for (const w of this.waiters.splice(0)) w();
    });
  }
  /** `address`: another loopback address (127.0.0.2) stands for a second phone. */
  static async open(address = '127.0.0.1'): Promise<RawPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    return new RawPeer(socket);
  }
  get port(): number {
    return this.socket.address().port;
  }
  send(text: string, port: number): void {
    this.socket.send(Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1'), port, '127.0.0.1');
  }
  /** Waits for a message matching `re` that arrived at index `from` or later. */
  async next(re: RegExp, from = 0, timeoutMs = 3000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.slice(from).find((m) => re.test(m));
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no message matching ${re} (got: ${this.received.map((m) => m.split('\r\n')[0]).join(' | ')})`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
  /**
   * A response to `request` (Via, From, To, Call-ID, CSeq copied; `toTag` added to To), sent to
   * `port` on loopback.
   */
  respond(
    request: string,
    status: string,
    port: number,
    o: { toTag?: string; body?: string; headers?: string[] } = {},
  ): void {
    const header = (name: string): string => new RegExp(`^${name}: .*$`, 'm').exec(request)?.[0] ?? '';
    const vias = request.split('\r\n').filter((l) => l.startsWith('Via: '));
    const to = header('To');
    const body = o.body ?? '';
    this.send(
      [
        `SIP/2.0 ${status}`,
        ...vias,
        header('From'),
        o.toTag && !/;tag=/.test(to) ? `${to};tag=${o.toTag}` : to,
        header('Call-ID'),
        header('CSeq'),
        `Contact: <sip:raw@127.0.0.1:${this.port}>`,
        ...(o.headers ?? []),
        ...(body ? ['Content-Type: application/sdp'] : []),
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n'),
      port,
    );
  }

  count(re: RegExp): number {
    return this.received.filter((m) => re.test(m)).length;
  }
  close(): void {
    this.socket.close();
  }
}
