/**
 * The SIP server: transports + the `sip` package's transaction layer + dispatch of requests to
 * new calls, existing dialogs or stateless answers (OPTIONS 200, 481, 405, 501). The public
 * entry point of src/sip.
 */

import { MIN_SE, parseSessionExpires, SipCall, T1 } from './call.js';
import { dialogKey, type LocalContact } from './dialog.js';
import {
  DialogLimiter,
  resolveSipLimits,
  type SipLimits,
  startsTransaction,
  TransactionRateLimiter,
} from './guard/index.js';
import { InboundCall } from './inbound.js';
import { mediaType } from './info.js';
import {
  makeResponse,
  makeTransactionLayer,
  randomToken,
  type ServerTransaction,
  type TransactionLayer,
} from './lib.js';
import { type Logger, silentLogger } from './logger.js';
import { type DialOptions, type DialOutcome, type DialTarget, dial, dialTarget } from './outbound.js';
import { resolverFor, type SipResolver, systemResolver } from './resolve.js';
import { type CodecPref, chooseCodec, DEFAULT_CODEC_PREFS, parseSdp, SdpError } from './sdp.js';
import type { DialogRequestHandler, OutgoingRequest, SipStack } from './stack.js';
import { type Protocol, type Remote, SipTransport, type TlsOptions } from './transport.js';
import type { SipMessage, SipRequest, SipResponse } from './wire/types.js';

export interface SipServerOptions {
  /** Address to bind and to advertise in Via/Contact (127.0.0.1, 0.0.0.0 needs `advertise`). */
  address: string;
  /** Address written into Via, Contact and SDP origin when it differs from `address`. */
  advertise?: string;
  /** 0 = any free port. Default 5060. */
  udpPort?: number;
  /** 0 = any free port, false = no TCP. Default 5060. */
  tcpPort?: number | false;
  /** SIP over TLS (port, certificate and key; extra trust for dialling out); absent = none. */
  tls?: TlsOptions;
  /**
   * DNS servers (`address` or `address:port`) for NAPTR, SRV and address lookups of next
   * hops; default: the system's (and its hosts file for addresses).
   */
  dnsServers?: string[];
  /** The lookups themselves, replacing `dnsServers` (tests). */
  resolver?: SipResolver;
  logger?: Logger;
  userAgent?: string;
  /** Codec preference order; default opus > g722 > pcmu > pcma. */
  mediaPrefs?: readonly CodecPref[];
  /** Rate limits, dialog and connection caps, framing limits (src/sip/guard); defaults apply. */
  limits?: Partial<SipLimits>;
  /**
   * RFC 3261 T1 (default 500 ms) for the dialog layer's 2xx retransmission and ACK wait (64·T1).
   * The transaction layer keeps the standard values.
   */
  t1Ms?: number;
  /** Smallest session interval we accept (RFC 4028 Min-SE, seconds); default 90. */
  minSessionExpires?: number;
  /**
   * An extra admission hook after the built-in limits (e.g. an address blocklist). Called for
   * every request; a status refuses it statelessly, `drop` ignores it.
   */
  admit?: (source: Remote, method: string) => 'accept' | 'drop' | { status: number; reason: string };
}

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, MESSAGE, UPDATE, PRACK';
/** Methods we know but do not serve: 405 with Allow rather than 501. */
const KNOWN_UNSUPPORTED = new Set(['REGISTER', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'REFER']);
/** Methods that only make sense inside a dialog or transaction: 481 when none matches. */
const DIALOG_ONLY = new Set(['BYE', 'INFO', 'UPDATE', 'MESSAGE', 'CANCEL', 'PRACK']);
/** RFC 4028 session timers; RFC 3262 reliable provisional responses (as a UAS). */
const SUPPORTED_EXTENSIONS = new Set(['timer', '100rel']);

export type InviteHandler = (call: InboundCall) => void;

