/** Compiled regexes by source: routes and conference patterns are matched on every call. */
export class RegexCache {
  private readonly regexes = new Map<string, RegExp>();

  get(source: string): RegExp {
    let re = this.regexes.get(source);
    if (!re) {
      re = new RegExp(source);
      this.regexes.set(source, re);
    }
    return re;
  }
}
