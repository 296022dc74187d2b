/**
 * One SIP call (a dialog with an audio session), shared by inbound and outbound legs: BYE both
 * ways, re-INVITE and UPDATE (hold, codec change, refresh) with 491 on overlap, INFO DTMF,
 * MESSAGE, OPTIONS, 2xx retransmission until ACK, and RFC 4028 session timers.
 */
import { EventEmitter } from 'node:events';
import type { Dialog } from './dialog.js';
import { formatDtmfRelay, INFO_TYPES, isTextType, mediaType, parseDtmfInfo } from './info.js';
import { makeResponse, type ServerTransaction, signRequest } from './lib.js';
import type { Logger } from './logger.js';
import {
  acceptAnswer,
  type Codec,
  type Direction,
  type LocalMedia,
  type NegotiatedMedia,
  type OfferedMedia,
  parseSdp,
  type RemoteMedia,
  SdpError,
  SdpSession,
} from './sdp.js';
import type { DialogRequestHandler, SipStack } from './stack.js';
import type { Remote } from './transport.js';
import type { SipRequest, SipResponse } from './wire/types.js';

export type EndedBy = 'remote' | 'local' | 'cancel' | 'timeout';

export interface CallEvents {
  ended: { by: EndedBy; reason?: string; status?: number };
  dtmf: { digit: string; durationMs: number; via: 'info' };
  message: { text: string; contentType: string; from: string };
  'media-changed': { remote: RemoteMedia; direction: Direction; codec: Codec; media: NegotiatedMedia };
}

/** RFC 3261 T1 default; T2 = 8·T1 and the give-up is 64·T1 (stack.t1 may shorten them). */
export const T1 = 500;

/** The default minimum session interval (RFC 4028 Min-SE, seconds). */
export const MIN_SE = 90;

/** Typed events over Node's EventEmitter. */
export class CallEmitter<E extends object> {
  private readonly emitter = new EventEmitter();
  on<K extends keyof E & string>(event: K, listener: (payload: E[K]) => void): this {
    this.emitter.on(event, listener);
    return this;
  }
  once<K extends keyof E & string>(event: K, listener: (payload: E[K]) => void): this {
    this.emitter.once(event, listener);
    return this;
  }
  off<K extends keyof E & string>(event: K, listener: (payload: E[K]) => void): this {
    this.emitter.off(event, listener);
    return this;
  }
  protected emit<K extends keyof E & string>(event: K, payload: E[K]): void {
    // A listener that throws must not take the signalling down with it.
    for (const listener of this.emitter.listeners(event)) {
      try {
        (listener as (p: E[K]) => void)(payload);
      } catch (err) {
        this.listenerFailed(event, err);
      }
    }
  }
  protected listenerFailed(_event: string, _err: unknown): void {}
}

interface Pending2xx {
  timer: NodeJS.Timeout;
  giveUp: NodeJS.Timeout;
  /** Resolved with the ACK (its SDP answers a late offer). */
  onAck: (ack: SipRequest) => void;
  /** The call ended before the ACK came (a BYE overtook a lost ACK, or no ACK at all). */
  onEnd: () => void;
}

export abstract class SipCall extends CallEmitter<CallEvents> implements DialogRequestHandler {
  protected dialog: Dialog | undefined;
  protected readonly sdp = new SdpSession();
  protected local: LocalMedia | undefined;
  protected negotiated: NegotiatedMedia | undefined;
  protected ended = false;
  protected readonly log: Logger;
  /** For challenges to our in-dialog requests (dial-outs through an authenticating trunk). */
  protected credentials: { user: string; password: string } | undefined;
  /** Offer/answer exchanges in progress (RFC 3261 14: a second one gets 491). */
  private incomingOffer = false;
  private outgoingOffer = false;
  private readonly pending2xx = new Map<number, Pending2xx>();
  private sessionTimer: NodeJS.Timeout | undefined;
  private refreshInterval: { seconds: number; weRefresh: boolean } | undefined;

  protected constructor(
    protected readonly stack: SipStack,
    readonly callId: string,
    log: Logger,
  ) {
    super();
    this.log = log;
  }

