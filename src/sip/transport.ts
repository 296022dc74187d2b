/**
 * UDP, TCP and TLS transports for SIP (RFC 3261 18, 26.2) on our own sockets. Every received
 * byte goes through src/sip/wire (parseDatagram / StreamFramer); the npm `sip` package never
 * sees raw input. Port 0 means any free port; the bound ports are reported after listen.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
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

export type Protocol = 'UDP' | 'TCP' | 'TLS';

/** The transports that keep a connection, over which responses go back the way requests came. */
export const isStream = (protocol: Protocol): boolean => protocol !== 'UDP';

/** Where a message came from or goes to. */
export interface Remote {
  protocol: Protocol;
  address: string;
  port: number;
  /** For TLS connections we open: the host name or address the certificate must name. */
  serverName?: string;
}

export interface TransportOptions {
  address: string;
  /** 0 = any free port. */
  udpPort: number;
  /** 0 = any free port; `false` = no TCP. */
  tcpPort: number | false;
  /** SIP over TLS; absent = none. */
  tls?: TlsOptions;
  logger: Logger;
  /** Framing, connection caps and idle/slow-sender timeouts (src/sip/guard); defaults apply. */
  limits?: SipLimits;
}

export interface TlsOptions {
  /** 0 = any free port (the SIP default is 5061). */
  port: number;
  /** PEM certificate chain and private key this server presents. */
  cert: string | Buffer;
  key: string | Buffer;
  /**
   * PEM certificates trusted for connections we open (dial-out over TLS), in addition to the
   * system's; the peer's certificate is always verified against the host dialled.
   */
  ca?: string | Buffer;
  /** Longest a TLS handshake may take before the connection is closed, ms (default 10 s). */
  handshakeTimeoutMs?: number;
}

export type MessageHandler = (message: SipMessage, remote: Remote) => void;
/** A request the wire layer refused; the transport already answered it. */
export type RejectHandler = (verdict: Extract<WireVerdict, { kind: 'reject' }>, remote: Remote) => void;

const key = (protocol: Protocol, address: string, port: number): string => `${protocol}|${address}|${port}`;

interface StreamConnection {
  socket: net.Socket | tls.TLSSocket;
  framer: StreamFramer;
  remote: Remote;
  clock: ConnectionClock;
  deadline: NodeJS.Timeout | undefined;
}

const now = (): number => performance.now();

export class SipTransport {
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private tls: tls.Server | undefined;
  /** The TLS settings in force: those given at start, or the last updateTls. */
  private tlsConfig: TlsOptions | undefined;
  private readonly streams = new Map<string, StreamConnection>();
  private onMessage: MessageHandler = () => {};
  private onReject: RejectHandler = () => {};
  private closed = false;
  private readonly limits: SipLimits;
  private readonly connections: ConnectionLimiter;
  udpPort = 0;
  tcpPort = 0;
  tlsPort = 0;