export class SipServer implements SipStack {
  readonly logger: Logger;
  readonly prefs: readonly CodecPref[];
  readonly userAgent: string;
  readonly allow = ALLOW;
  readonly t1: number;
  readonly minSE: number;
  readonly resolver: SipResolver;
  readonly transports: readonly Protocol[];
  private readonly layer: TransactionLayer;
  private readonly dialogs = new Map<string, DialogRequestHandler>();
  /** INVITEs not yet answered finally, for CANCEL: Call-ID + Via branch. */
  private readonly pendingInvites = new Map<string, InboundCall>();
  private readonly calls = new Set<DialogRequestHandler>();
  private inviteHandler: InviteHandler | undefined;
  private refusing: { status: number; reason: string } | undefined;
  private closed = false;
  private readonly rate: TransactionRateLimiter;
  private readonly dialogLimit: DialogLimiter;

  private constructor(
    private readonly transport: SipTransport,
    private readonly options: SipServerOptions,
    limits: SipLimits,
  ) {
    this.rate = new TransactionRateLimiter(limits, () => performance.now());
    this.dialogLimit = new DialogLimiter(limits);
    this.logger = options.logger ?? silentLogger;
    this.prefs = options.mediaPrefs ?? DEFAULT_CODEC_PREFS;
    this.userAgent = options.userAgent ?? 'Parley';
    this.resolver =
      options.resolver ?? (options.dnsServers?.length ? resolverFor(options.dnsServers) : systemResolver());
    this.transports = [
      'UDP',
      ...(transport.tcpPort ? (['TCP'] as const) : []),
      ...(transport.tlsPort ? (['TLS'] as const) : []),
    ];
    this.t1 = options.t1Ms ?? T1;
    this.minSE = options.minSessionExpires ?? MIN_SE;
    this.layer = makeTransactionLayer();
    transport.setHandlers(
      (message, remote) => this.onMessage(message, remote),
      () => {},
    );
  }

  /** Binds UDP (and TCP) and starts serving. Rejects when a port is taken. */
  static async listen(options: SipServerOptions): Promise<SipServer> {
    const logger = options.logger ?? silentLogger;
    const limits = resolveSipLimits(options.limits);
    const transport = await SipTransport.listen({
      address: options.address,
      udpPort: options.udpPort ?? 5060,
      tcpPort: options.tcpPort ?? 5060,
      ...(options.tls ? { tls: options.tls } : {}),
      logger,
      limits,
    });
    const server = new SipServer(transport, options, limits);
    logger.info(
      {
        address: options.address,
        udpPort: transport.udpPort,
        tcpPort: transport.tcpPort,
        ...(options.tls ? { tlsPort: transport.tlsPort } : {}),
      },
      'sip listening',
    );
    return server;
  }

  get udpPort(): number {
    return this.transport.udpPort;
  }

  get tcpPort(): number {
    return this.transport.tcpPort;
  }

  /** The SIP over TLS port; 0 when TLS is not configured. */
  get tlsPort(): number {
    return this.transport.tlsPort;
  }

  /** Replaces the TLS certificate, key and extra trust for new connections (see SipTransport.updateTls). */
  updateTls(credentials: Pick<TlsOptions, 'cert' | 'key' | 'ca'>): void {
    this.transport.updateTls(credentials);
  }

  get address(): string {
    return this.options.advertise ?? this.options.address;
  }

  onInvite(handler: InviteHandler): void {
    this.inviteHandler = handler;
  }

  /** From now on new INVITEs are refused (shutdown); calls in progress carry on. */
  refuseNewCalls(status = 503, reason = 'Service Unavailable'): void {
    this.refusing = { status, reason };
  }

  /** Where `dial` would send this call, for a policy check before dialling. */
  dialTarget(uri: string, proxy?: string): DialTarget {
    return dialTarget(uri, proxy);
  }

  /** Places a call; resolves with the outcome, never rejects for call failures. */
  dial(options: DialOptions): Promise<DialOutcome> {
    if (this.closed) return Promise.resolve({ status: 'failed', reason: 'server closed' });
    return dial(this, options, (protocol) => this.contact(protocol), this.logger).catch(
      (err: Error): DialOutcome => {
        this.logger.error({ err, uri: options.uri }, 'dial failed unexpectedly');
        return { status: 'failed', reason: err.message };
      },
    );
  }

