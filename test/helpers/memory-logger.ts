import type { Logger } from '../../src/runtime/ports.js';

export interface LogEntry {
  /** Date.now() when it was logged. */
  at: number;
  /** `debug`, `info`, `warn`, `error`, or what `note` was given. */
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

/**
 * A Logger that keeps what it is told, for tests to read and to print when they fail.
 * Bounded: a flood test logs per request, and the log must not become the leak.
 */
export class MemoryLogger implements Logger {
  readonly entries: LogEntry[] = [];

  /** `debug: false` drops debug lines (one per SIP message and runtime event), which few tests need. */
  constructor(private readonly options: { debug?: boolean } = {}) {}

  debug(obj: object, msg?: string): void {
    if (this.options.debug !== false) this.note('debug', msg ?? '', obj);
  }
  info(obj: object, msg?: string): void {
    this.note('info', msg ?? '', obj);
  }
  warn(obj: object, msg?: string): void {
    this.note('warn', msg ?? '', obj);
  }
  error(obj: object, msg?: string): void {
    this.note('error', msg ?? '', obj);
  }

  /** Adds a line that did not come through the Logger interface (a runtime event, say). */
  note(level: string, msg: string, fields: object = {}): void {
    this.entries.push({ at: Date.now(), level, msg, fields: fields as Record<string, unknown> });
    if (this.entries.length > 20_000) this.entries.splice(0, 10_000);
  }

  /** From user → call id (`c1`) of the latest call from that user, from the server's "incoming call" lines. */
  incomingCalls(): Map<string, string> {
    const out = new Map<string, string>();
    for (const e of this.entries) {
      const { from, call } = e.fields;
      if (e.msg === 'incoming call' && typeof from === 'string' && typeof call === 'string')
        out.set(from.split('@')[0] ?? '', call);
    }
    return out;
  }

  /** The last `lines` entries as text, for a failing test's message. */
  tail(lines = 60): string {
    const text = this.entries
      .slice(-lines)
      .map(
        (e) =>
          `${new Date(e.at).toISOString().slice(11, 23)} ${e.level === 'info' || e.level === 'debug' ? e.level : e.level.toUpperCase()} ${e.msg} ${JSON.stringify(e.fields)}`,
      );
    return `--- parley log ---\n${text.join('\n')}`;
  }
}