  private constructor(private readonly options: TransportOptions) {
    this.tlsConfig = options.tls;
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
      if (options.tls) await transport.bindTls(options.tls);
    } catch (err) {
      transport.close();
      throw err;
    }
    return transport;
  }

  /**
   * New certificate, key and trust for TLS (a renewed certificate): connections made from
   * now on use them, open ones keep theirs. Throws when TLS is off or the pair is unusable,
   * leaving the old credentials in place.
   */
  updateTls(credentials: Pick<TlsOptions, 'cert' | 'key' | 'ca'>): void {
    const current = this.tlsConfig;
    if (!this.tls || !current) throw new Error('SIP over TLS is not configured');
    this.tls.setSecureContext({ cert: credentials.cert, key: credentials.key, minVersion: 'TLSv1.2' });
    const { ca: _old, ...rest } = current;
    this.tlsConfig = {
      ...rest,
      cert: credentials.cert,
      key: credentials.key,
      ...(credentials.ca ? { ca: credentials.ca } : {}),
    };
  }

  setHandlers(onMessage: MessageHandler, onReject: RejectHandler): void {
    this.onMessage = onMessage;
    this.onReject = onReject;
  }

  /** The port we listen on for `protocol`, for Via and Contact. */
  portFor(protocol: Protocol): number {
    return protocol === 'TCP' ? this.tcpPort : protocol === 'TLS' ? this.tlsPort : this.udpPort;
  }

  /**
   * A connection to `remote` for the transaction layer. TCP and TLS reuse an open connection
   * to the same address and port (inbound or outbound) before connecting anew.
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
    const conn =
      this.streams.get(key(remote.protocol, remote.address, remote.port)) ?? this.connect(remote, onError);
    if (!conn) return;
    conn.socket.write(bytes);
  }

  /**
   * Where a response to `request` goes (RFC 3261 18.2.2 with RFC 3581 rport): over TCP and TLS
   * the connection it came on, else the address and port the top Via names after received/rport
   * were filled in by `stampVia`.
   */
  responseTarget(request: SipRequest, source: Remote): Remote {
    const via = request.headers.via[0];
    if (isStream(source.protocol) || !via) return source;
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
    this.tls?.close();
    this.tls = undefined;
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

  /**
   * Counts a new connection against the per-address caps; false (and the socket destroyed)
   * when it is one too many. Runs before a TLS handshake, which costs the server the most.
   */
  private admitConnection(socket: net.Socket, protocol: Protocol): boolean {
    const address = socket.remoteAddress ?? '';
    const verdict = this.connections.accept(address);
    if (verdict.kind === 'refuse') {
      this.options.logger.warn(
        { remote: { protocol, address, port: socket.remotePort ?? 0 }, reason: verdict.reason },
        `sip ${protocol.toLowerCase()} connection refused: too many connections`,
      );
      socket.destroy();
      return false;
    }
    socket.once('close', () => this.connections.release(address));
    return true;
  }

  private bindTcp(port: number): Promise<void> {
    const server = net.createServer((socket) => {
      if (!this.admitConnection(socket, 'TCP')) return;
      this.attach(socket, {
        protocol: 'TCP',
        address: socket.remoteAddress ?? '',
        port: socket.remotePort ?? 0,
      });
    });
    return this.listenStream(server, port, 'tcp').then((bound) => {
      this.tcp = server;
      this.tcpPort = bound;
    });
  }

  private bindTls(options: TlsOptions): Promise<void> {
    const server = tls.createServer({
      cert: options.cert,
      key: options.key,
      minVersion: 'TLSv1.2',
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
    });
    // The raw connection is admitted (or refused) before its handshake starts.
    server.on('connection', (socket: net.Socket) => {
      this.admitConnection(socket, 'TLS');
    });
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      this.attach(socket, {
        protocol: 'TLS',
        address: socket.remoteAddress ?? '',
        port: socket.remotePort ?? 0,
      });
    });
    server.on('tlsClientError', (err, socket) => {
      // With a listener here, closing the failed connection is ours to do.
      socket.destroy();
      this.options.logger.info(
        {
          err: err.message,
          remote: { protocol: 'TLS', address: socket.remoteAddress, port: socket.remotePort },
        },
        'sip tls handshake failed',
      );
    });
    return this.listenStream(server, options.port, 'tls').then((bound) => {
      this.tls = server;
      this.tlsPort = bound;
    });
  }

  /** Listens on `port` (0: any free one) at our address; resolves with the bound port. */
  private listenStream(server: net.Server, port: number, name: string): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.options.address, () => {
        server.off('error', reject);
        server.on('error', (err) => this.options.logger.warn({ err }, `sip ${name} server error`));
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  private connect(remote: Remote, onError: (err: Error) => void): StreamConnection | undefined {
    let socket: net.Socket;
    if (remote.protocol === 'TLS') {
      const tlsOptions = this.tlsConfig;
      if (!tlsOptions) {
        onError(new Error('SIP over TLS is not configured'));
        return undefined;
      }
      socket = tls.connect({
        host: remote.address,
        port: remote.port,
        // Verified against the name dialled (a host name, or an address in the certificate).
        ...(remote.serverName && !net.isIP(remote.serverName) ? { servername: remote.serverName } : {}),
        checkServerIdentity: (_host, cert) =>
          tls.checkServerIdentity(remote.serverName ?? remote.address, cert),
        ...(tlsOptions.ca ? { ca: [...tls.rootCertificates, tlsOptions.ca.toString()] } : {}),
        minVersion: 'TLSv1.2',
      });
      socket.once('secureConnect', () => socket.off('error', onError));
    } else {
      socket = net.connect({ host: remote.address, port: remote.port });
      socket.once('connect', () => socket.off('error', onError));
    }
    socket.once('error', onError);
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
    const id = key(remote.protocol, remote.address, remote.port);
    this.streams.set(id, conn);
    // One timer per connection, re-armed at the clock's next deadline: idle and slow senders are closed.
    const arm = (): void => {
      clearTimeout(conn.deadline);
      conn.deadline = setTimeout(
        () => {
          const expired = conn.clock.expired();
          if (expired) {
            this.options.logger.info({ remote, expired }, 'sip stream connection closed: timeout');
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
          'sip stream connection closed: bad framing',
        );
        socket.destroy();
      }
    });
    socket.on('error', (err) => this.options.logger.debug({ err, remote }, 'sip stream connection error'));
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
