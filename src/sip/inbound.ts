/**
 * The UAS side of a call: an INVITE we received, from 100 Trying to the confirmed dialog.
 * Early offer (answer in 183/200) and late offer (our offer in 200, answer in ACK), CANCEL
 * before the answer (487), and refusal.
 */
import { type CallEvents, SipCall } from './call.js';
import { contactUri, Dialog } from './dialog.js';
import { randomToken, type ServerTransaction, uriString } from './lib.js';
import { type Logger, withFields } from './logger.js';
import {
  acceptAnswer,
  type LocalMedia,
  type NegotiatedMedia,
  parseSdp,
  type RemoteMedia,
  SdpError,
} from './sdp.js';
import type { SipStack } from './stack.js';
import type { Protocol, Remote } from './transport.js';
import type { SipRequest, SipResponse } from './wire/types.js';

/** A reliable provisional response waiting for its PRACK (RFC 3262). */
interface Unacknowledged {
  rseq: number;
  timer: NodeJS.Timeout;
  giveUp: NodeJS.Timeout;
}

export type InboundState = 'incoming' | 'ringing' | 'early' | 'answering' | 'answered' | 'ended';

export class InboundCall extends SipCall {
  readonly from: string;
  readonly fromName: string | undefined;
  readonly to: string;
  readonly requestUri: string;
  readonly source: Remote;
  readonly transport: Protocol;
  /** Lower-case header names; structured headers rendered as JSON. */
  readonly headers: Record<string, string>;
  /** The caller's offer; undefined for a late-offer INVITE. */
  readonly offer: RemoteMedia | undefined;
  private _state: InboundState = 'incoming';
  private readonly localTag = randomToken(12);
  /** The INVITE required 100rel: every provisional response but 100 goes reliably (RFC 3262 3). */
  private readonly reliable: boolean;
  private rseq = Math.floor(Math.random() * 2 ** 30) + 1;
  private unacknowledged: Unacknowledged | undefined;
  /** Reliable provisional responses waiting for the one before them to be acknowledged. */
  private readonly queued: SipResponse[] = [];
  /** Run once no reliable provisional response awaits its PRACK (an answer held back). */
  private prackWaiters: Array<() => void> = [];

  constructor(
    stack: SipStack,
    private readonly invite: SipRequest,
    private readonly tx: ServerTransaction,
    remote: Remote,
    private readonly localContact: { address: string; port: number; protocol: Protocol },
    offer: RemoteMedia | undefined,
    logger: Logger,
  ) {
    const callId = invite.headers['call-id'];
    super(stack, callId, withFields(logger, { callId }));
    this.from = uriString(invite.headers.from.uri);
    this.fromName = invite.headers.from.name;
    this.to = uriString(invite.headers.to.uri);
    this.requestUri = uriString(invite.uri);
    this.source = remote;
    this.transport = remote.protocol;
    this.headers = flattenHeaders(invite);
    this.offer = offer;
    this.reliable = /\b100rel\b/i.test(String(invite.headers.require ?? ''));
    const recordRoute = Array.isArray(invite.headers['record-route']) ? invite.headers['record-route'] : [];
    const contact = invite.headers.contact;
    this.dialog = new Dialog({
      callId,
      localTag: this.localTag,
      remoteTag: String(invite.headers.from.params.tag ?? ''),
      localUri: { ...invite.headers.to, uri: this.to, params: withoutTag(invite.headers.to.params) },
      remoteUri: { ...invite.headers.from, uri: this.from, params: withoutTag(invite.headers.from.params) },
      remoteTarget: Array.isArray(contact) && contact[0] ? uriString(contact[0].uri) : this.from,
      routeSet: recordRoute.map((r) => ({ ...r, uri: uriString(r.uri) })),
      localSeq: Math.floor(Math.random() * 10000) + 1,
      remoteSeq: invite.headers.cseq.seq,
      contact: localContact,
      fallback: remote,
    });
    this.stack.registerDialog(this.dialog.key, this);
  }

  get state(): InboundState {
    return this._state;
  }

  protected contactUri(): string {
    return contactUri(this.localContact);
  }

  /** 180 Ringing. Idempotent; ignored once answered. */
  ringing(): void {
    if (this._state !== 'incoming') return;
    this._state = 'ringing';
    this.sendProvisional(this.response(this.invite, 180, 'Ringing', { headers: this.contactHeader() }));
  }

