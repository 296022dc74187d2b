/**
 * Every limit that protects Parley's SIP side, in one typed object with documented defaults.
 * Transports read the framing and connection values; the request path reads the rate and dialog
 * values. Change them through `resolveSipLimits({ ... })` (unknown keys are ignored by type,
 * invalid values are refused at start-up).
 */
export interface SipLimits {
  /** Largest message (head + body) on a stream transport; longer ones close the connection. */
  maxMessageBytes: number;
  /** Largest head (start line + headers) on a stream transport. */
  maxHeaderBytes: number;
  /** Most bytes held for one connection between reads. */
  maxBufferedBytes: number;
  /** New transactions per second allowed from one source address (token-bucket refill rate). */
  transactionsPerSecond: number;
  /** Burst of new transactions one source may send at once (bucket size). */
  transactionBurst: number;
  /** New transactions per second from all sources together. */
  globalTransactionsPerSecond: number;
  globalTransactionBurst: number;
  /** Source addresses never rate-limited: trunks and proxies that carry many callers. */
  rateLimitExempt: string[];
  /** Most source addresses whose buckets are remembered (memory bound under spoofed floods). */
  maxTrackedSources: number;
  /** Most concurrent dialogs (calls); a new one beyond that gets 503. */
  maxDialogs: number;
  /**
   * Most concurrent dialogs from one source address (`rateLimitExempt` ones excepted): one
   * misbehaving or hostile phone cannot take every slot of `maxDialogs`.
   */
  maxDialogsPerSource: number;
  /** Retry-After seconds sent with a 503 when the dialog cap is reached. */
  dialogRetryAfterSeconds: number;
  /** Most open TCP connections from one source address. */
  maxConnectionsPerSource: number;
  /** Most open TCP connections in total. */
  maxConnections: number;
  /** A connection that receives nothing for this long is closed (CRLF pings count). */
  idleTimeoutMs: number;
  /** A message must be complete this long after its first byte arrived (slowloris guard). */
  messageTimeoutMs: number;
}

export const DEFAULT_SIP_LIMITS: Readonly<SipLimits> = Object.freeze({
  maxMessageBytes: 64 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxBufferedBytes: 128 * 1024,
  transactionsPerSecond: 20,
  transactionBurst: 40,
  globalTransactionsPerSecond: 500,
  globalTransactionBurst: 1000,
  rateLimitExempt: Object.freeze([]) as unknown as string[],
  maxTrackedSources: 10_000,
  maxDialogs: 1000,
  maxDialogsPerSource: 100,
  dialogRetryAfterSeconds: 30,
  maxConnectionsPerSource: 16,
  maxConnections: 1024,
  idleTimeoutMs: 300_000,
  messageTimeoutMs: 10_000,
});

/** Limits that must be whole numbers (counts and byte sizes); the rest may be fractional rates. */
const INTEGERS: ReadonlyArray<keyof SipLimits> = [
  'maxMessageBytes',
  'maxHeaderBytes',
  'maxBufferedBytes',
  'transactionBurst',
  'globalTransactionBurst',
  'maxTrackedSources',
  'maxDialogs',
  'maxDialogsPerSource',
  'maxConnectionsPerSource',
  'maxConnections',
];

/** Defaults overlaid with `overrides`; throws RangeError naming the first invalid value. */
export function resolveSipLimits(overrides: Partial<SipLimits> = {}): SipLimits {
  const limits: SipLimits = {
    ...DEFAULT_SIP_LIMITS,
    rateLimitExempt: [...DEFAULT_SIP_LIMITS.rateLimitExempt],
  };
  for (const [key, value] of Object.entries(overrides) as Array<[keyof SipLimits, unknown]>) {
    if (value === undefined || !(key in DEFAULT_SIP_LIMITS)) continue;
    if (key === 'rateLimitExempt') {
      if (!Array.isArray(value) || !value.every((a) => typeof a === 'string')) {
        throw new RangeError('SIP limit rateLimitExempt must be a list of addresses');
      }
      limits.rateLimitExempt = [...value];
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`SIP limit ${key} must be a positive number`);
    }
    if (INTEGERS.includes(key) && !Number.isInteger(value)) {
      throw new RangeError(`SIP limit ${key} must be a whole number`);
    }
    (limits as unknown as Record<string, number>)[key] = value;
  }
  if (limits.maxHeaderBytes > limits.maxMessageBytes) {
    throw new RangeError('SIP limit maxHeaderBytes must not exceed maxMessageBytes');
  }
  if (limits.maxBufferedBytes < limits.maxMessageBytes) {
    throw new RangeError('SIP limit maxBufferedBytes must be at least maxMessageBytes');
  }
  return limits;
}

/** Milliseconds on any monotonic scale; injected so tests run on a virtual clock. */
export type Clock = () => number;