  /** The agreed media, once answered. */
  get media(): NegotiatedMedia | undefined {
    return this.negotiated;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  protected override listenerFailed(event: string, err: unknown): void {
    this.log.error({ err, event }, 'call event listener threw');
  }

  // ───────────────────────────── ending ─────────────────────────────

  /** Ends the call: BYE when confirmed (overridden by legs that can still refuse or cancel). */
  async hangup(): Promise<void> {
    if (this.ended || !this.dialog) return;
    await this.sendBye('local');
  }

  protected async sendBye(by: EndedBy, reason?: string): Promise<void> {
    const dialog = this.dialog;
    if (this.ended || !dialog) return;
    this.finish(by, reason);
    const headers = reason ? { reason: `SIP;text="${reason.replace(/"/g, '')}"` } : {};
    try {
      const { response } = await this.sendInDialog(dialog, () => dialog.request('BYE', { headers }));
      this.log.info({ status: response.status }, 'BYE answered');
    } catch (err) {
      // Callers fire and forget BYEs (timeouts, refusals): nothing may escape as a rejection.
      this.log.warn({ err: (err as Error).message }, 'BYE could not be sent');
    }
  }

  /** Marks the call ended once, stops every timer and tells the listeners. */
  protected finish(by: EndedBy, reason?: string, status?: number): void {
    if (this.ended) return;
    this.ended = true;
    const unacknowledged = [...this.pending2xx.values()];
    for (const p of unacknowledged) {
      clearTimeout(p.timer);
      clearTimeout(p.giveUp);
    }
    this.pending2xx.clear();
    clearTimeout(this.sessionTimer);
    if (this.dialog) this.stack.unregisterDialog(this.dialog.key);
    this.log.info({ by, reason, status }, 'call ended');
    this.emit('ended', {
      by,
      ...(reason !== undefined ? { reason } : {}),
      ...(status !== undefined ? { status } : {}),
    });
    for (const p of unacknowledged) p.onEnd();
  }

  // ───────────────────────────── sending in the dialog ─────────────────────────────

  /** Sends a text message to the peer (SIP MESSAGE in the dialog); rejects on a non-2xx answer. */
  async sendMessage(text: string, contentType = 'text/plain;charset=utf-8'): Promise<void> {
    await this.requestInDialog('MESSAGE', Buffer.from(text, 'utf8').toString('latin1'), contentType);
  }

  /** Sends one DTMF key as INFO application/dtmf-relay. */
  async sendDtmfInfo(digit: string, durationMs = 160): Promise<void> {
    await this.requestInDialog('INFO', formatDtmfRelay(digit, durationMs), 'application/dtmf-relay');
  }

  private async requestInDialog(method: string, body: string, contentType: string): Promise<SipResponse> {
    const dialog = this.requireDialog(method);
    const { response } = await this.sendInDialog(dialog, () => dialog.request(method, { body, contentType }));
    if (response.status >= 300) {
      if (response.status === 481 || response.status === 408)
        this.finish('timeout', `${method} got ${response.status}`);
      throw new SipRequestError(method, response.status, response.reason);
    }
    return response;
  }

  /**
   * Sends a re-INVITE with a new offer (hold with `direction: 'sendonly'`, a new port, a refresh)
   * and returns the media agreed. Rejects on 491 (glare) or any failure; the old media stays.
   */
  async updateMedia(local: LocalMedia): Promise<NegotiatedMedia> {
    const dialog = this.requireDialog('re-INVITE');
    if (this.incomingOffer || this.outgoingOffer) {
      throw new SipRequestError('re-INVITE', 491, 'an offer/answer exchange is in progress');
    }
    this.outgoingOffer = true;
    try {
      const { sdp, offered } = this.sdp.offer(local, local.codecs ?? this.stack.prefs);
      const { request: invite, response } = await this.sendInDialog(dialog, () =>
        dialog.request('INVITE', { body: sdp, headers: this.sessionHeaders() }),
      );
      if (response.status >= 200 && response.status < 300) {
        this.ack2xx(invite, response);
        dialog.refreshTarget(response);
        const media = acceptAnswer(offered, parseSdp(response.content));
        this.local = local;
        this.applyMedia(media);
        this.armSessionTimer(response.headers['session-expires'], true);
        return media;
      }
      if (response.status === 481 || response.status === 408)
        this.finish('timeout', `re-INVITE got ${response.status}`);
      throw new SipRequestError('re-INVITE', response.status, response.reason);
    } finally {
      this.outgoingOffer = false;
    }
  }

  /**
   * Sends an in-dialog request built by `build` (each call takes the next CSeq) and answers one
   * 401/407 challenge with our credentials, as trunks often challenge BYE and re-INVITE too.
   */
  protected async sendInDialog(
    dialog: Dialog,
    build: () => SipRequest,
  ): Promise<{ request: SipRequest; response: SipResponse }> {
    let request = build();
    let response = await this.stack.send(request, await dialog.nextHop(this.stack)).final;
    if ((response.status === 401 || response.status === 407) && this.credentials) {
      const retry = build();
      if (signRequest(retry, response, this.credentials)) {
        this.log.info(
          { method: retry.method, status: response.status },
          'in-dialog request challenged: retrying with credentials',
        );
        request = retry;
        response = await this.stack.send(retry, await dialog.nextHop(this.stack)).final;
      }
    }
    return { request, response };
  }

  protected sessionHeaders(): Record<string, unknown> {
    const r = this.refreshInterval;
    return {
      supported: 'timer',
      ...(r ? { 'session-expires': `${r.seconds};refresher=${r.weRefresh ? 'uac' : 'uas'}` } : {}),
    };
  }

  protected ack2xx(invite: SipRequest, response: SipResponse): void {
    const dialog = this.dialog;
    if (!dialog) return;
    const ack = dialog.request('ACK', { seq: invite.headers.cseq.seq });
    void dialog.nextHop(this.stack).then((hop) => this.stack.sendStateless(ack, hop));
    this.lastAck = ack;
    void response;
  }

  private lastAck: SipRequest | undefined;

  handleStray2xx(response: SipResponse): void {
    if (this.lastAck && this.lastAck.headers.cseq.seq === response.headers.cseq.seq && this.dialog) {
      const ack = this.lastAck;
      void this.dialog.nextHop(this.stack).then((hop) => this.stack.sendStateless(ack, hop));
    }
  }

  private requireDialog(what: string): Dialog {
    if (!this.dialog || this.ended) throw new Error(`${what}: the call is not established`);
    return this.dialog;
  }

  // ───────────────────────────── responses ─────────────────────────────

  protected response(
    request: SipRequest,
    status: number,
    reason: string,
    extra: { headers?: Record<string, unknown>; body?: string; contentType?: string } = {},
  ): SipResponse {
    const base = makeResponse(request, status, reason);
    const headers: SipResponse['headers'] = { ...base.headers, ...(extra.headers ?? {}) };
    if (this.dialog && request.headers.to.params.tag === undefined && status > 100) {
      headers.to = { ...base.headers.to, params: { ...base.headers.to.params, tag: this.dialog.localTag } };
    }
    if (extra.body !== undefined) headers['content-type'] = extra.contentType ?? 'application/sdp';
    headers.server = this.stack.userAgent;
    return { ...base, headers, content: extra.body ?? '' };
  }

  /**
   * Sends a 2xx to an INVITE and retransmits it (T1 doubling up to T2) until the ACK arrives
   * (RFC 3261 13.3.1.4); after 64·T1 without ACK the call ends with BYE, `timeout`.
   */
  protected send2xxUntilAck(
    tx: ServerTransaction,
    response: SipResponse,
    onAck: (ack: SipRequest) => void,
    onEnd: () => void = () => {},
  ): void {
    const seq = response.headers.cseq.seq;
    const t1 = this.stack.t1;
    this.stack.respond(tx, response);
    const resend = (interval: number): NodeJS.Timeout =>
      setTimeout(() => {
        this.stack.respond(tx, response);
        const p = this.pending2xx.get(seq);
        if (p) p.timer = resend(Math.min(interval * 2, 8 * t1));
      }, interval);
    const giveUp = setTimeout(() => {
      // Left in pending2xx: finish() settles its onEnd once the BYE ends the call.
      this.log.warn({ seq }, 'no ACK for our 2xx in 64·T1: ending the call');
      void this.sendBye('timeout', 'no ACK');
    }, 64 * t1);
    this.pending2xx.set(seq, { timer: resend(t1), giveUp, onAck, onEnd });
  }

  // ───────────────────────────── requests in the dialog ─────────────────────────────

  handleRequest(request: SipRequest, tx: ServerTransaction | undefined, _remote: Remote): void {
    const dialog = this.dialog;
    if (!dialog) return;
    if (request.method === 'ACK') {
      this.handleAck(request);
      return;
    }
    if (!tx) return;
    if (!dialog.acceptRemoteSeq(request)) {
      this.stack.respond(tx, this.response(request, 500, 'CSeq Out Of Order'));
      return;
    }
    switch (request.method) {
      case 'BYE':
        this.stack.respond(tx, this.response(request, 200, 'OK'));
        this.finish('remote');
        return;
      case 'INVITE':
        this.handleReinvite(request, tx);
        return;
      case 'UPDATE':
        this.handleUpdate(request, tx);
        return;
      case 'INFO':
        this.handleInfo(request, tx);
        return;
      case 'MESSAGE':
        this.handleMessage(request, tx);
        return;
      case 'OPTIONS':
        this.stack.respond(tx, this.response(request, 200, 'OK', { headers: this.capabilities() }));
        return;
      case 'PRACK':
        this.handlePrack(request, tx);
        return;
      default:
        this.stack.respond(
          tx,
          this.response(request, 405, 'Method Not Allowed', { headers: { allow: this.stack.allow } }),
        );
    }
  }

  protected capabilities(): Record<string, string> {
    return { allow: this.stack.allow, accept: 'application/sdp', supported: 'timer, 100rel' };
  }

  /** PRACK (RFC 3262): only a call that sent reliable provisional responses expects one. */
  protected handlePrack(request: SipRequest, tx: ServerTransaction): void {
    this.stack.respond(tx, this.response(request, 481, 'No Reliable Provisional Response Pending'));
  }

  private handleAck(ack: SipRequest): void {
    const pending = this.pending2xx.get(ack.headers.cseq.seq);
    if (!pending) return;
    clearTimeout(pending.timer);
    clearTimeout(pending.giveUp);
    this.pending2xx.delete(ack.headers.cseq.seq);
    pending.onAck(ack);
  }

  private handleReinvite(request: SipRequest, tx: ServerTransaction): void {
    const dialog = this.dialog!;
    this.stack.respond(tx, this.response(request, 100, 'Trying'));
    if (this.incomingOffer || this.outgoingOffer || this.pending2xx.size > 0) {
      this.stack.respond(tx, this.response(request, 491, 'Request Pending'));
      return;
    }
    const tooSmall = this.checkSessionExpires(request);
    if (tooSmall) {
      this.stack.respond(tx, tooSmall);
      return;
    }
    const local = this.local;
    if (!local) {
      this.stack.respond(
        tx,
        this.response(request, 500, 'No Local Media', { headers: { 'retry-after': '1' } }),
      );
      return;
    }
    this.incomingOffer = true;
    dialog.refreshTarget(request);
    if (request.content.length === 0) {
      // Offer-less re-INVITE: our offer goes in the 2xx, their answer comes in the ACK.
      const { sdp, offered } = this.sdp.offer(local, local.codecs ?? this.stack.prefs);
      const ok = this.response(request, 200, 'OK', { body: sdp, headers: this.okHeaders(request) });
      this.armSessionTimer(ok.headers['session-expires'], false);
      this.send2xxUntilAck(tx, ok, (ack) => {
        this.incomingOffer = false;
        if (ack.content.length === 0) return;
        try {
          this.applyMedia(acceptAnswer(offered, parseSdp(ack.content)));
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, 'unusable answer in ACK: ending the call');
          void this.sendBye('local', 'unusable SDP answer');
        }
      });
      return;
    }
    try {
      const { sdp, media } = this.sdp.answer(request.content, local, local.codecs ?? this.stack.prefs);
      const ok = this.response(request, 200, 'OK', { body: sdp, headers: this.okHeaders(request) });
      this.send2xxUntilAck(tx, ok, () => {
        this.incomingOffer = false;
      });
      this.applyMedia(media);
      this.armSessionTimer(ok.headers['session-expires'], false);
    } catch (err) {
      this.incomingOffer = false;
      this.respondSdpError(request, tx, err);
    }
  }

