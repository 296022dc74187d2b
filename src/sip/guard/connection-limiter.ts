/**
 * Caps on TCP connections (per source address and in total) and the two per-connection clocks:
 * idle (nothing received for idleTimeoutMs) and slow sender (a message still incomplete
 * messageTimeoutMs after its first byte: the slowloris attack, which a byte-count limit alone
 * cannot stop). Pure: the transport calls in and acts on the answers.
 */
import type { Clock, SipLimits } from './limits.js';
import { SourceCounts } from './source-counts.js';

export type ConnectionVerdict = { kind: 'allow' } | { kind: 'refuse'; reason: 'source' | 'total' };

export class ConnectionLimiter {
  private readonly perSource = new SourceCounts();
  private total = 0;

  constructor(private readonly limits: Pick<SipLimits, 'maxConnectionsPerSource' | 'maxConnections'>) {}

  get count(): number {
    return this.total;
  }

  countFrom(address: string): number {
    return this.perSource.of(address);
  }

  /** Counts a new connection from `address`, or refuses it (the transport then destroys the socket). */
  accept(address: string): ConnectionVerdict {
    if (this.total >= this.limits.maxConnections) return { kind: 'refuse', reason: 'total' };
    if (this.perSource.of(address) >= this.limits.maxConnectionsPerSource)
      return { kind: 'refuse', reason: 'source' };
    this.perSource.add(address);
    this.total++;
    return { kind: 'allow' };
  }

  /** Call once per accepted connection when it closes. */
  release(address: string): void {
    if (this.perSource.of(address) === 0) return;
    this.perSource.remove(address);
    this.total--;
  }
}

export type ConnectionTimeout = 'idle' | 'slow';

/** The idle and slow-sender deadlines of one connection. */
export class ConnectionClock {
  private lastReceive: number;
  private messageStart: number | undefined;

  constructor(
    private readonly limits: Pick<SipLimits, 'idleTimeoutMs' | 'messageTimeoutMs'>,
    private readonly now: Clock,
  ) {
    this.lastReceive = now();
  }

  /**
   * After each chunk went through the StreamFramer: `partial` is framer.partial, `completed` how
   * many verdicts that push returned. A new incomplete message starts its own clock.
   */
  received(partial: boolean, completed: number): void {
    const now = this.now();
    this.lastReceive = now;
    if (!partial) this.messageStart = undefined;
    else if (this.messageStart === undefined || completed > 0) this.messageStart = now;
  }

  /** Which deadline has passed, if any ('slow' wins: it is the attack). */
  expired(): ConnectionTimeout | undefined {
    const now = this.now();
    if (this.messageStart !== undefined && now - this.messageStart >= this.limits.messageTimeoutMs)
      return 'slow';
    if (now - this.lastReceive >= this.limits.idleTimeoutMs) return 'idle';
    return undefined;
  }

  /** When expired() may next change: arm one timer for this instant. */
  nextDeadline(): number {
    const idle = this.lastReceive + this.limits.idleTimeoutMs;
    return this.messageStart === undefined
      ? idle
      : Math.min(idle, this.messageStart + this.limits.messageTimeoutMs);
  }
}
