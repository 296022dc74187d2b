/** Real and virtual clocks (see `Clock` in ports.ts). */
import type { Clock, TimerId } from './ports.js';

/** Wall time through Node's timers. */
export class RealClock implements Clock {
  private readonly origin = performance.now();
  now(): number {
    return Math.round(performance.now() - this.origin);
  }
  setTimeout(fn: () => void, ms: number): TimerId {
    return setTimeout(fn, Math.max(0, ms));
  }
  clearTimeout(id: TimerId): void {
    clearTimeout(id as ReturnType<typeof setTimeout>);
  }
}

interface VirtualTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * Time that moves only when told to. Timers due at the same instant fire in the
 * order they were set, so runs are deterministic.
 */
export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: VirtualTimer[] = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    const timer = { id: ++this.seq, at: this.t + Math.max(0, Math.round(ms)), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(id: TimerId): void {
    this.timers = this.timers.filter((x) => x.id !== id);
  }

  /** Time of the earliest pending timer, or undefined. */
  nextAt(): number | undefined {
    let best: number | undefined;
    for (const x of this.timers) if (best === undefined || x.at < best) best = x.at;
    return best;
  }

  pending(): number {
    return this.timers.length;
  }

  /**
   * Fires the earliest due timer (at or before `limit`), moving time to it.
   * Returns false when none is due by `limit`.
   */
  fireNext(limit: number): boolean {
    let idx = -1;
    for (let i = 0; i < this.timers.length; i++) {
      const x = this.timers[i]!;
      if (x.at <= limit && (idx < 0 || x.at < this.timers[idx]!.at)) idx = i;
    }
    if (idx < 0) return false;
    const [timer] = this.timers.splice(idx, 1);
    this.t = Math.max(this.t, timer!.at);
    timer!.fn();
    return true;
  }

  /** Moves time forward to `t` without firing anything (timers due earlier must have been fired). */
  setTime(t: number): void {
    if (t > this.t) this.t = t;
  }
}