  private handleUpdate(request: SipRequest, tx: ServerTransaction): void {
    if (this.incomingOffer || this.outgoingOffer) {
      this.stack.respond(tx, this.response(request, 491, 'Request Pending'));
      return;
    }
    const tooSmall = this.checkSessionExpires(request);
    if (tooSmall) {
      this.stack.respond(tx, tooSmall);
      return;
    }
    this.dialog!.refreshTarget(request);
    const local = this.local;
    if (request.content.length === 0 || !local) {
      // A session refresh without a new offer.
      const ok = this.response(request, 200, 'OK', { headers: this.okHeaders(request) });
      this.stack.respond(tx, ok);
      this.armSessionTimer(ok.headers['session-expires'], false);
      return;
    }
    try {
      const { sdp, media } = this.sdp.answer(request.content, local, local.codecs ?? this.stack.prefs);
      const ok = this.response(request, 200, 'OK', { body: sdp, headers: this.okHeaders(request) });
      this.stack.respond(tx, ok);
      this.applyMedia(media);
      this.armSessionTimer(ok.headers['session-expires'], false);
    } catch (err) {
      this.respondSdpError(request, tx, err);
    }
  }

  private handleInfo(request: SipRequest, tx: ServerTransaction): void {
    const type = mediaType(request.headers['content-type']);
    if (request.content.length === 0) {
      this.stack.respond(tx, this.response(request, 200, 'OK'));
      return;
    }
    if (!INFO_TYPES.includes(type)) {
      this.stack.respond(
        tx,
        this.response(request, 415, 'Unsupported Media Type', { headers: { accept: INFO_TYPES.join(', ') } }),
      );
      return;
    }
    this.stack.respond(tx, this.response(request, 200, 'OK'));
    const dtmf = parseDtmfInfo(type, request.content);
    if (dtmf) this.emit('dtmf', { ...dtmf, via: 'info' });
    else this.log.debug({ body: request.content.slice(0, 100) }, 'INFO without a usable key');
  }

