// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the language's own `${...}` placeholders are the subject of these tests
import { describe, expect, it } from 'vitest';
import {
  ExpressionError,
  evaluateExpression,
  isTemplate,
  isTruthy,
  memberReferences,
  parseExpression,
  parseTemplate,
  renderTemplate,
} from '../../../src/compiler/expr.js';

describe('parseExpression', () => {
  it('lists free root identifiers, sorted and unique', () => {
    expect(parseExpression('digits == conference.vars.pin && visits < 3 && digits != ""')).toEqual({
      ok: true,
      identifiers: ['conference', 'digits', 'visits'],
    });
  });

  it('does not count macro-bound variables or method names', () => {
    const r = parseExpression(
      'vars.list.exists(x, x == call.from) && has(route.room) && call.to.startsWith(p)',
    );
    expect(r).toEqual({ ok: true, identifiers: ['call', 'p', 'route', 'vars'] });
    expect(parseExpression('cel.bind(t, a + 1, t * b)')).toEqual({ ok: true, identifiers: ['a', 'b'] });
    expect(parseExpression('m.all(k, v, v > k + z)')).toEqual({ ok: true, identifiers: ['m', 'z'] });
    expect(parseExpression('l.map(x, x > y, x * 2)')).toEqual({ ok: true, identifiers: ['l', 'y'] });
  });

  it('reports syntax errors with an offset', () => {
    const r = parseExpression('visits <');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.offset).toBe(8);
    expect(parseExpression('  ')).toMatchObject({ ok: false, message: 'empty expression' });
  });
});

describe('memberReferences', () => {
  it('lists root.field selections on free identifiers only', () => {
    expect(memberReferences('vars.count < 3 && conference.vars.pin == digits && l.exists(x, x.y)')).toEqual([
      'conference.vars',
      'vars.count',
    ]);
    expect(memberReferences('1 +')).toEqual([]);
  });
});

describe('parseTemplate', () => {
  it('splits text and placeholders', () => {
    const r = parseTemplate('room-${room} for ${call.from}!');
    expect(r).toEqual({
      ok: true,
      parts: [
        { kind: 'text', text: 'room-' },
        { kind: 'expr', expr: 'room', offset: 7 },
        { kind: 'text', text: ' for ' },
        { kind: 'expr', expr: 'call.from', offset: 19 },
        { kind: 'text', text: '!' },
      ],
      identifiers: ['call', 'room'],
    });
  });

  it('skips braces inside strings and map literals', () => {
    const r = parseTemplate('${ {"a}": x}["a}"] }');
    expect(r).toMatchObject({ ok: true, identifiers: ['x'] });
  });

  it('treats $${ as a literal', () => {
    expect(parseTemplate('cost: $${x}')).toEqual({
      ok: true,
      parts: [{ kind: 'text', text: 'cost: ${x}' }],
      identifiers: [],
    });
    expect(isTemplate('cost: $${x}')).toBe(false);
    expect(isTemplate('a ${b}')).toBe(true);
  });

  it('keeps lone dollars and runs of them as text', () => {
    expect(parseTemplate('$5 or $$6, $')).toEqual({
      ok: true,
      parts: [{ kind: 'text', text: '$5 or $$6, $' }],
      identifiers: [],
    });
    expect(parseTemplate('$$${x}$${y}$')).toEqual({
      ok: true,
      parts: [{ kind: 'text', text: '$${x}${y}$' }],
      identifiers: [],
    });
    expect(parseTemplate('a$${b}$${c}d')).toMatchObject({ parts: [{ kind: 'text', text: 'a${b}${c}d' }] });
  });

  it('reports the offset of an error inside the template', () => {
    expect(parseTemplate('hello ${a +}')).toMatchObject({ ok: false, offset: 11 });
    expect(parseTemplate('hello ${a')).toMatchObject({ ok: false, offset: 6 });
  });
});

describe('evaluateExpression', () => {
  it('treats integral JS numbers as CEL ints and returns JS numbers', () => {
    expect(evaluateExpression('vars.n + 1', { vars: { n: 2 } })).toBe(3);
    expect(evaluateExpression('visits < 3', { visits: 3 })).toBe(false);
    expect(evaluateExpression('x * 2.0', { x: 1.5 })).toBe(3);
    expect(evaluateExpression('[a, 2]', { a: 1 })).toEqual([1, 2]);
    expect(evaluateExpression('x', { x: 2 ** 60 })).toBe(2 ** 60);
    expect(evaluateExpression('{"k": v}', { v: 'x' })).toEqual({ k: 'x' });
  });

  it('compares strings', () => {
    expect(
      evaluateExpression('digits == conference.vars.pin', {
        digits: '1234',
        conference: { vars: { pin: '1234' } },
      }),
    ).toBe(true);
  });

  it('throws ExpressionError on unknown variables and bad syntax', () => {
    expect(() => evaluateExpression('nope + 1', {})).toThrow(ExpressionError);
    try {
      evaluateExpression('1 +', {});
    } catch (err) {
      expect(err).toBeInstanceOf(ExpressionError);
      expect((err as ExpressionError).phase).toBe('parse');
    }
  });
});

describe('renderTemplate', () => {
  it('renders values', () => {
    const scope = { call: { from: 'alice' }, n: 3, ok: true, none: null, l: ['a'] };
    expect(renderTemplate('${call.from} has ${n} (${ok}) [${none}] ${l}', scope)).toBe(
      'alice has 3 (true) [] ["a"]',
    );
  });

  it('locates evaluation errors in the template', () => {
    try {
      renderTemplate('hi ${missing}', {});
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ExpressionError);
      expect((err as ExpressionError).offset).toBe(5);
      expect((err as ExpressionError).source).toBe('hi ${missing}');
    }
  });
});

describe('isTruthy', () => {
  it('follows booleans and emptiness', () => {
    expect([true, 1, 'x', [1], { a: 1 }].map(isTruthy)).toEqual([true, true, true, true, true]);
    expect([false, 0, '', [], {}, null, undefined].map(isTruthy)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});
