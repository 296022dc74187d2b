/** SIP signalling: the server (UAS and UAC), calls, SDP offer/answer. Media-agnostic. */
export { type CallEvents, type EndedBy, MIN_SE, SipCall, SipRequestError } from './call.js';
export { InboundCall, type InboundState } from './inbound.js';
export type { Logger } from './logger.js';
export { type DialOptions, type DialOutcome, type DialTarget, dialTarget, OutboundCall } from './outbound.js';
export {
  type Codec,
  type CodecPref,
  DEFAULT_CODEC_PREFS,
  type Direction,
  type LocalMedia,
  type NegotiatedMedia,
  parseSdp,
  type RemoteMedia,
  SdpError,
  type TelephoneEvent,
} from './sdp.js';
export { type InviteHandler, SipServer, type SipServerOptions } from './server.js';
export type { Protocol, Remote, TlsOptions } from './transport.js';
