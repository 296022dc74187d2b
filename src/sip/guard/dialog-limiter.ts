/**
 * Caps on concurrent dialogs: in total, and per source address (trusted trunks excepted, as
 * they carry many callers). The dialog layer reports each dialog it creates and ends; reports
 * are idempotent per id, so a duplicate BYE or a retransmitted 200 cannot skew the counts.
 */
import type { SipLimits } from './limits.js';
import { SourceCounts } from './source-counts.js';

export type DialogVerdict =
  | { kind: 'allow' }
  | {
      kind: 'reject';
      status: 503;
      reason: 'Service Unavailable';
      retryAfter: number;
      /** Which cap: all dialogs, or those of this source. */
      cap: 'total' | 'source';
    };

type DialogLimits = Pick<
  SipLimits,
  'maxDialogs' | 'maxDialogsPerSource' | 'dialogRetryAfterSeconds' | 'rateLimitExempt'
>;

export class DialogLimiter {
  /** Open dialog id → its source address. */
  private readonly open = new Map<string, string>();
  private readonly perSource = new SourceCounts();
  private readonly exempt: ReadonlySet<string>;

  constructor(private readonly limits: DialogLimits) {
    this.exempt = new Set(limits.rateLimitExempt);
  }

  get count(): number {
    return this.open.size;
  }

  countFrom(source: string): number {
    return this.perSource.of(source);
  }

  /** Whether one more dialog from `source` fits now (ask before doing any work for a new INVITE). */
  check(source: string): DialogVerdict {
    const cap = this.full(source);
    if (!cap) return { kind: 'allow' };
    return {
      kind: 'reject',
      status: 503,
      reason: 'Service Unavailable',
      retryAfter: this.limits.dialogRetryAfterSeconds,
      cap,
    };
  }

  /** Counts dialog `id` from `source` as open; false (and not counted) when a cap is reached. */
  opened(id: string, source: string): boolean {
    if (this.open.has(id)) return true;
    if (this.full(source)) return false;
    this.open.set(id, source);
    this.perSource.add(source);
    return true;
  }

  closed(id: string): void {
    const source = this.open.get(id);
    if (source === undefined) return;
    this.open.delete(id);
    this.perSource.remove(source);
  }

  private full(source: string): 'total' | 'source' | undefined {
    if (this.open.size >= this.limits.maxDialogs) return 'total';
    if (!this.exempt.has(source) && this.countFrom(source) >= this.limits.maxDialogsPerSource)
      return 'source';
    return undefined;
  }
}