  private handleMessage(request: SipRequest, tx: ServerTransaction): void {
    const type = mediaType(request.headers['content-type']) || 'text/plain';
    if (!isTextType(type)) {
      this.stack.respond(
        tx,
        this.response(request, 415, 'Unsupported Media Type', { headers: { accept: 'text/plain' } }),
      );
      return;
    }
    this.stack.respond(tx, this.response(request, 200, 'OK'));
    const text = Buffer.from(request.content, 'latin1').toString('utf8');
    const from = request.headers.from.uri;
    this.emit('message', { text, contentType: type, from: typeof from === 'string' ? from : '' });
  }

  protected respondSdpError(request: SipRequest, tx: ServerTransaction, err: unknown): void {
    if (err instanceof SdpError) {
      const reason = err.status === 488 ? 'Not Acceptable Here' : 'Bad Request';
      this.stack.respond(
        tx,
        this.response(request, err.status, reason, {
          headers: { warning: `399 parley "${err.message.replace(/"/g, "'")}"` },
        }),
      );
      return;
    }
    this.log.error({ err }, 'offer handling failed');
    this.stack.respond(tx, this.response(request, 500, 'Server Internal Error'));
  }

  /** Records new media and tells the listeners when anything they act on changed. */
  protected applyMedia(media: NegotiatedMedia): void {
    const before = this.negotiated;
    this.negotiated = media;
    if (!before) return;
    const changed =
      before.direction !== media.direction ||
      before.codec.payloadType !== media.codec.payloadType ||
      before.codec.id !== media.codec.id ||
      before.remote.address !== media.remote.address ||
      before.remote.port !== media.remote.port;
    if (changed) {
      this.log.info(
        {
          direction: media.direction,
          codec: media.codec.id,
          remote: `${media.remote.address}:${media.remote.port}`,
        },
        'media changed',
      );
      this.emit('media-changed', {
        remote: media.remote,
        direction: media.direction,
        codec: media.codec,
        media,
      });
    }
  }

