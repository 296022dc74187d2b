import { describe, expect, it } from 'vitest';
import { editDistance, suggest } from '../../../src/compiler/suggest.js';

const ACTIONS = [
  'answer',
  'reject',
  'hangup',
  'say',
  'play',
  'stop',
  'collect',
  'join',
  'leave',
  'mute',
  'unmute',
];

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['say', 'say', 0],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
    ['sya', 'say', 1],
    ['ab', 'ba', 1],
    ['colect', 'collect', 1],
  ])('%j ↔ %j = %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('suggest', () => {
  it('finds plausible typos', () => {
    expect(suggest('sya', ACTIONS)).toBe('say');
    expect(suggest('colect', ACTIONS)).toBe('collect');
    expect(suggest('jion', ACTIONS)).toBe('join');
    expect(suggest('Hangup', ACTIONS)).toBe('hangup');
    expect(suggest('conferene', ['routes', 'conference', 'scenario', 'test'])).toBe('conference');
  });

  it('stays quiet when nothing is close', () => {
    expect(suggest('xyz', ACTIONS)).toBeUndefined();
    expect(suggest('banana', ACTIONS)).toBeUndefined();
    expect(suggest('say', [])).toBeUndefined();
  });

  it('never suggests the word itself', () => {
    expect(suggest('say', ['say'])).toBeUndefined();
  });

  it('prefers the closest, then the first listed', () => {
    expect(suggest('mure', ['mute', 'more'])).toBe('mute');
    expect(suggest('stap', ACTIONS)).toBe('stop');
  });
});