  /** Hangs up every call (BYE/487 best effort), then closes the sockets. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.refuseNewCalls();
    const calls = [...this.calls];
    await Promise.race([
      Promise.allSettled(calls.map((c) => (c instanceof SipCall ? c.hangup() : Promise.resolve()))),
      new Promise((resolve) => setTimeout(resolve, 200)),
    ]);
    this.closed = true;
    this.layer.destroy();
    this.transport.close();
  }

  // ───────────────────────────── SipStack ─────────────────────────────

  send(request: SipRequest, hop: Remote, onProvisional?: (response: SipResponse) => void): OutgoingRequest {
    let settled = false;
    let resolveFinal: (response: SipResponse) => void = () => {};
    const final = new Promise<SipResponse>((resolve) => {
      resolveFinal = resolve;
    });
    const connection = this.transport.open(hop, (err) => {
      this.logger.info({ err: err.message, hop, callId: request.headers['call-id'] }, 'sip transport error');
      // The reason phrase of this local 503 is all a dial's outcome can say of what went wrong
      // (an unreachable peer, a TLS certificate that does not verify).
      tx.message(makeResponse(request, 503, `Service Unavailable (${err.message.replace(/[\r\n]+/g, ' ')})`));
    });
    const tx = this.layer.createClientTransaction(connection, request, (response) => {
      if (response.status < 200) {
        if (!settled) onProvisional?.(response);
        return;
      }
      if (settled) {
        // A retransmitted 2xx to our INVITE: the dialog ACKs it again.
        if (request.method === 'INVITE') this.stray2xx(response);
        return;
      }
      settled = true;
      resolveFinal(response);
    });
    return {
      final,
      cancel: () => {
        if (settled || request.method !== 'INVITE') return;
        const cancel: SipRequest = {
          method: 'CANCEL',
          uri: request.uri,
          version: '2.0',
          headers: {
            via: [request.headers.via[0]!],
            'max-forwards': '70',
            from: request.headers.from,
            to: request.headers.to,
            'call-id': request.headers['call-id'],
            cseq: { seq: request.headers.cseq.seq, method: 'CANCEL' },
            ...(request.headers.route ? { route: request.headers.route } : {}),
          },
          content: '',
        };
        this.logger.info({ callId: request.headers['call-id'] }, 'sending CANCEL');
        this.layer.createClientTransaction(this.transport.open(hop), cancel, () => {});
      },
    };
  }

  sendStateless(message: SipRequest, hop: Remote): void {
    this.transport.send(hop, message, (err) =>
      this.logger.info({ err: err.message, hop }, 'sip send failed'),
    );
  }

  respond(tx: ServerTransaction, response: SipResponse): void {
    tx.send(response);
  }

  registerDialog(key: string, call: DialogRequestHandler): void {
    this.dialogs.set(key, call);
    this.calls.add(call);
  }

  unregisterDialog(key: string): void {
    const call = this.dialogs.get(key);
    this.dialogs.delete(key);
    if (call) this.calls.delete(call);
  }

  // ───────────────────────────── dispatch ─────────────────────────────

  private contact(protocol: Protocol): LocalContact {
    return { address: this.address, port: this.transport.portFor(protocol), protocol };
  }

  private onMessage(message: SipMessage, remote: Remote): void {
    if (this.closed) return;
    if ('status' in message) {
      const tx = this.layer.getClient(message);
      if (tx) tx.message(message, remote);
      else if (message.status >= 200 && message.status < 300 && message.headers.cseq.method === 'INVITE') {
        this.stray2xx(message);
      }
      return;
    }
    if (startsTransaction(message) && !this.layer.getServer(message)) {
      const rate = this.rate.admit(remote.address);
      if (rate.kind === 'reject') {
        this.logger.warn(
          { source: remote.address, method: message.method, scope: rate.scope },
          'sip rate limit: 503',
        );
        const refusal = makeResponse(message, rate.status, rate.reason);
        refusal.headers['retry-after'] = String(Math.max(1, Math.ceil(rate.retryAfter)));
        this.transport.send(this.transport.responseTarget(message, remote), refusal);
        return;
      }
    }
    const verdict = this.options.admit?.(remote, message.method) ?? 'accept';
    if (verdict === 'drop') return;
    if (verdict !== 'accept') {
      if (message.method !== 'ACK') {
        this.transport.send(
          this.transport.responseTarget(message, remote),
          makeResponse(message, verdict.status, verdict.reason),
        );
      }
      return;
    }
    this.onRequest(message, remote);
  }

  private stray2xx(response: SipResponse): void {
    const key = dialogKey(
      response.headers['call-id'],
      String(response.headers.from.params.tag ?? ''),
      String(response.headers.to.params.tag ?? ''),
    );
    this.dialogs.get(key)?.handleStray2xx(response);
  }

  private onRequest(request: SipRequest, remote: Remote): void {
    const log = {
      callId: request.headers['call-id'],
      method: request.method,
      source: `${remote.protocol}:${remote.address}:${remote.port}`,
    };
    if (request.method === 'ACK') {
      const tx = this.layer.getServer(request);
      if (tx) {
        tx.message(request);
        return;
      }
      this.dialogFor(request)?.handleRequest(request, undefined, remote);
      return;
    }
    const existing = this.layer.getServer(request);
    if (existing) {
      // A retransmission: the transaction answers it again.
      existing.message(request);
      return;
    }
    const tx = this.layer.createServerTransaction(
      request,
      this.transport.open(this.transport.responseTarget(request, remote)),
    );
    const reply = (status: number, reason: string, headers: Record<string, unknown> = {}): void => {
      const response = makeResponse(request, status, reason);
      tx.send({
        ...response,
        headers: { ...response.headers, to: withToTag(response), ...headers, server: this.userAgent },
      });
    };
    try {
      // RFC 3261 8.2.2.3: an extension we do not support in Require refuses any request but ACK/CANCEL.
      const unsupported = request.method === 'CANCEL' ? [] : unsupportedRequired(request);
      if (unsupported.length > 0) {
        reply(420, 'Bad Extension', { unsupported: unsupported.join(', ') });
        return;
      }
      if (request.headers.to.params.tag !== undefined && request.headers.to.params.tag !== null) {
        const dialog = this.dialogFor(request);
        if (dialog) {
          dialog.handleRequest(request, tx, remote);
          return;
        }
        if (request.method === 'OPTIONS') {
          reply(200, 'OK', this.capabilities());
          return;
        }
        this.logger.info(log, 'request outside any dialog');
        reply(481, 'Call/Transaction Does Not Exist');
        return;
      }
      switch (request.method) {
        case 'INVITE':
          this.handleInvite(request, tx, remote);
          return;
        case 'CANCEL': {
          const call = this.pendingInvites.get(inviteKey(request));
          if (!call) {
            reply(481, 'Call/Transaction Does Not Exist');
            return;
          }
          reply(200, 'OK');
          call.cancelled();
          return;
        }
        case 'OPTIONS':
          reply(200, 'OK', this.capabilities());
          return;
        default:
          if (DIALOG_ONLY.has(request.method)) reply(481, 'Call/Transaction Does Not Exist');
          else if (KNOWN_UNSUPPORTED.has(request.method)) reply(405, 'Method Not Allowed', { allow: ALLOW });
          else reply(501, 'Not Implemented', { allow: ALLOW });
      }
    } catch (err) {
      this.logger.error({ ...log, err }, 'request handling failed');
      reply(500, 'Server Internal Error');
    }
  }

  private capabilities(): Record<string, string> {
    return {
      allow: ALLOW,
      accept: 'application/sdp, application/dtmf-relay, application/dtmf, text/plain',
      supported: 'timer',
    };
  }

  private dialogFor(request: SipRequest): DialogRequestHandler | undefined {
    const key = dialogKey(
      request.headers['call-id'],
      String(request.headers.to.params.tag ?? ''),
      String(request.headers.from.params.tag ?? ''),
    );
    return this.dialogs.get(key);
  }

  private handleInvite(request: SipRequest, tx: ServerTransaction, remote: Remote): void {
    const callId = request.headers['call-id'];
    const reply = (status: number, reason: string, headers: Record<string, unknown> = {}): void => {
      const response = makeResponse(request, status, reason);
      // Final responses carry a To tag even without a dialog (RFC 3261 8.2.6.2).
      const to = {
        ...response.headers.to,
        params: { ...response.headers.to.params, tag: `r${Date.now().toString(36)}` },
      };
      tx.send({ ...response, headers: { ...response.headers, to, ...headers, server: this.userAgent } });
      this.logger.info({ callId, status, reason, source: remote.address }, 'INVITE refused');
    };
    tx.send(makeResponse(request, 100, 'Trying'));
    if (this.refusing) {
      reply(this.refusing.status, this.refusing.reason, { 'retry-after': '30' });
      return;
    }
    if (!this.inviteHandler) {
      reply(480, 'Temporarily Unavailable');
      return;
    }
    const room = this.dialogLimit.check(remote.address);
    if (room.kind === 'reject') {
      if (room.cap === 'source') {
        this.logger.warn(
          { callId, source: remote.address, calls: this.dialogLimit.countFrom(remote.address) },
          'call refused: too many calls from this address',
        );
      }
      reply(room.status, room.reason, {
        'retry-after': String(room.retryAfter),
        ...(room.cap === 'source' ? { warning: '399 parley "too many calls from this address"' } : {}),
      });
      return;
    }
    const se = parseSessionExpires(request.headers['session-expires']);
    if (se && se.seconds < this.minSE) {
      reply(422, 'Session Interval Too Small', { 'Min-SE': String(this.minSE) });
      return;
    }
    let offer: ReturnType<typeof parseSdp> | undefined;
    if (request.content.length > 0) {
      const type = mediaType(request.headers['content-type']);
      if (type !== 'application/sdp') {
        reply(415, 'Unsupported Media Type', { accept: 'application/sdp' });
        return;
      }
      try {
        offer = parseSdp(request.content);
        chooseCodec(offer, this.prefs);
      } catch (err) {
        if (!(err instanceof SdpError)) throw err;
        reply(err.status, err.status === 488 ? 'Not Acceptable Here' : 'Bad Request', {
          warning: `399 parley "${err.message.replace(/"/g, "'")}"`,
        });
        return;
      }
    }
    const call = new InboundCall(
      this,
      request,
      tx,
      remote,
      this.contact(remote.protocol),
      offer,
      this.logger,
    );
    const key = inviteKey(request);
    this.pendingInvites.set(key, call);
    this.dialogLimit.opened(key, remote.address);
    call.on('ended', () => {
      this.pendingInvites.delete(key);
      this.dialogLimit.closed(key);
    });
    // After the answer a CANCEL has nothing left to cancel; drop the entry once confirmed or ended.
    setTimeout(() => this.pendingInvites.delete(key), 5 * 60_000).unref();
    this.logger.info(
      { callId, from: call.from, to: call.to, source: remote.address, offer: offer !== undefined },
      'incoming call',
    );
    try {
      this.inviteHandler(call);
    } catch (err) {
      this.logger.error({ callId, err }, 'invite handler threw');
      if (call.state !== 'answered' && call.state !== 'answering' && call.state !== 'ended')
        call.reject(500, 'Server Internal Error');
    }
  }
}

/** Extensions named in Require that we do not support. */
function unsupportedRequired(request: SipRequest): string[] {
  return String(request.headers.require ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && !SUPPORTED_EXTENSIONS.has(s));
}

/** The To of a response, with a tag added when the request had none (RFC 3261 8.2.6.2). */
function withToTag(response: SipResponse): SipResponse['headers']['to'] {
  const to = response.headers.to;
  if (response.status === 100 || (to.params.tag !== undefined && to.params.tag !== null)) return to;
  return { ...to, params: { ...to.params, tag: randomToken(10) } };
}

function inviteKey(request: SipRequest): string {
  return `${request.headers['call-id']}\u0000${request.headers.via[0]?.params.branch ?? ''}`;
}