  /**
   * 183 Session Progress with our answer, for announcements before answering (reliably, with
   * RSeq, when the INVITE required 100rel). Needs an offer in the INVITE: for a late offer, our
   * offer would go in a reliable 183 and the answer come in the PRACK, which is not done.
   */
  earlyMedia(local: LocalMedia): NegotiatedMedia {
    if (this._state !== 'incoming' && this._state !== 'ringing' && this._state !== 'early') {
      throw new Error(`earlyMedia: call is ${this._state}`);
    }
    if (!this.offer)
      throw new Error('earlyMedia: the INVITE had no offer (early media for a late offer is not supported)');
    const { sdp, media } = this.answerOffer(local);
    this._state = 'early';
    this.sendProvisional(
      this.response(this.invite, 183, 'Session Progress', { body: sdp, headers: this.contactHeader() }),
    );
    return media;
  }

  /**
   * 200 OK with our answer (or our offer for a late-offer INVITE, then the caller's answer
   * arrives in the ACK). Resolves with the agreed media once the call is confirmed; rejects
   * (after refusing with 488) when no codec fits, or when the late-offer ACK has no usable answer.
   */
  answer(local: LocalMedia): Promise<NegotiatedMedia> {
    if (this._state === 'answered' || this._state === 'answering') {
      if (this.negotiated) return Promise.resolve(this.negotiated);
      return Promise.reject(new Error('answer: already answering'));
    }
    if (this._state === 'ended') return Promise.reject(new Error('answer: the call has ended'));
    // RFC 3262 3: no 2xx while a reliable provisional response (maybe with our answer) waits
    // for its PRACK; provisional responses still queued mean nothing once the call is answered.
    this.queued.length = 0;
    if (this.unacknowledged) {
      return new Promise((resolve, reject) => {
        this.prackWaiters.push(() => {
          if (this.ended) reject(new Error('answer: the call has ended'));
          else this.answer(local).then(resolve, reject);
        });
      });
    }
    const headers = { ...this.okHeaders(this.invite) };
    if (this.offer) {
      let answer: { sdp: string; media: NegotiatedMedia };
      try {
        answer = this.answerOffer(local);
      } catch (err) {
        this.refuse(err);
        return Promise.reject(err);
      }
      this._state = 'answering';
      const ok = this.response(this.invite, 200, 'OK', { body: answer.sdp, headers });
      return new Promise((resolve, reject) => {
        this.send2xxUntilAck(
          this.tx,
          ok,
          () => {
            this.confirm();
            resolve(answer.media);
          },
          () => reject(new Error('answer: the call ended before the ACK')),
        );
        this.armSessionTimer(ok.headers['session-expires'], false);
      });
    }
    this.local = local;
    const { sdp, offered } = this.sdp.offer(local, local.codecs ?? this.stack.prefs);
    this._state = 'answering';
    const ok = this.response(this.invite, 200, 'OK', { body: sdp, headers });
    return new Promise((resolve, reject) => {
      this.send2xxUntilAck(
        this.tx,
        ok,
        (ack) => {
          try {
            const media = acceptAnswer(offered, parseSdp(ack.content));
            this.negotiated = media;
            this.confirm();
            resolve(media);
          } catch (err) {
            const reason = err instanceof SdpError ? err.message : 'no answer in ACK';
            this.log.warn({ reason }, 'late offer: unusable answer in ACK, ending the call');
            this.confirm();
            void this.sendBye('local', reason);
            reject(err);
          }
        },
        () => reject(new Error('answer: the call ended before the ACK')),
      );
      this.armSessionTimer(ok.headers['session-expires'], false);
    });
  }

  /** Refuses the call with a final response; only before it is answered. */
  reject(status: number, reason = 'Rejected'): void {
    if (this._state === 'answered' || this._state === 'answering')
      throw new Error('reject: the call is already answered');
    if (this._state === 'ended') return;
    if (!Number.isInteger(status) || status < 300 || status > 699)
      throw new RangeError(`reject: ${status} is not a final error status`);
    this.stack.respond(this.tx, this.response(this.invite, status, reason));
    this.finish('local', reason, status);
  }

  /** BYE when answered; 480 before the answer. Idempotent. */
  override async hangup(): Promise<void> {
    if (this.ended) return;
    if (this._state === 'answered' || this._state === 'answering') {
      this._state = 'ended';
      await this.sendBye('local');
      return;
    }
    this.reject(480, 'Temporarily Unavailable');
  }

  /** CANCEL for this INVITE arrived: 487 unless already answered (the 200 for CANCEL is sent by the server). */
  cancelled(): void {
    if (this._state === 'answered' || this._state === 'answering' || this.ended) return;
    this.stack.respond(this.tx, this.response(this.invite, 487, 'Request Terminated'));
    this.finish('cancel');
  }

