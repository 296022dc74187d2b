/**
 * PIN lockout (`limits.pinFailures`, `limits.lockout`): failed access-code entries
 * are counted per conference document and source address; at the limit, further
 * calls from that address are refused until the lockout has passed.
 *
 * Failed entries are the DTMF entries (`collected`) of a call that ended without
 * joining. A call from the address that joins clears its count.
 */
export const DEFAULT_LOCKOUT_MS = 15 * 60_000;

interface Entry {
  failures: number;
  lockedUntil: number | undefined;
}

export class PinLockout {
  private readonly entries = new Map<string, Entry>();

  /** Whether calls from `source` to `conference` are refused at `now`. */
  locked(conference: string, source: string, now: number): boolean {
    const e = this.entries.get(`${conference}\n${source}`);
    if (!e?.lockedUntil) return false;
    if (now < e.lockedUntil) return true;
    this.entries.delete(`${conference}\n${source}`);
    return false;
  }

  /** Records how one call went; returns true when this locks the address out. */
  record(
    conference: string,
    source: string,
    result: { joined: boolean; entries: number },
    limit: number,
    lockoutMs: number,
    now: number,
  ): boolean {
    const key = `${conference}\n${source}`;
    if (result.joined) {
      this.entries.delete(key);
      return false;
    }
    if (result.entries === 0) return false;
    const e = this.entries.get(key) ?? { failures: 0, lockedUntil: undefined };
    e.failures += result.entries;
    if (e.failures >= limit) {
      e.failures = 0;
      e.lockedUntil = now + lockoutMs;
    }
    this.entries.set(key, e);
    return e.lockedUntil !== undefined && now < e.lockedUntil;
  }
}
