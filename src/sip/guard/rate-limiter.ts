/**
 * Per-source and global rate limits on new SIP transactions. A request that starts a transaction
 * costs one token from its source's bucket and one from the global bucket; when either is empty the
 * request gets 503 Service Unavailable with Retry-After (RFC 3261 §21.5.4), before any dialog,
 * routing or media work is done for it.
 */
import type { SipRequest } from '../wire/types.js';
import type { Clock, SipLimits } from './limits.js';
import { TokenBucket } from './token-bucket.js';

export type RateVerdict =
  | { kind: 'allow' }
  | {
      kind: 'reject';
      status: 503;
      reason: 'Service Unavailable';
      /** Seconds for the Retry-After header. */
      retryAfter: number;
      scope: 'source' | 'global';
    };

export type RateLimits = Pick<
  SipLimits,
  | 'transactionsPerSecond'
  | 'transactionBurst'
  | 'globalTransactionsPerSecond'
  | 'globalTransactionBurst'
  | 'rateLimitExempt'
  | 'maxTrackedSources'
>;

/**
 * Requests that create server work: everything outside a dialog (no To tag) except ACK and
 * CANCEL, which belong to an existing INVITE transaction.
 */
export function startsTransaction(request: Pick<SipRequest, 'method' | 'headers'>): boolean {
  if (request.method === 'ACK' || request.method === 'CANCEL') return false;
  const tag = request.headers.to?.params?.tag;
  return tag === undefined || tag === null;
}

export class TransactionRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly global: TokenBucket;
  private readonly exempt: Set<string>;
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly limits: RateLimits,
    private readonly now: Clock,
  ) {
    this.global = new TokenBucket(limits.globalTransactionsPerSecond, limits.globalTransactionBurst, now());
    this.exempt = new Set(limits.rateLimitExempt);
  }

  /** How many sources are remembered now (bounded by maxTrackedSources). */
  get trackedSources(): number {
    return this.buckets.size;
  }

  /** Takes a token for one new transaction from `source` (an IP address), or says why not. */
  admit(source: string): RateVerdict {
    if (this.exempt.has(source)) return { kind: 'allow' };
    const now = this.now();
    const bucket = this.bucketFor(source, now);
    if (!bucket.available(now)) {
      return {
        kind: 'reject',
        status: 503,
        reason: 'Service Unavailable',
        retryAfter: bucket.secondsUntilToken(now),
        scope: 'source',
      };
    }
    if (!this.global.take(now)) {
      return {
        kind: 'reject',
        status: 503,
        reason: 'Service Unavailable',
        retryAfter: this.global.secondsUntilToken(now),
        scope: 'global',
      };
    }
    bucket.take(now);
    return { kind: 'allow' };
  }

  private bucketFor(source: string, now: number): TokenBucket {
    const known = this.buckets.get(source);
    if (known) return known;
    if (this.buckets.size >= this.limits.maxTrackedSources) this.evict(now);
    const bucket = new TokenBucket(this.limits.transactionsPerSecond, this.limits.transactionBurst, now);
    this.buckets.set(source, bucket);
    return bucket;
  }

  /**
   * Makes room for one more source: forget full buckets (at most one sweep per second, so a flood
   * of new addresses does not make every request O(n)), else the oldest remembered source.
   */
  private evict(now: number): void {
    if (now - this.lastSweep >= 1000) {
      this.lastSweep = now;
      for (const [source, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(source);
    }
    while (this.buckets.size >= this.limits.maxTrackedSources) {
      const oldest = this.buckets.keys().next();
      if (oldest.done) break;
      this.buckets.delete(oldest.value);
    }
  }
}
