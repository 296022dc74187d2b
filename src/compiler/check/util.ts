/** Small helpers the checks share: name matching and regex handling. */

/** Anchored regex source for a conference name with `*` wildcards (`room-*` → `^room-.*$`). */
export function globPattern(name: string): string {
  const body = name
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return `^${body}$`;
}

/**
 * Whether some name starting with `prefix` could be served by `glob`: the literal
 * part of the glob before its first `*` and the prefix must agree where both exist.
 */
export function globAcceptsPrefix(glob: string, prefix: string): boolean {
  const star = glob.indexOf('*');
  const literal = star < 0 ? glob : glob.slice(0, star);
  if (star < 0) return glob.startsWith(prefix);
  return literal.startsWith(prefix) || prefix.startsWith(literal);
}

/** Compiles a regex source, or returns the engine's message. */
export function compileRegex(source: string): RegExp | string {
  try {
    return new RegExp(source);
  } catch (err) {
    return err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : String(err);
  }
}

/** Named capture groups a regex source defines. */
export function namedGroups(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)) if (m[1]) out.push(m[1]);
  return out;
}

/** Regexes that match any string: a route condition written with one restricts nothing. */
export function isCatchAll(source: string): boolean {
  return ['', '.*', '^.*', '.*$', '^.*$', '^', '$'].includes(source);
}

/** Text before the first `${` of a template (the whole text if it has none). */
export function literalPrefix(template: string): string {
  const i = template.indexOf('${');
  return i < 0 ? template : template.slice(0, i);
}

/** `, did you mean "x"?` or the empty string. */
export function meanSuffix(suggestion: string | undefined): string {
  return suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
}
