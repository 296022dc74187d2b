import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256, sortedKeys, versionOf } from '../../../src/compiler/canonical.js';

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[3,{"z":1}]},"b":1}',
    );
    expect(canonicalJson([undefined, null, 'é"\n'])).toBe('[null,null,"é\\"\\n"]');
    // Integer-like keys (xstate's `after` delays) first, in numeric order, whatever order they came in.
    expect(canonicalJson({ b: 3, '10': 1, '9': 2, a: 0 })).toBe('{"9":2,"10":1,"a":0,"b":3}');
    expect(canonicalJson(undefined)).toBe('null');
    // A member named __proto__ is data like any other (JSON.parse makes it an own property).
    expect(canonicalJson(JSON.parse('{"b":2,"__proto__":{"x":1}}'))).toBe('{"__proto__":{"x":1},"b":2}');
    expect(() => canonicalJson({ n: 1n })).toThrow(/bigint/);
  });

  it('gives the same text for equal values regardless of key order, and parses back', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = canonicalJson(v);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)));
        const reordered = JSON.parse(JSON.stringify(v), (_k, x: unknown) =>
          x && typeof x === 'object' && !Array.isArray(x)
            ? Object.fromEntries(Object.entries(x).reverse())
            : x,
        );
        expect(canonicalJson(reordered)).toBe(text);
      }),
    );
  });

  it('orders keys as a sort by UTF-16 code units would, for small and large objects alike', () => {
    const key = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 4 }),
      fc.constantFrom('a', 'A', 'é', '😀', '\uffff', '9', '10'),
    );
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 40 }), (keys) => {
        const value = Object.fromEntries(keys.map((k, i) => [k, i]));
        const expected = Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((k) => [k, value[k]]),
        );
        expect(canonicalJson(value)).toBe(JSON.stringify(expected));
      }),
    );
  });

  it('takes objects already in canonical form as they are, and only those', () => {
    const sorted = sortedKeys({ b: 2, a: { d: 1, c: undefined }, __proto__x: 0 });
    expect(Object.keys(sorted)).toEqual(['__proto__x', 'a', 'b']);
    expect(sortedKeys({ z: 1, y: undefined, '10': 3, '9': 4 })).toEqual({ z: 1, '9': 4, '10': 3 });
    const proto = sortedKeys(JSON.parse('{"b":1,"__proto__":{"x":1}}') as object);
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(canonicalJson(proto)).toBe('{"__proto__":{"x":1},"b":1}');
    // Only plain objects pass as they are: another class's toJSON is not called.
    expect(canonicalJson({ at: new Date(0), list: [new Map([[1, 2]])] })).toBe('{"at":{},"list":[{}]}');
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const built = JSON.parse(JSON.stringify(v), (_k, x: unknown) =>
          x && typeof x === 'object' && !Array.isArray(x) ? sortedKeys(x) : x,
        );
        expect(canonicalJson(built)).toBe(canonicalJson(v));
      }),
    );
  });

  it('versions a value by the hash of its canonical text', () => {
    expect(versionOf({ x: { b: 2, a: 1 } })).toBe(sha256('{"x":{"a":1,"b":2}}'));
  });
});
