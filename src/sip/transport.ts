/**
 * UDP and TCP transports for SIP (RFC 3261 18) on our own sockets. Every received byte goes
 * through src/sip/wire (parseDatagram / StreamFramer); the npm `sip` package never sees raw
 * input. Port 0 means any free port; the bound ports are reported after listen.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import {
  ConnectionClock,
  ConnectionLimiter,
  framerLimits,
  resolveSipLimits,
  type SipLimits,
} from './guard/index.js';
import type { TransactionConnection } from './lib.js';
import type { Logger } from './logger.js';
import { makeResponse, type OutgoingMessage, parseDatagram, StreamFramer, serialize } from './wire/index.js';
import type { SipMessage, SipRequest, WireVerdict } from './wire/types.js';

export type Protocol = 'UDP' | 'TCP';

/** Where a message came from or goes to. */
export interface Remote {
  protocol: Protocol;
  address: string;
  port: number;
}

export interface TransportOptions {
  address: string;
  /** 0 = any free port. */
  udpPort: number;
  /** 0 = any free port; `false` = no TCP. */
  tcpPort: number | false;
  logger: Logger;
  /** Framing, connection caps and idle/slow-sender timeouts (src/sip/guard); defaults apply. */
  limits?: SipLimits;
}

export type MessageHandler = (message: SipMessage, remote: Remote) => void;
/** A request the wire layer refused; the transport already answered it. */
export type RejectHandler = (verdict: Extract<WireVerdict, { kind: 'reject' }>, remote: Remote) => void;

const key = (address: string, port: number): string => `${address}|${port}`;

interface StreamConnection {
  socket: net.Socket;
  framer: StreamFramer;
  remote: Remote;
  clock: ConnectionClock;
  deadline: NodeJS.Timeout | undefined;
}

const now = (): number => performance.now();

export class SipTransport {
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly streams = new Map<string, StreamConnection>();
  private onMessage: MessageHandler = () => {};
  private onReject: RejectHandler = () => {};
  private closed = false;
  private readonly limits: SipLimits;
  private readonly connections: ConnectionLimiter;
  udpPort = 0;
  tcpPort = 0;

  private constructor(private readonly options: TransportOptions) {
    this.limits = options.limits ?? resolveSipLimits();
    this.connections = new ConnectionLimiter(this.limits);
  }

  get address(): string {
    return this.options.address;
  }

  static async listen(options: TransportOptions): Promise<SipTransport> {
    const transport = new SipTransport(options);
    try {
      await transport.bindUdp();
      if (options.tcpPort !== false) await transport.bindTcp(options.tcpPort);
    } catch (err) {
      transport.close();
      throw err;
    }
    return transport;
  }

  setHandlers(onMessage: MessageHandler, onReject: RejectHandler): void {
    this.onMessage = onMessage;
    this.onReject = onReject;
  }

  /** The port we listen on for `protocol`, for Via and Contact. */
  portFor(protocol: Protocol): number {
    return protocol === 'TCP' ? this.tcpPort : this.udpPort;
  }

  /**
   * A connection to `remote` for the transaction layer. TCP reuses an open connection to the
   * same address and port (inbound or outbound) before connecting anew.
   */
  open(remote: Remote, onError: (err: Error) => void = () => {}): TransactionConnection {
    return {
      protocol: remote.protocol,
      send: (message) => this.send(remote, message, onError),
      release: () => {},
    };
  }

  /** Sends one message; errors go to `onError` (never thrown: a peer going away is not our crash). */
  send(
    remote: Remote,
    message: SipMessage | OutgoingMessage,
    onError: (err: Error) => void = () => {},
  ): void {
    if (this.closed) return;
    let bytes: Buffer;
    try {
      bytes = serialize(message);
    } catch (err) {
      onError(err as Error);
      return;
    }
    if (remote.protocol === 'UDP') {
      try {
        this.udp?.send(bytes, remote.port, remote.address, (err) => {
          if (err) onError(err);
        });
      } catch (err) {
        // A port or address from a hostile Via can make dgram throw synchronously.
        onError(err as Error);
      }
      return;
    }
    const conn = this.streams.get(key(remote.address, remote.port)) ?? this.connect(remote, onError);
    conn.socket.write(bytes);
  }

  /**
   * Where a response to `request` goes (RFC 3261 18.2.2 with RFC 3581 rport): over TCP the
   * connection it came on, else the address and port the top Via names after received/rport
   * were filled in by `stampVia`.
   */
  responseTarget(request: SipRequest, source: Remote): Remote {
    const via = request.headers.via[0];
    if (source.protocol === 'TCP' || !via) return source;
    const address = (via.params.received ?? via.host).replace(/^\[(.*)\]$/, '$1');
    const rport = via.params.rport ? Number(via.params.rport) : undefined;
    return { protocol: 'UDP', address, port: rport ?? via.port ?? 5060 };
  }

  close(): void {
    this.closed = true;
    this.udp?.close();
    this.udp = undefined;
    this.tcp?.close();
    this.tcp = undefined;
    for (const conn of this.streams.values()) conn.socket.destroy();
    this.streams.clear();
  }

  // ───────────────────────────── receiving ─────────────────────────────

