/**
 * Canonical JSON: object keys in one fixed order, `undefined` members dropped (in
 * arrays: null, as JSON.stringify does), no whitespace. Two equal values always give
 * the same text, so its SHA-256 names a version.
 *
 * The order is JavaScript's own for a fresh object whose keys were added sorted by
 * UTF-16 code units: integer-like keys ("9", "10") first in numeric order, then the
 * others sorted. A sorted copy handed to the native JSON.stringify is about twice as
 * fast as writing the text key by key, and compiling a large configuration hashes
 * megabytes of machines.
 */
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortedCopy(value)) ?? 'null';
}

/** `value` with every object rebuilt with its keys added in sorted order. */
function sortedCopy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'bigint') throw new TypeError('canonicalJson: bigint is not JSON');
    return value;
  }
  if (Array.isArray(value)) return value.map(sortedCopy);
  const rec = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  // The keys go on a stack shared by every level (no array per object), sorted in place.
  const mark = keyStack.length;
  for (const key in rec) if (Object.hasOwn(rec, key)) keyStack.push(key);
  sortRange(keyStack, mark);
  for (let i = mark; i < keyStack.length; i++) {
    const key = keyStack[i] as string;
    const v = sortedCopy(rec[key]);
    // Assigning `__proto__` would set the prototype and lose the member (JSON data can hold one).
    if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true });
    else out[key] = v;
  }
  keyStack.length = mark;
  return out;
}

const keyStack: string[] = [];

/**
 * `keys[from..]` sorted in place by UTF-16 code units, as `Array.prototype.sort` with no
 * comparator would. Machines are mostly objects of a handful of keys, where V8's sort
 * pays for a work array on every call (about a third of all memory a large compile
 * allocated went there); insertion sort allocates nothing and is quick at that size.
 */
function sortRange(keys: string[], from: number): void {
  if (keys.length - from > 24) {
    const sorted = keys.slice(from).sort();
    for (let i = 0; i < sorted.length; i++) keys[from + i] = sorted[i] as string;
    return;
  }
  for (let i = from + 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= from && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
}

/** SHA-256 of a string (UTF-8), hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** SHA-256 of the canonical JSON of `value`. */
export function versionOf(value: unknown): string {
  return sha256(canonicalJson(value));
}
