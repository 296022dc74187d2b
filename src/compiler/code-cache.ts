/**
 * Loading a CommonJS module through V8's code cache. The precompiled schema validator
 * is 570 KB of generated code: compiling it, and the functions a first validation calls,
 * cost about 25 ms of every `parley validate`, a tenth of a small run. The install step
 * (scripts/build-validator.mjs) runs the module once and writes V8's cache of everything
 * compiled beside it; here V8 takes the bytecode from that cache instead of compiling.
 *
 * V8 refuses a cache made by another V8 version or with other flags, or one that does
 * not match the source; the module is then compiled as usual. The wrapper must stay
 * byte for byte that of the build script (`test/unit/compiler/code-cache.test.ts`).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/** The module text as V8 compiles it: Node's own CommonJS wrapper. */
function wrapCommonJs(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}

export interface CachedModule {
  exports: unknown;
  /** Whether V8 used the cache (false: there was none, or V8 refused it). */
  cacheUsed: boolean;
}

/** Loads `file` (CommonJS), with the code cache in `cacheFile` when there is one. */
export function loadCommonJs(file: string, cacheFile: string): CachedModule {
  const source = readFileSync(file, 'utf8');
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(wrapCommonJs(source), { filename: file, cachedData });
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: { exports: unknown },
    filename: string,
    dirname: string,
  ) => void;
  const module = { exports: {} as unknown };
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  return {
    exports: module.exports,
    cacheUsed: cachedData !== undefined && script.cachedDataRejected === false,
  };
}
