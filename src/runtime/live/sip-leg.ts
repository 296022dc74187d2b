import { isIPv4 } from 'node:net';
/**
 * A call leg of the runtime (ports.ts `CallLeg`) over a SIP dialog and an RTP
 * endpoint of the media engine. The leg owns its endpoint: it is created when the
 * call first needs media (early media or the answer), configured from the agreed
 * SDP, reconfigured on re-INVITE (hold, codec change) and destroyed when the call ends.
 */
import type { CodecName } from '../../media/index.js';
import type { InboundCall } from '../../sip/inbound.js';
import type { OutboundCall } from '../../sip/outbound.js';
import type { CodecPref, NegotiatedMedia } from '../../sip/sdp.js';
import { CallStateError } from '../errors.js';
import type { CallEvent, CallInfo, CallLeg, CallState, Logger } from '../ports.js';
import type { EndpointMediaConfig, MediaEngineApi } from './media-api.js';

/** The address and options the engine's endpoints are reached at. */
export interface RtpSettings {
  /** Address written into SDP (the engine's bind address unless it binds a wildcard). */
  advertise: string;
  /** Accept RTP from wherever the first valid packets come (symmetric RTP for callers behind NAT). */
  latching: boolean;
  codecs?: readonly CodecPref[];
}

/** PCM rate of each codec; the RTP clock rate of G.722 (8000) is not its sampling rate. */
const PCM_RATE: Record<Exclude<CodecName, 'l16'>, number> = {
  pcmu: 8000,
  pcma: 8000,
  g722: 16000,
  opus: 48000,
};

/** Engine configuration for the media a dialog agreed. */
export function endpointConfig(media: NegotiatedMedia): EndpointMediaConfig {
  const codec = media.codec.id as CodecName;
  const rate = codec === 'l16' ? media.codec.rate : PCM_RATE[codec];
  return {
    remote: {
      address: media.remote.address,
      port: media.remote.port,
      ...(media.rtcpMux ? {} : { rtcpPort: media.remote.rtcpPort }),
    },
    // The engine packetises 20 ms only; a far end's a=ptime is a wish (RFC 3264 §5), not a refusal.
    send: { codec, payloadType: media.codec.payloadType, rate, ptime: 20 },
    receive: {
      payloadTypes: { [media.codec.payloadType]: { codec, rate } },
      ...(media.telephoneEvent ? { telephoneEvent: media.telephoneEvent } : {}),
    },
    direction: media.direction,
  };
}

/** `sip:alice@example.com:5060;transport=tcp` → `alice@example.com` (callers are matched without ports). */
export function bareAddress(uri: string): string {
  return uri
    .replace(/^<|>$/g, '')
    .replace(/^sips?:/i, '')
    .replace(/[;?].*$/, '')
    .replace(/:\d+$/, '');
}

/** The user part of a SIP URI (the dialled number or name). */
export function userPart(uri: string): string {
  const bare = bareAddress(uri);
  const at = bare.lastIndexOf('@');
  return at < 0 ? bare : bare.slice(0, at);
}

type AnySipCall = InboundCall | OutboundCall;

export class SipCallLeg implements CallLeg {
  readonly info: CallInfo;
  private stateValue: CallState;
  private endpointId: number | undefined;
  private readonly listeners = new Set<(e: CallEvent) => void>();
  private answering: Promise<void> | undefined;

  constructor(
    readonly id: string,
    private readonly call: AnySipCall,
    private readonly engine: MediaEngineApi,
    private readonly rtp: RtpSettings,
    private readonly logger: Logger,
    /** Told when the leg gets or drops its endpoint, so engine events find the leg. */
    private readonly onEndpoint: (leg: SipCallLeg, endpoint: number | undefined) => void,
    inbound: { from: string; to: string; source: string; transport: string; headers: Record<string, string> },
    direction: 'inbound' | 'outbound',
  ) {
    this.info = { id, ...inbound, direction };
    this.stateValue = direction === 'outbound' ? 'answered' : 'ringing';
    call.on('ended', ({ by, reason }) => {
      const was = this.stateValue;
      this.stateValue = 'ended';
      this.releaseEndpoint();
      if (was !== 'ended' && by !== 'local')
        this.deliver({ type: 'hangup', ...(reason ? { reason } : { reason: by }) });
    });
    call.on('dtmf', ({ digit }) => this.deliver({ type: 'dtmf', digit }));
    call.on('message', ({ text, from }) => this.deliver({ type: 'message', text, from: bareAddress(from) }));
    call.on('media-changed', ({ media }) => this.configure(media));
  }

  /** Creates the leg of an answered outbound call, whose endpoint already exists. */
  static outbound(
    id: string,
    call: OutboundCall,
    endpoint: number,
    engine: MediaEngineApi,
    rtp: RtpSettings,
    logger: Logger,
    onEndpoint: (leg: SipCallLeg, endpoint: number | undefined) => void,
    to: string,
  ): SipCallLeg {
    const leg = new SipCallLeg(
      id,
      call,
      engine,
      rtp,
      logger,
      onEndpoint,
      { from: bareAddress(to), to: userPart(to), source: '', transport: 'udp', headers: {} },
      'outbound',
    );
    leg.adopt(endpoint);
    if (call.media) leg.configure(call.media);
    return leg;
  }

  get state(): CallState {
    return this.stateValue;
  }

  /** The engine endpoint carrying this call's audio, once there is one. */
  get endpoint(): number | undefined {
    return this.endpointId;
  }

