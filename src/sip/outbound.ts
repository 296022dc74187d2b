/**
 * The UAC side: dialling out. INVITE with our offer straight to the URI or via an outbound
 * proxy, digest authentication on 401/407, ringing and early media reported, CANCEL on ring
 * timeout or abort, ACK for the 2xx; the outcome is answered, busy, no-answer or failed.
 */
import net from 'node:net';
import { SipCall } from './call.js';
import { contactUri, Dialog, type LocalContact, makeVia } from './dialog.js';
import { parseUri, randomToken, signRequest, uriString } from './lib.js';
import { type Logger, withFields } from './logger.js';
import { resolveHops, transportOf } from './resolve.js';
import {
  acceptAnswer,
  type LocalMedia,
  type NegotiatedMedia,
  type OfferedMedia,
  parseSdp,
  SdpSession,
} from './sdp.js';
import type { OutgoingRequest, SipStack } from './stack.js';
import type { Protocol, Remote } from './transport.js';
import type { SipRequest, SipResponse } from './wire/types.js';

export interface DialOptions {
  /** sip: URI to call. */
  uri: string;
  /** Our From URI; defaults to sip:parley@<our address>. */
  from?: string;
  fromName?: string;
  /** Outbound proxy or trunk (`sip:host:port;transport=tcp`): every request goes there first. */
  proxy?: string;
  auth?: { username: string; password: string };
  /** Ring time before CANCEL and `no-answer`. */
  timeoutMs: number;
  local: LocalMedia;
  signal?: AbortSignal;
  /** Extra headers for the INVITE (lower-case names). */
  headers?: Record<string, string>;
  /** Progress before the answer. */
  onProgress?: (event: { type: 'ringing' } | { type: 'early-media'; media: NegotiatedMedia }) => void;
}

/** Where a dial goes, computed before anything is sent, so a policy can check it first. */
export interface DialTarget {
  /** The Request-URI, normalised. */
  requestUri: string;
  user: string | undefined;
  host: string;
  /** The first hop: the proxy when configured, else the URI's host. */
  nextHop: string;
  /** The transport the first hop's URI names; absent: DNS (NAPTR/SRV) or UDP decides. */
  protocol?: Protocol;
}

export type DialOutcome =
  | { status: 'answered'; call: OutboundCall; media: NegotiatedMedia }
  | { status: 'busy' | 'no-answer' | 'failed'; code?: number; reason: string };

/** Parses and normalises a dial request's URI and next hop; throws on a URI that is not SIP. */
export function dialTarget(uri: string, proxy?: string): DialTarget {
  const parsed = parseUri(uri);
  if (!parsed || (parsed.schema !== 'sip' && parsed.schema !== 'sips'))
    throw new Error(`not a SIP URI: ${uri}`);
  if (parsed.schema === 'sips') throw new Error(`sips: is not supported: ${uri}`);
  const hop = proxy ? parseUri(proxy) : parsed;
  if (!hop) throw new Error(`not a SIP URI: ${proxy}`);
  const protocol = transportOf(hop.params.transport);
  return {
    requestUri: uri,
    user: parsed.user,
    host: parsed.host,
    nextHop: proxy ?? uri,
    ...(protocol ? { protocol } : {}),
  };
}

export class OutboundCall extends SipCall {
  /** Our From URI. */
  readonly from: string;
  /** The dialled URI (the To and Request-URI of the INVITE). */
  readonly to: string;
  readonly requestUri: string;
  /** The first hop the INVITE went to (the callee or the outbound proxy). */
  readonly source: Remote;
  readonly transport: Protocol;

  constructor(
    stack: SipStack,
    callId: string,
    dialog: Dialog,
    local: LocalMedia,
    media: NegotiatedMedia | undefined,
    logger: Logger,
    readonly uri: string,
    private readonly localContact: LocalContact,
    hop: Remote,
    credentials: { user: string; password: string } | undefined,
  ) {
    super(stack, callId, logger);
    this.dialog = dialog;
    this.local = local;
    if (media) this.negotiated = media;
    this.from = uriString(dialog.localUri.uri);
    this.to = uri;
    this.requestUri = uri;
    this.source = hop;
    this.transport = hop.protocol;
    this.credentials = credentials;
    this.stack.registerDialog(dialog.key, this);
  }

