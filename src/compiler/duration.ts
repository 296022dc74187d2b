/**
 * Durations as the language writes them: a number and a unit, `500ms`, `10s`, `1.5m`, `2h`.
 */

export const DURATION_PATTERN = '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION_RE = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/;

export class DurationError extends Error {
  override readonly name = 'DurationError';
  constructor(
    /** What was given. */
    readonly input: unknown,
    message: string,
  ) {
    super(message);
  }
}

/** Whether `text` is a well-formed duration. */
export function isDuration(text: unknown): text is string {
  return typeof text === 'string' && DURATION_RE.test(text);
}

/**
 * Milliseconds in `text`, rounded to the nearest whole millisecond.
 * Throws DurationError on anything that is not a well-formed duration.
 */
export function parseDuration(text: unknown): number {
  if (typeof text !== 'string') {
    throw new DurationError(text, `expected a duration like 500ms, 10s or 2m, got ${describe(text)}`);
  }
  const m = DURATION_RE.exec(text);
  if (!m) {
    throw new DurationError(text, `expected a duration like 500ms, 10s or 2m, got ${JSON.stringify(text)}`);
  }
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
  if (!Number.isSafeInteger(ms)) {
    throw new DurationError(text, `duration ${JSON.stringify(text)} is too long`);
  }
  return ms;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return typeof v;
}
