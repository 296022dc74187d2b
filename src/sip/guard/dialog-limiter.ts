/**
 * A global cap on concurrent dialogs. The dialog layer reports each dialog it creates and ends;
 * reports are idempotent per id, so a duplicate BYE or a retransmitted 200 cannot skew the count.
 */
import type { SipLimits } from './limits.js';

export type DialogVerdict =
  | { kind: 'allow' }
  | { kind: 'reject'; status: 503; reason: 'Service Unavailable'; retryAfter: number };

export class DialogLimiter {
  private readonly open = new Set<string>();

  constructor(private readonly limits: Pick<SipLimits, 'maxDialogs' | 'dialogRetryAfterSeconds'>) {}

  get count(): number {
    return this.open.size;
  }

  /** Whether one more dialog fits now (ask before doing any work for a new INVITE). */
  check(): DialogVerdict {
    if (this.open.size < this.limits.maxDialogs) return { kind: 'allow' };
    return {
      kind: 'reject',
      status: 503,
      reason: 'Service Unavailable',
      retryAfter: this.limits.dialogRetryAfterSeconds,
    };
  }

  /** Counts dialog `id` as open; false (and not counted) when the cap is reached. */
  opened(id: string): boolean {
    if (this.open.has(id)) return true;
    if (this.open.size >= this.limits.maxDialogs) return false;
    this.open.add(id);
    return true;
  }

  closed(id: string): void {
    this.open.delete(id);
  }
}
