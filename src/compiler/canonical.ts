/**
 * Canonical JSON: object keys in one fixed order, `undefined` members dropped (in
 * arrays: null, as JSON.stringify does), no whitespace. Two equal values always give
 * the same text, so its SHA-256 names a version.
 *
 * The order is JavaScript's own for a fresh object whose keys were added sorted by
 * UTF-16 code units: integer-like keys ("9", "10") first in numeric order, then the
 * others sorted. The value is handed to the native JSON.stringify in that form, which
 * is about twice as fast as writing the text key by key: compiling a large
 * configuration hashes megabytes of machines. Objects already in that form (the
 * compiler builds machines so: `sortedKeys`) are used as they are, and only the others
 * are copied.
 */
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalForm(value)) ?? 'null';
}

/**
 * `value` with every object in canonical form: itself when it already is, else a copy
 * with its keys added in sorted order and its `undefined` members dropped.
 */
function canonicalForm(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'bigint') throw new TypeError('canonicalJson: bigint is not JSON');
    return value;
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const form = canonicalForm(item);
      if (copy === undefined && form !== item) copy = value.slice(0, i);
      if (copy !== undefined) copy.push(form);
    }
    return copy ?? value;
  }
  const rec = value as Record<string, unknown>;
  // Only plain objects pass as they are: JSON.stringify would call another class's toJSON.
  const proto: unknown = Object.getPrototypeOf(rec);
  let asIs = proto === Object.prototype || proto === null;
  // Keys and their values' forms go on stacks shared by every level: no arrays per object.
  const mark = keyStack.length;
  for (const key in rec) {
    if (!Object.hasOwn(rec, key)) continue;
    const member = rec[key];
    const form = canonicalForm(member);
    if (form === undefined || form !== member) asIs = false;
    else if (keyStack.length > mark && (keyStack[keyStack.length - 1] as string) > key) asIs = false;
    keyStack.push(key);
    formStack.push(form);
  }
  if (asIs) {
    keyStack.length = mark;
    formStack.length = mark;
    return rec;
  }
  return objectFromStacks(mark);
}

const keyStack: string[] = [];
const formStack: unknown[] = [];

/**
 * A new object of the keys and values on the stacks from `mark`, added in sorted key
 * order, `undefined` values left out; the stacks go back to `mark`.
 */
function objectFromStacks(mark: number): Record<string, unknown> {
  sortRange(keyStack, formStack, mark);
  const out: Record<string, unknown> = {};
  for (let i = mark; i < keyStack.length; i++) {
    const key = keyStack[i] as string;
    const value = formStack[i];
    if (value === undefined) continue;
    // Assigning `__proto__` would set the prototype and lose the member (JSON data can hold one).
    if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true });
    else out[key] = value;
  }
  keyStack.length = mark;
  formStack.length = mark;
  return out;
}

/**
 * `keys[from..]` sorted in place by UTF-16 code units, as `Array.prototype.sort` with no
 * comparator would, `values[from..]` moved along. Objects here mostly have a handful of
 * keys, where V8's sort pays for a work array on every call; insertion sort allocates
 * nothing and is quick at that size.
 */
function sortRange(keys: string[], values: unknown[], from: number): void {
  if (keys.length - from > 24) {
    const order = keys
      .slice(from)
      .map((key, i) => ({ key, value: values[from + i] }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (let i = 0; i < order.length; i++) {
      keys[from + i] = (order[i] as { key: string }).key;
      values[from + i] = (order[i] as { value: unknown }).value;
    }
    return;
  }
  for (let i = from + 1; i < keys.length; i++) {
    const key = keys[i] as string;
    const value = values[i];
    let j = i - 1;
    while (j >= from && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      values[j + 1] = values[j];
      j--;
    }
    keys[j + 1] = key;
    values[j + 1] = value;
  }
}

/**
 * A copy of `o` with its keys added in sorted order and its `undefined` members left
 * out: the form canonicalJson uses as it is. For objects built to be hashed.
 */
export function sortedKeys<T extends object>(o: T): T {
  const rec = o as Record<string, unknown>;
  const mark = keyStack.length;
  for (const key in rec) {
    if (!Object.hasOwn(rec, key)) continue;
    keyStack.push(key);
    formStack.push(rec[key]);
  }
  return objectFromStacks(mark) as T;
}

/** SHA-256 of a string (UTF-8), hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** SHA-256 of the canonical JSON of `value`. */
export function versionOf(value: unknown): string {
  return sha256(canonicalJson(value));
}
