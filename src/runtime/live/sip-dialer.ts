/**
 * Dial-out for the runtime (ports.ts `CallControl`) over the SIP server: each
 * attempt gets its own RTP endpoint for the offer, which becomes the leg's endpoint
 * when the call is answered and is released otherwise. The allowlist has already
 * been applied by the runtime; this is where the call is actually placed.
 */
import type { SipServer } from '../../sip/server.js';
import type { CallControl, DialOutcome, DialRequest, Logger } from '../ports.js';
import type { MediaEngineApi } from './media-api.js';
import { type RtpSettings, SipCallLeg } from './sip-leg.js';

export class SipDialer implements CallControl {
  private next = 1;

  constructor(
    private readonly sip: SipServer,
    private readonly engine: MediaEngineApi,
    private readonly rtp: RtpSettings,
    private readonly logger: Logger,
    private readonly onEndpoint: (leg: SipCallLeg, endpoint: number | undefined) => void,
  ) {}

  async dial(request: DialRequest, signal: AbortSignal): Promise<DialOutcome> {
    let endpoint: { id: number; port: number };
    try {
      endpoint = this.engine.createEndpoint({ latching: this.rtp.latching, rtcpMux: true });
    } catch (err) {
      return {
        status: 'failed',
        reason: `no media port: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    const trunk = request.trunk;
    const outcome = await this.sip.dial({
      uri: request.to,
      ...((request.from ?? trunk?.from) ? { from: request.from ?? trunk?.from } : {}),
      ...(trunk ? { proxy: trunk.proxy } : {}),
      ...(trunk?.username && trunk.password
        ? { auth: { username: trunk.username, password: trunk.password } }
        : {}),
      timeoutMs: request.timeoutMs,
      local: {
        address: this.rtp.advertise,
        port: endpoint.port,
        ...(this.rtp.codecs ? { codecs: this.rtp.codecs } : {}),
      },
      signal,
    });
    if (outcome.status !== 'answered') {
      this.release(endpoint.id);
      this.logger.info(
        { to: request.to, status: outcome.status, reason: outcome.reason },
        'dial-out not answered',
      );
      return { status: outcome.status, reason: outcome.reason };
    }
    const id = `out-${this.next++}`;
    const leg = SipCallLeg.outbound(
      id,
      outcome.call,
      endpoint.id,
      this.engine,
      this.rtp,
      this.logger,
      this.onEndpoint,
      request.to,
    );
    return { status: 'answered', leg };
  }

  private release(endpoint: number): void {
    try {
      this.engine.destroyEndpoint(endpoint);
    } catch (err) {
      this.logger.warn({ endpoint, err: String(err) }, 'cannot release media endpoint');
    }
  }
}
