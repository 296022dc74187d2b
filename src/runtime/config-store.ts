/**
 * ConfigStore: the versions of the configuration a server has served. Every
 * accepted set is a version; a reload validates and compiles the whole folder
 * again and either swaps in the new set (through `onSwap`, atomically: one
 * assignment in the runtime) or refuses it whole, keeping the old one serving
 * and remembering why (errors at file:line:col) for the API.
 *
 * Reloads come from a file watcher (chokidar, debounced), SIGHUP and the API;
 * they are serialised so two triggers never compile at the same time.
 */
import { type FSWatcher, watch } from 'chokidar';
import { type CompileResult, compilePaths, type Diagnostic } from '../compiler/index.js';
import type { CompiledSet } from '../compiler/ir.js';
import type { Logger } from './ports.js';

export type ReloadTrigger = 'start' | 'watch' | 'signal' | 'api';

export interface ConfigVersion {
  version: string;
  loadedAt: Date;
  trigger: ReloadTrigger;
  files: Array<{ file: string; sha256: string }>;
  set: CompiledSet;
}

export interface RefusedConfig {
  at: Date;
  trigger: ReloadTrigger;
  /** Errors only (warnings do not refuse a set), sorted by file, line, column. */
  errors: Diagnostic[];
}

export type ReloadResult =
  | { status: 'reloaded'; version: ConfigVersion; previous: string }
  | { status: 'unchanged'; version: ConfigVersion }
  | { status: 'refused'; refused: RefusedConfig; version: ConfigVersion };

export interface ConfigStoreOptions {
  paths: string[];
  root?: string;
  logger: Logger;
  /** Called with the new set before `reload` resolves; must not throw. */
  onSwap?: (next: ConfigVersion, previous: ConfigVersion) => void;
  /** Told of every reload outcome (event stream, metrics). */
  onResult?: (result: ReloadResult) => void;
  /** Stand-in for the compiler (tests). */
  compile?: (paths: string[], root?: string) => CompileResult;
  /** How long the watcher waits for writes to settle. Default 150 ms. */
  debounceMs?: number;
  /** How many accepted versions are remembered. Default 20. */
  keep?: number;
  /** A set already compiled from `paths` (the server's first): adopted instead of compiling again. */
  initial?: CompiledSet;
}

/** Thrown by `ConfigStore.load` when the first configuration is not valid. */
export class InvalidConfigError extends Error {
  constructor(readonly errors: Diagnostic[]) {
    super(
      `the configuration is not valid (${errors.length} error${errors.length === 1 ? '' : 's'}):\n${errors
        .slice(0, 20)
        .map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`)
        .join('\n')}`,
    );
    this.name = 'InvalidConfigError';
  }
}

function defaultCompile(paths: string[], root?: string): CompileResult {
  return compilePaths(paths, root !== undefined ? { root } : {});
}

export class ConfigStore {
  private readonly opts: ConfigStoreOptions;
  private readonly compile: (paths: string[], root?: string) => CompileResult;
  private currentVersion: ConfigVersion;
  private refusedConfig: RefusedConfig | undefined;
  private readonly history: ConfigVersion[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  reloads = { reloaded: 0, unchanged: 0, refused: 0 };

  private constructor(opts: ConfigStoreOptions, first: ConfigVersion) {
    this.opts = opts;
    this.compile = opts.compile ?? defaultCompile;
    this.currentVersion = first;
    this.history.push(first);
  }

  /** Compiles the configuration once; throws `InvalidConfigError` when it is not valid. */
  static load(opts: ConfigStoreOptions): ConfigStore {
    if (opts.initial) return new ConfigStore(opts, versionOf(opts.initial, 'start'));
    const compile = opts.compile ?? defaultCompile;
    const result = compile(opts.paths, opts.root);
    if (!result.set) throw new InvalidConfigError(result.diagnostics.filter((d) => d.severity === 'error'));
    return new ConfigStore(opts, versionOf(result.set, 'start'));
  }

  get current(): ConfigVersion {
    return this.currentVersion;
  }

  /** The last refused set, until a later reload succeeds. */
  get refused(): RefusedConfig | undefined {
    return this.refusedConfig;
  }

  get versions(): readonly ConfigVersion[] {
    return this.history;
  }

  /** Validates and compiles the whole configuration again; swaps it in when valid. */
  reload(trigger: ReloadTrigger): Promise<ReloadResult> {
    const run = this.chain.then(() => this.reloadNow(trigger));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private reloadNow(trigger: ReloadTrigger): ReloadResult {
    let result: CompileResult;
    try {
      result = this.compile(this.opts.paths, this.opts.root);
    } catch (err) {
      // The compiler never throws on bad input; a throw here is a bug, and still must not stop serving.
      result = {
        diagnostics: [
          {
            file: this.opts.paths[0] ?? '.',
            line: 1,
            col: 1,
            severity: 'error',
            code: 'internal',
            message: err instanceof Error ? err.message : String(err),
          },
        ],
        documents: [],
      };
    }
    let out: ReloadResult;
    if (!result.set) {
      const refused: RefusedConfig = {
        at: new Date(),
        trigger,
        errors: result.diagnostics.filter((d) => d.severity === 'error'),
      };
      this.refusedConfig = refused;
      this.reloads.refused++;
      this.opts.logger.error(
        {
          trigger,
          errors: refused.errors.slice(0, 20).map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`),
        },
        'configuration refused: the previous version keeps serving',
      );
      out = { status: 'refused', refused, version: this.currentVersion };
    } else if (result.set.version === this.currentVersion.version) {
      this.refusedConfig = undefined;
      this.reloads.unchanged++;
      out = { status: 'unchanged', version: this.currentVersion };
    } else {
      const previous = this.currentVersion;
      const next = versionOf(result.set, trigger);
      this.currentVersion = next;
      this.refusedConfig = undefined;
      this.history.push(next);
      while (this.history.length > (this.opts.keep ?? 20)) this.history.shift();
      this.reloads.reloaded++;
      try {
        this.opts.onSwap?.(next, previous);
      } catch (err) {
        this.opts.logger.error({ err: String(err) }, 'configuration swap handler threw');
      }
      this.opts.logger.info(
        { trigger, version: next.version, previous: previous.version },
        'configuration reloaded',
      );
      out = { status: 'reloaded', version: next, previous: previous.version };
    }
    try {
      this.opts.onResult?.(out);
    } catch (err) {
      this.opts.logger.error({ err: String(err) }, 'configuration result handler threw');
    }
    return out;
  }

  /** Watches the configuration paths; any YAML change (debounced) reloads. Resolves once watching. */
  async watch(): Promise<void> {
    if (this.watcher) return;
    const watcher = watch(this.opts.paths, {
      ignoreInitial: true,
      // Editors write through temporary files; wait until a write has settled.
      awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 20 },
      ignored: (file, stats) => stats?.isFile() === true && !/\.ya?ml$/i.test(file),
    });
    this.watcher = watcher;
    const changed = () => {
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.debounce = undefined;
        void this.reload('watch');
      }, this.opts.debounceMs ?? 150);
    };
    watcher.on('add', changed).on('change', changed).on('unlink', changed);
    watcher.on('error', (err) => this.opts.logger.warn({ err: String(err) }, 'configuration watcher error'));
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  async close(): Promise<void> {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = undefined;
    const w = this.watcher;
    this.watcher = undefined;
    await w?.close();
    await this.chain;
  }
}

function versionOf(set: CompiledSet, trigger: ReloadTrigger): ConfigVersion {
  return { version: set.version, loadedAt: new Date(), trigger, files: set.files, set };
}