  protected contactUri(): string {
    return contactUri(this.localContact);
  }

  /** Called once with the 2xx that created the dialog. */
  start(invite: SipRequest, ok: SipResponse): void {
    this.ack2xx(invite, ok);
    this.armSessionTimer(ok.headers['session-expires'], true);
  }
}

interface Attempt {
  invite: SipRequest;
  outgoing: OutgoingRequest;
}

/**
 * Places one call. Never rejects for call failures: those are outcomes. `contactFor` gives our
 * Contact for the chosen transport.
 */
export async function dial(
  stack: SipStack,
  options: DialOptions,
  contactFor: (protocol: Protocol) => LocalContact,
  logger: Logger,
): Promise<DialOutcome> {
  let target: DialTarget;
  try {
    target = dialTarget(options.uri, options.proxy);
  } catch (err) {
    return { status: 'failed', reason: (err as Error).message };
  }
  if (options.signal?.aborted) return { status: 'failed', reason: 'aborted' };
  let hops: Remote[];
  try {
    hops = await resolveHops(target.nextHop, {
      resolver: stack.resolver,
      supported: stack.transports,
      ...(target.protocol ? { protocolHint: target.protocol } : {}),
    });
  } catch (err) {
    return { status: 'failed', reason: `cannot resolve ${target.nextHop}: ${(err as Error).message}` };
  }
  // The targets of one SRV service: same transport, tried in order (RFC 3263 4.3).
  let hop = hops[0] as Remote;
  const contact = contactFor(hop.protocol);
  // No listening port for the transport: no Contact a callee could reach, and for TLS no
  // certificate or trust to connect with.
  if (contact.port === 0)
    return { status: 'failed', reason: `SIP over ${hop.protocol} is not configured on this server` };
  const callId = `${randomToken(16)}@parley`;
  const log = withFields(logger, { callId });
  const fromTag = randomToken(12);
  const fromUri =
    options.from ?? `sip:parley@${net.isIPv6(contact.address) ? `[${contact.address}]` : contact.address}`;
  const { sdp, offered } = new SdpSession().offer(options.local, options.local.codecs ?? stack.prefs);
  let seq = 1;

  const build = (): SipRequest => ({
    method: 'INVITE',
    uri: target.requestUri,
    version: '2.0',
    headers: {
      via: [makeVia(contact)],
      'max-forwards': '70',
      from: {
        ...(options.fromName ? { name: `"${options.fromName.replace(/"/g, '')}"` } : {}),
        uri: fromUri,
        params: { tag: fromTag },
      },
      to: { uri: target.requestUri, params: {} },
      'call-id': callId,
      cseq: { seq, method: 'INVITE' },
      contact: [{ uri: contactUri(contact), params: {} }],
      ...(options.proxy ? { route: [{ uri: proxyRoute(options.proxy), params: {} }] } : {}),
      supported: 'timer, 100rel',
      allow: stack.allow,
      'user-agent': stack.userAgent,
      'content-type': 'application/sdp',
      ...(options.headers ?? {}),
    },
    content: sdp,
  });

  log.info({ uri: target.requestUri, hop: `${hop.protocol}:${hop.address}:${hop.port}` }, 'dialling');
  let answered = false;
  let cancelReason: 'no-answer' | 'aborted' | undefined;
  let provisional = false;
  let current: Attempt | undefined;

  const cancelNow = (): void => {
    if (current && provisional && !answered) current.outgoing.cancel();
  };
  const ringTimer = setTimeout(() => {
    cancelReason ??= 'no-answer';
    cancelNow();
  }, options.timeoutMs);
  const onAbort = (): void => {
    cancelReason ??= 'aborted';
    cancelNow();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  /** Early dialogs by To tag, with the last RSeq acknowledged there (RFC 3262 4). */
  const early = new Map<string, { dialog: Dialog; rseq: number }>();
  /**
   * PRACKs a reliable provisional response; false for one to ignore: a retransmission of one
   * already acknowledged, or one out of order.
   */
  const acknowledge = (response: SipResponse, invite: SipRequest): boolean => {
    if (!/\b100rel\b/i.test(String(response.headers.require ?? ''))) return true;
    const rseq = Number(response.headers.rseq);
    const toTag = response.headers.to.params.tag;
    if (!Number.isInteger(rseq) || rseq < 1 || !toTag) return true;
    let entry = early.get(toTag);
    // Only the next RSeq counts: lower is a retransmission already PRACKed, higher a gap.
    if (entry && rseq !== entry.rseq + 1) return false;
    entry ??= { dialog: dialogFrom(invite, response, contact, hop), rseq };
    entry.rseq = rseq;
    early.set(toTag, entry);
    const { dialog } = entry;
    // Written `RAck` as RFC 3262 spells it (names are case-insensitive, not every peer knows).
    const prack = dialog.request('PRACK', { headers: { RAck: `${rseq} ${invite.headers.cseq.seq} INVITE` } });
    void dialog
      .nextHop(stack)
      .then((next) => stack.send(prack, next).final)
      .then((r) => {
        if (r.status >= 300) log.warn({ status: r.status, rseq }, 'PRACK refused');
      })
      .catch((err: unknown) => log.warn({ err, rseq }, 'PRACK not sent'));
    return true;
  };

  const onProvisional = (response: SipResponse): void => {
    if (current && !acknowledge(response, current.invite)) return;
    provisional = true;
    if (cancelReason) {
      // RFC 3261 9.1: CANCEL only once a provisional response has arrived.
      current?.outgoing.cancel();
      return;
    }
    let event: Parameters<NonNullable<DialOptions['onProgress']>>[0] | undefined;
    if (response.status >= 180 && response.status <= 182) event = { type: 'ringing' };
    else if (response.status === 183 && response.content.length > 0) {
      try {
        event = { type: 'early-media', media: acceptAnswer(offered, parseSdp(response.content)) };
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'unusable SDP in 183');
      }
    }
    if (!event) return;
    try {
      options.onProgress?.(event);
    } catch (err) {
      // The caller's callback runs inside the transaction layer: it must not break it.
      log.error({ err }, 'dial progress callback threw');
    }
  };
  const sendInvite = (invite: SipRequest): Promise<SipResponse> => {
    provisional = false;
    current = { invite, outgoing: stack.send(invite, hop, onProvisional) };
    return current.outgoing.final;
  };

  try {
    let invite = build();
    let response = await sendInvite(invite);
    // A transport failure (our own 503), a 503, or a timeout with nothing heard moves on to
    // the next server of the service, with the same request on a new branch (RFC 3263 4.3).
    for (let next = 1; next < hops.length && !cancelReason && failsOver(response, provisional); next++) {
      log.info(
        {
          status: response.status,
          reason: response.reason,
          next: `${hops[next]?.address}:${hops[next]?.port}`,
        },
        'dial: trying the next server',
      );
      hop = hops[next] as Remote;
      invite = build();
      response = await sendInvite(invite);
    }
    if ((response.status === 401 || response.status === 407) && options.auth && !cancelReason) {
      seq += 1;
      const signed = build();
      if (signRequest(signed, response, { user: options.auth.username, password: options.auth.password })) {
        log.info({ status: response.status }, 'dial challenged: retrying with credentials');
        invite = signed;
        response = await sendInvite(signed);
      }
    }
    log.info({ status: response.status, reason: response.reason }, 'dial final response');
    if (response.status >= 200 && response.status < 300) {
      answered = true;
      // Requests in the dialog go on from the CSeq of the PRACKs sent in its early dialog.
      const earlySeq = early.get(String(response.headers.to.params.tag ?? ''))?.dialog.localSeq;
      return established(
        stack,
        invite,
        response,
        options,
        offered,
        contact,
        hop,
        log,
        cancelReason,
        earlySeq,
      );
    }
    return failure(response, cancelReason);
  } finally {
    clearTimeout(ringTimer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function failsOver(response: SipResponse, heardFromServer: boolean): boolean {
  return response.status === 503 || (response.status === 408 && !heardFromServer);
}

function failure(response: SipResponse, cancelReason: 'no-answer' | 'aborted' | undefined): DialOutcome {
  const code = response.status;
  const reason = `${code} ${response.reason}`.trim();
  if (cancelReason === 'no-answer' && (code === 487 || code === 408))
    return { status: 'no-answer', code, reason };
  if (cancelReason === 'aborted') return { status: 'failed', code, reason: 'aborted' };
  if (code === 486 || code === 600) return { status: 'busy', code, reason };
  if (code === 408 || code === 480) return { status: 'no-answer', code, reason };
  return { status: 'failed', code, reason };
}

/** The dialog a response to our INVITE makes (early for 1xx, confirmed for 2xx; RFC 3261 12.1.2). */
function dialogFrom(invite: SipRequest, response: SipResponse, contact: LocalContact, hop: Remote): Dialog {
  const recordRoute = Array.isArray(response.headers['record-route']) ? response.headers['record-route'] : [];
  const remoteContact = response.headers.contact;
  return new Dialog({
    callId: invite.headers['call-id'],
    localTag: String(invite.headers.from.params.tag),
    remoteTag: String(response.headers.to.params.tag ?? ''),
    localUri: { ...invite.headers.from, params: {} },
    remoteUri: { ...response.headers.to, uri: uriString(response.headers.to.uri), params: {} },
    remoteTarget:
      Array.isArray(remoteContact) && remoteContact[0] ? uriString(remoteContact[0].uri) : invite.uri,
    // The UAC's route set is the Record-Route of the response, reversed.
    routeSet: recordRoute.map((r) => ({ ...r, uri: uriString(r.uri) })).reverse(),
    localSeq: invite.headers.cseq.seq,
    remoteSeq: undefined,
    contact,
    fallback: hop,
  });
}

function established(
  stack: SipStack,
  invite: SipRequest,
  ok: SipResponse,
  options: DialOptions,
  offered: OfferedMedia,
  contact: LocalContact,
  hop: Remote,
  log: Logger,
  cancelReason: 'no-answer' | 'aborted' | undefined,
  earlySeq: number | undefined,
): DialOutcome {
  const dialog = dialogFrom(invite, ok, contact, hop);
  if (earlySeq !== undefined) dialog.localSeq = Math.max(dialog.localSeq, earlySeq);
  const creds = options.auth ? { user: options.auth.username, password: options.auth.password } : undefined;
  let media: NegotiatedMedia;
  try {
    media = acceptAnswer(offered, parseSdp(ok.content));
  } catch (err) {
    // A 2xx must still be ACKed, then the call is ended: it carries no usable answer.
    const call = new OutboundCall(
      stack,
      dialog.callId,
      dialog,
      options.local,
      undefined,
      log,
      options.uri,
      contact,
      hop,
      creds,
    );
    call.start(invite, ok);
    void call.hangup();
    return { status: 'failed', code: ok.status, reason: `unusable SDP answer: ${(err as Error).message}` };
  }
  const call = new OutboundCall(
    stack,
    dialog.callId,
    dialog,
    options.local,
    media,
    log,
    options.uri,
    contact,
    hop,
    creds,
  );
  call.start(invite, ok);
  if (cancelReason) {
    // Answered while our CANCEL was on its way: the call exists, so end it properly.
    void call.hangup();
    return {
      status: cancelReason === 'aborted' ? 'failed' : 'no-answer',
      reason: `${cancelReason}; answered late and hung up`,
    };
  }
  return { status: 'answered', call, media };
}

/** The proxy as a loose-routing Route entry. */
function proxyRoute(proxy: string): string {
  return /;lr\b/.test(proxy) ? proxy : `${proxy};lr`;
}
