/**
 * SIP resource limits: one SipLimits config, and pure limiters on an injected clock that the
 * transports and the dialog layer consult (rate of new transactions, concurrent dialogs, TCP
 * connections, idle and slow-sender timeouts).
 */
export {
  ConnectionClock,
  ConnectionLimiter,
  type ConnectionTimeout,
  type ConnectionVerdict,
} from './connection-limiter.js';
export { DialogLimiter, type DialogVerdict } from './dialog-limiter.js';
export { type Clock, DEFAULT_SIP_LIMITS, resolveSipLimits, type SipLimits } from './limits.js';
export {
  type RateLimits,
  type RateVerdict,
  startsTransaction,
  TransactionRateLimiter,
} from './rate-limiter.js';
export { TokenBucket } from './token-bucket.js';

import type { FramerLimits } from '../wire/framer.js';
import type { SipLimits } from './limits.js';

/** The framing part of SipLimits, for `new StreamFramer(framerLimits(limits))`. */
export function framerLimits(limits: SipLimits): FramerLimits {
  return {
    maxMessageBytes: limits.maxMessageBytes,
    maxHeaderBytes: limits.maxHeaderBytes,
    maxBufferedBytes: limits.maxBufferedBytes,
  };
}
