/**
 * DTMF collection: prompt, digits, minimum, end key, inter-digit timeout, tries.
 * Typing during the prompt stops it (barge-in) and counts as input.
 */
import type { ActionParams } from '../../compiler/ir.js';
import type { Clock, TimerId } from '../ports.js';

export type CollectParams = ActionParams['collect'];

export type CollectResult =
  | { kind: 'collected'; digits: string; tries: number }
  | { kind: 'exhausted'; tries: number }
  | { kind: 'cancelled' };

/** Plays the collect prompt; resolves when it ends or `signal` aborts it. */
export type PromptFn = (signal: AbortSignal) => Promise<void>;

export class Collector {
  private entry = '';
  private timer: TimerId | undefined;
  private finishEntry: (() => void) | undefined;
  private promptAbort: AbortController | undefined;
  private typed = false;

  constructor(
    private readonly params: CollectParams,
    private readonly clock: Clock,
    private readonly prompt: PromptFn | undefined,
    /** Called when a try starts and when an entry is complete, for observers. */
    private readonly onTry: (attempt: number) => void = () => {},
  ) {}

  /** Feeds one key pressed by the caller. */
  feed(digit: string): void {
    if (!this.finishEntry) return;
    this.typed = true;
    this.promptAbort?.abort();
    if (this.params.end !== undefined && digit === this.params.end) {
      this.finishEntry();
      return;
    }
    this.entry += digit;
    if (this.entry.length >= this.params.digits) {
      this.finishEntry();
      return;
    }
    this.armTimer();
  }

  async run(signal: AbortSignal): Promise<CollectResult> {
    const tries = Math.max(1, this.params.tries);
    for (let attempt = 1; attempt <= tries; attempt++) {
      if (signal.aborted) return { kind: 'cancelled' };
      this.onTry(attempt);
      const digits = await this.oneEntry(signal);
      if (signal.aborted) return { kind: 'cancelled' };
      if (digits.length >= Math.max(1, this.params.min)) return { kind: 'collected', digits, tries: attempt };
    }
    return { kind: 'exhausted', tries };
  }

  private oneEntry(signal: AbortSignal): Promise<string> {
    this.entry = '';
    this.typed = false;
    return new Promise<string>((resolve) => {
      const done = () => {
        this.clearTimer();
        this.finishEntry = undefined;
        this.promptAbort?.abort();
        this.promptAbort = undefined;
        signal.removeEventListener('abort', done);
        resolve(this.entry);
      };
      this.finishEntry = done;
      signal.addEventListener('abort', done, { once: true });
      if (!this.prompt) {
        this.armTimer();
        return;
      }
      const ctl = new AbortController();
      this.promptAbort = ctl;
      // The entry timeout starts when the prompt has ended (or was interrupted by a key).
      this.prompt(ctl.signal)
        .catch(() => undefined)
        .then(() => {
          if (this.finishEntry === done && !this.typed) this.armTimer();
        });
    });
  }

  private armTimer(): void {
    this.clearTimer();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.finishEntry?.();
    }, this.params.timeoutMs);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