  private deliver(verdict: WireVerdict, remote: Remote, stream?: StreamConnection): void {
    switch (verdict.kind) {
      case 'message': {
        const message = verdict.message;
        if ('method' in message) stampVia(message, remote);
        try {
          this.onMessage(message, remote);
        } catch (err) {
          this.options.logger.error({ err, remote }, 'sip message handler failed');
        }
        return;
      }
      case 'reject': {
        const request = verdict.request as SipRequest;
        stampVia(request, remote);
        if (request.method !== 'ACK') {
          const response = makeResponse(verdict.request, verdict.status, verdict.reason);
          this.send(this.responseTarget(request, remote), response);
        }
        this.options.logger.info(
          { remote, status: verdict.status, reason: verdict.reason, callId: request.headers['call-id'] },
          'sip request refused by the wire layer',
        );
        this.onReject(verdict, remote);
        return;
      }
      case 'drop':
        this.options.logger.debug({ remote, reason: verdict.reason }, 'sip input dropped');
        return;
      case 'keepalive':
        if (verdict.pong && stream) stream.socket.write('\r\n');
        return;
    }
  }

  private bindUdp(): Promise<void> {
    return new Promise((resolve, reject) => {
      const type = net.isIPv6(this.options.address) ? 'udp6' : 'udp4';
      const socket = dgram.createSocket(type);
      socket.once('error', reject);
      socket.on('message', (data, rinfo) => {
        const remote: Remote = { protocol: 'UDP', address: rinfo.address, port: rinfo.port };
        let verdict: WireVerdict;
        try {
          verdict = parseDatagram(data);
        } catch (err) {
          this.options.logger.error({ err, remote }, 'sip datagram parser threw');
          return;
        }
        this.deliver(verdict, remote);
      });
      socket.bind(this.options.udpPort, this.options.address, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.options.logger.warn({ err }, 'sip udp socket error'));
        try {
          // Bursts (many calls at once, a busy event loop) overflow the default buffer and lose
          // ACKs and BYEs; the kernel caps this at net.core.rmem_max.
          socket.setRecvBufferSize(4 * 1024 * 1024);
        } catch {
          // Not fatal: the default buffer only drops more under overload.
        }
        this.udp = socket;
        this.udpPort = socket.address().port;
        resolve();
      });
    });
  }

  private bindTcp(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => {
        const remote: Remote = {
          protocol: 'TCP',
          address: socket.remoteAddress ?? '',
          port: socket.remotePort ?? 0,
        };
        const verdict = this.connections.accept(remote.address);
        if (verdict.kind === 'refuse') {
          this.options.logger.warn(
            { remote, reason: verdict.reason },
            'sip tcp connection refused: too many connections',
          );
          socket.destroy();
          return;
        }
        socket.once('close', () => this.connections.release(remote.address));
        this.attach(socket, remote);
      });
      server.once('error', reject);
      server.listen(port, this.options.address, () => {
        server.off('error', reject);
        server.on('error', (err) => this.options.logger.warn({ err }, 'sip tcp server error'));
        this.tcp = server;
        const address = server.address();
        this.tcpPort = typeof address === 'object' && address ? address.port : port;
        resolve();
      });
    });
  }

  private connect(remote: Remote, onError: (err: Error) => void): StreamConnection {
    const socket = net.connect({ host: remote.address, port: remote.port });
    socket.once('error', onError);
    socket.once('connect', () => socket.off('error', onError));
    return this.attach(socket, remote);
  }

  private attach(socket: net.Socket, remote: Remote): StreamConnection {
    const conn: StreamConnection = {
      socket,
      framer: new StreamFramer(framerLimits(this.limits)),
      remote,
      clock: new ConnectionClock(this.limits, now),
      deadline: undefined,
    };
    const id = key(remote.address, remote.port);
    this.streams.set(id, conn);
    // One timer per connection, re-armed at the clock's next deadline: idle and slow senders are closed.
    const arm = (): void => {
      clearTimeout(conn.deadline);
      conn.deadline = setTimeout(
        () => {
          const expired = conn.clock.expired();
          if (expired) {
            this.options.logger.info({ remote, expired }, 'sip tcp connection closed: timeout');
            socket.destroy();
          } else arm();
        },
        Math.max(10, conn.clock.nextDeadline() - now()),
      );
      conn.deadline.unref?.();
    };
    arm();
    socket.on('data', (chunk: Buffer) => {
      let verdicts: WireVerdict[];
      try {
        verdicts = conn.framer.push(chunk);
      } catch (err) {
        this.options.logger.error({ err, remote }, 'sip stream framer threw');
        socket.destroy();
        return;
      }
      conn.clock.received(conn.framer.partial, verdicts.length);
      arm();
      for (const verdict of verdicts) this.deliver(verdict, remote, conn);
      if (conn.framer.fatal !== undefined) {
        this.options.logger.info(
          { remote, reason: conn.framer.fatal },
          'sip tcp connection closed: bad framing',
        );
        socket.destroy();
      }
    });
    socket.on('error', (err) => this.options.logger.debug({ err, remote }, 'sip tcp connection error'));
    socket.on('close', () => {
      clearTimeout(conn.deadline);
      if (this.streams.get(id) === conn) this.streams.delete(id);
    });
    return conn;
  }
}

/**
 * RFC 3261 18.2.1 and RFC 3581: record where a request really came from in its top Via, so the
 * response finds its way back through NAT.
 */
export function stampVia(request: SipRequest, source: Remote): void {
  const via = request.headers.via?.[0];
  if (!via) return;
  if (via.host.replace(/^\[(.*)\]$/, '$1') !== source.address) via.params.received = source.address;
  if ('rport' in via.params && via.params.rport === null) {
    via.params.rport = String(source.port);
    via.params.received = source.address;
  }
}