  answer(opts: { early: boolean }): Promise<void> {
    if (this.stateValue === 'ended')
      return Promise.reject(new CallStateError(this.id, 'answer: the call has ended'));
    if (this.stateValue === 'answered') return Promise.resolve();
    const call = this.call as InboundCall;
    if (opts.early) {
      if (this.stateValue === 'early') return Promise.resolve();
      if (!call.offer) {
        // Early media needs an offer in the INVITE; without one, ringing is all the caller gets.
        call.ringing();
        return Promise.resolve();
      }
      try {
        this.configure(call.earlyMedia(this.localMedia()));
      } catch (err) {
        return Promise.reject(this.refuseAfter(err));
      }
      this.stateValue = 'early';
      return Promise.resolve();
    }
    this.answering ??= (async () => {
      let local: ReturnType<SipCallLeg['localMedia']>;
      try {
        local = this.localMedia();
      } catch (err) {
        throw this.refuseAfter(err);
      }
      const media = await call.answer(local);
      if (this.stateValue === 'ended') return;
      this.configure(media);
      this.stateValue = 'answered';
    })();
    return this.answering;
  }

  /**
   * The call cannot get media (no free RTP port, an offer that cannot be answered): the
   * caller is told with a final response instead of being left with 100 Trying.
   */
  private refuseAfter(err: unknown): Error {
    const error = err instanceof Error ? err : new Error(String(err));
    const call = this.call as InboundCall;
    this.logger.error({ call: this.id, callId: call.callId, err: error.message }, 'cannot answer the call');
    if (this.stateValue !== 'ended' && !call.isEnded) {
      this.stateValue = 'ended';
      this.releaseEndpoint();
      const sdp = (error as { status?: unknown }).status;
      try {
        if (typeof sdp === 'number' && sdp >= 400 && sdp < 700) call.reject(sdp, error.message.slice(0, 100));
        else call.reject(503, 'Service Unavailable');
      } catch {
        // Already answered or ended by the SIP layer: nothing left to refuse.
      }
    }
    return error;
  }

  async reject(code: number, reason?: string): Promise<void> {
    if (this.stateValue === 'answered')
      throw new CallStateError(this.id, `reject ${code}: the call is already answered`);
    if (this.stateValue === 'ended') return;
    this.stateValue = 'ended';
    (this.call as InboundCall).reject(code, reason);
    this.releaseEndpoint();
  }

  async hangup(reason?: string): Promise<void> {
    if (this.stateValue === 'ended') return;
    this.stateValue = 'ended';
    this.releaseEndpoint();
    try {
      await this.call.hangup();
    } catch (err) {
      this.logger.warn(
        { call: this.id, callId: this.call.callId, err: String(err), reason },
        'hangup failed',
      );
    }
  }

  async sendMessage(text: string): Promise<void> {
    if (this.stateValue === 'ended') throw new CallStateError(this.id, 'send: the call has ended');
    await this.call.sendMessage(text);
  }

  onEvent(listener: (event: CallEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** An engine event about this leg's endpoint. */
  deliver(event: CallEvent): void {
    if (this.stateValue === 'ended' && event.type !== 'hangup') return;
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (err) {
        this.logger.error(
          { call: this.id, callId: this.call.callId, err: String(err) },
          'call event listener threw',
        );
      }
    }
  }

  /** The far end's media stopped (RTP timeout): the call is dead even if no BYE came. */
  mediaTimeout(): void {
    this.logger.warn({ call: this.id, callId: this.call.callId }, 'no RTP from the far end: ending the call');
    void this.hangup('rtp-timeout');
    this.deliver({ type: 'hangup', reason: 'rtp-timeout' });
  }

  private localMedia() {
    const offered = (this.call as InboundCall).offer?.address;
    // The engine's RTP endpoints are IPv4: an IPv6 offer is refused (488) rather than answered and left silent.
    if (this.info.direction === 'inbound' && offered !== undefined && !isIPv4(offered))
      throw Object.assign(new Error(`media address ${offered} is not IPv4; IPv6 media is not supported`), {
        status: 488,
      });
    const endpoint = this.ensureEndpoint();
    return {
      address: this.rtp.advertise,
      port: endpoint.port,
      ...(this.rtp.codecs ? { codecs: this.rtp.codecs } : {}),
    };
  }

  private endpointPort: number | undefined;

  private ensureEndpoint(): { id: number; port: number } {
    if (this.endpointId !== undefined && this.endpointPort !== undefined)
      return { id: this.endpointId, port: this.endpointPort };
    const created = this.engine.createEndpoint({ latching: this.rtp.latching, rtcpMux: true });
    this.adopt(created.id, created.port);
    return created;
  }

  private adopt(id: number, port?: number): void {
    this.endpointId = id;
    this.endpointPort = port;
    this.onEndpoint(this, id);
  }

  private configure(media: NegotiatedMedia): void {
    if (this.endpointId === undefined) return;
    try {
      this.engine.configureEndpoint(this.endpointId, endpointConfig(media));
    } catch (err) {
      this.logger.error(
        { call: this.id, callId: this.call.callId, err: String(err) },
        'cannot configure media',
      );
    }
  }

  private releaseEndpoint(): void {
    const id = this.endpointId;
    if (id === undefined) return;
    this.endpointId = undefined;
    this.endpointPort = undefined;
    this.onEndpoint(this, undefined);
    try {
      this.engine.destroyEndpoint(id);
    } catch (err) {
      this.logger.warn({ call: this.id, err: String(err) }, 'cannot release media endpoint');
    }
  }
}