  protected override finish(...args: Parameters<SipCall['finish']>): void {
    this._state = 'ended';
    this.stopRetransmitting();
    this.queued.length = 0;
    super.finish(...args);
    this.releasePrackWaiters();
  }

  /** A PRACK: acknowledges the reliable provisional response it names by RAck (RFC 3262 7.2). */
  protected override handlePrack(request: SipRequest, tx: ServerTransaction): void {
    const rack = /^\s*(\d+)\s+(\d+)\s+([A-Za-z]+)\s*$/.exec(String(request.headers.rack ?? ''));
    const pending = this.unacknowledged;
    const matches =
      pending !== undefined &&
      rack !== null &&
      Number(rack[1]) === pending.rseq &&
      Number(rack[2]) === this.invite.headers.cseq.seq &&
      rack[3]?.toUpperCase() === 'INVITE';
    if (!matches) {
      this.stack.respond(tx, this.response(request, 481, 'No Matching Reliable Provisional Response'));
      return;
    }
    // An offer in a PRACK (RFC 3262 5) is not taken up; the PRACK still acknowledges.
    if (request.content.length > 0)
      this.stack.respond(tx, this.response(request, 488, 'Offer In PRACK Not Accepted'));
    else this.stack.respond(tx, this.response(request, 200, 'OK'));
    this.stopRetransmitting();
    const next = this.queued.shift();
    if (next) this.sendReliably(next);
    else this.releasePrackWaiters();
  }

  private sendProvisional(response: SipResponse): void {
    if (!this.reliable) this.stack.respond(this.tx, response);
    else if (this.unacknowledged) this.queued.push(response);
    else this.sendReliably(response);
  }

  /**
   * Sends a provisional response with Require: 100rel and the next RSeq, and retransmits it
   * (T1, doubling) until its PRACK; after 64·T1 without one the call is refused with 504.
   */
  private sendReliably(base: SipResponse): void {
    const rseq = this.rseq++;
    const response: SipResponse = {
      ...base,
      // Written `RSeq` as RFC 3262 spells it: names are case-insensitive, but not every peer knows.
      headers: { ...base.headers, require: '100rel', RSeq: String(rseq) },
    };
    const t1 = this.stack.t1;
    this.stack.respond(this.tx, response);
    const resend = (interval: number): NodeJS.Timeout =>
      setTimeout(() => {
        const pending = this.unacknowledged;
        if (pending?.rseq !== rseq) return;
        this.stack.respond(this.tx, response);
        pending.timer = resend(interval * 2);
      }, interval);
    const giveUp = setTimeout(() => {
      if (this.unacknowledged?.rseq !== rseq) return;
      this.log.warn({ rseq }, 'no PRACK for a reliable provisional response in 64·T1: refusing the call');
      this.stopRetransmitting();
      if (this._state === 'answered' || this._state === 'answering' || this.ended) return;
      this.stack.respond(this.tx, this.response(this.invite, 504, 'No PRACK Received'));
      this.finish('timeout', 'no PRACK');
    }, 64 * t1);
    this.unacknowledged = { rseq, timer: resend(t1), giveUp };
  }

  private stopRetransmitting(): void {
    const pending = this.unacknowledged;
    if (!pending) return;
    clearTimeout(pending.timer);
    clearTimeout(pending.giveUp);
    this.unacknowledged = undefined;
  }

  private releasePrackWaiters(): void {
    const waiters = this.prackWaiters;
    this.prackWaiters = [];
    for (const wake of waiters) wake();
  }

  private confirm(): void {
    if (this._state === 'answering') this._state = 'answered';
  }

  private answerOffer(local: LocalMedia): { sdp: string; media: NegotiatedMedia } {
    const result = this.sdp.answer(this.invite.content, local, local.codecs ?? this.stack.prefs);
    this.local = local;
    this.negotiated = result.media;
    return result;
  }

  private refuse(err: unknown): void {
    this.respondSdpError(this.invite, this.tx, err);
    const status = err instanceof SdpError ? err.status : 500;
    this.finish('local', (err as Error).message, status);
  }

  private contactHeader(): Record<string, unknown> {
    return { contact: [{ uri: this.contactUri(), params: {} }] };
  }
}

function withoutTag(params: Record<string, string | null>): Record<string, string | null> {
  const { tag: _tag, ...rest } = params;
  return rest;
}

/** Header values as strings, for routing on headers (the runtime's CallInfo.headers). */
function flattenHeaders(request: SipRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === 'string') out[name] = value;
    else if (typeof value === 'number') out[name] = String(value);
  }
  out.from = uriString(request.headers.from.uri);
  out.to = uriString(request.headers.to.uri);
  out['call-id'] = request.headers['call-id'];
  return out;
}

export type { CallEvents };
