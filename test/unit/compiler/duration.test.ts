import { describe, expect, it } from 'vitest';
import {
  DURATION_PATTERN,
  DurationError,
  isDuration,
  parseDuration,
} from '../../../src/compiler/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['1.5s', 1500],
    ['10s', 10_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['0s', 0],
    ['0.25ms', 0],
    ['1.0005s', 1001],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['10 seconds', '10', 's', '-1s', '1.s', '.5s', '1d', '10S', ' 10s', '10s ', ''])(
    'refuses %j',
    (text) => {
      expect(() => parseDuration(text)).toThrow(DurationError);
      expect(isDuration(text)).toBe(false);
    },
  );

  it('words the error with what was given', () => {
    try {
      parseDuration('10 seconds');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(DurationError);
      expect((err as DurationError).input).toBe('10 seconds');
      expect((err as Error).message).toBe('expected a duration like 500ms, 10s or 2m, got "10 seconds"');
    }
    expect(() => parseDuration(10)).toThrow('got 10');
    expect(() => parseDuration(undefined)).toThrow('got nothing');
  });

  it('refuses durations too long to count in milliseconds', () => {
    expect(() => parseDuration(`${'9'.repeat(20)}h`)).toThrow('too long');
  });

  it('agrees with the schema pattern', () => {
    const re = new RegExp(DURATION_PATTERN);
    for (const t of ['500ms', '1.5s', '2m', '1h', '10 seconds', '1d', '1.s']) {
      expect(re.test(t)).toBe(isDuration(t));
    }
  });
});