  // ───────────────────────────── session timers (RFC 4028) ─────────────────────────────

  /** A 422 response when the request asks for an interval below our Min-SE, else undefined. */
  protected checkSessionExpires(request: SipRequest): SipResponse | undefined {
    const se = parseSessionExpires(request.headers['session-expires']);
    if (se && se.seconds < this.stack.minSE) {
      return this.response(request, 422, 'Session Interval Too Small', {
        headers: { 'Min-SE': String(this.stack.minSE) },
      });
    }
    return undefined;
  }

  /** Session-Expires/Require for our 2xx to a request that asked for a session timer. */
  protected okHeaders(request: SipRequest): Record<string, unknown> {
    const headers: Record<string, unknown> = {
      contact: [{ uri: this.contactUri(), params: {} }],
      ...this.capabilities(),
    };
    const se = parseSessionExpires(request.headers['session-expires']);
    if (!se) return headers;
    const uacSupports = /\btimer\b/i.test(String(request.headers.supported ?? ''));
    const refresher = se.refresher ?? (uacSupports ? 'uac' : 'uas');
    headers['session-expires'] = `${se.seconds};refresher=${refresher}`;
    if (uacSupports) headers.require = 'timer';
    return headers;
  }

  protected abstract contactUri(): string;

  /**
   * Starts or restarts the session timer from a request we accepted or a 2xx we received.
   * The refresher re-INVITEs at half the interval; the other side sends BYE when no refresh
   * arrives before the interval minus min(32 s, interval/3).
   */
  protected armSessionTimer(sessionExpires: unknown, weAreUac: boolean): void {
    const se = parseSessionExpires(sessionExpires);
    if (!se) return;
    // refresher=uac names whoever sent the request of this transaction.
    const weRefresh = (se.refresher === 'uac') === weAreUac;
    this.refreshInterval = { seconds: se.seconds, weRefresh };
    clearTimeout(this.sessionTimer);
    if (this.ended) return;
    if (weRefresh) {
      const refresh = (attempt: number): void => {
        if (this.ended || !this.local) return;
        this.updateMedia(this.local).catch((err: unknown) => {
          if (err instanceof SipRequestError && err.status === 491 && attempt < 3) {
            // Glare (RFC 3261 14.1): try again after 2.1–4 s rather than give the call up.
            this.sessionTimer = setTimeout(() => refresh(attempt + 1), 2100 + Math.random() * 1900);
            return;
          }
          this.log.warn({ err: (err as Error).message }, 'session refresh failed: ending the call');
          void this.sendBye('timeout', 'session refresh failed');
        });
      };
      this.sessionTimer = setTimeout(() => refresh(0), (se.seconds * 1000) / 2);
    } else {
      const wait = se.seconds - Math.min(32, se.seconds / 3);
      this.sessionTimer = setTimeout(() => {
        this.log.warn({ seconds: se.seconds }, 'session expired without refresh');
        void this.sendBye('timeout', 'session expired');
      }, wait * 1000);
    }
    this.sessionTimer.unref?.();
  }
}

/** A non-2xx final response to one of our in-dialog requests (or 491 when our own exchange is pending). */
export class SipRequestError extends Error {
  constructor(
    readonly method: string,
    readonly status: number,
    readonly reason: string,
  ) {
    super(`${method} answered ${status} ${reason}`);
    this.name = 'SipRequestError';
  }
}

/** Session-Expires: "1800;refresher=uac" → {seconds, refresher}. */
export function parseSessionExpires(
  value: unknown,
): { seconds: number; refresher?: 'uac' | 'uas' } | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d{1,9})\s*(?:;(.*))?$/.exec(value);
  if (!m) return undefined;
  const refresher = /refresher\s*=\s*(uac|uas)/i.exec(m[2] ?? '')?.[1]?.toLowerCase() as
    | 'uac'
    | 'uas'
    | undefined;
  return { seconds: Number(m[1]), ...(refresher ? { refresher } : {}) };
}

export type { OfferedMedia };
