/**
 * SIP input hardening: every byte Parley receives over SIP goes through here before the
 * transaction layer sees it. `parseDatagram` for UDP, one `StreamFramer` per TCP/TLS connection,
 * `makeResponse` + `serialize` to answer a `reject` verdict.
 */
export { INTERNAL_ERROR, parseDatagram } from './datagram.js';
export { DEFAULT_FRAMER_LIMITS, type FramerLimits, StreamFramer } from './framer.js';
export {
  type LooseResponse,
  makeResponse,
  newTag,
  type OutgoingMessage,
  SerializeError,
  serialize,
} from './serialize.js';
export {
  type CSeq,
  isRequest,
  type NameAddr,
  type RejectedRequest,
  type SipHeaders,
  type SipMessage,
  type SipParams,
  type SipRequest,
  type SipResponse,
  type Via,
  type WireVerdict,
} from './types.js';
