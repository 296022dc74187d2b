import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { describe, expect, it, vi } from 'vitest';
import { BATCH_V8_FLAGS } from '../../src/cli/batch-tuning.js';
import { run } from '../../src/cli/program.js';
import { cli } from './helpers.js';

describe('V8 settings of the one-shot commands', () => {
  it('are flags this Node.js accepts (V8 ignores an unknown one with a message on stderr)', () => {
    const script = `const v8 = require('node:v8'); for (const f of ${JSON.stringify(BATCH_V8_FLAGS)}) v8.setFlagsFromString(f);`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    // The same check catches a misspelt flag: this one is not V8's.
    const bad = spawnSync(
      process.execPath,
      ['-e', "require('node:v8').setFlagsFromString('--interupt-budget=1')"],
      {
        encoding: 'utf8',
      },
    );
    expect(bad.stderr).toMatch(/unrecognized flag/);
  });

  it('leave `parley validate` with nothing on stderr for a valid folder', () => {
    const bin = path.resolve('bin/parley.js');
    const r = spawnSync(process.execPath, [bin, 'validate', 'conferences/'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/ok, version [0-9a-f]{12}/);
  });

  it('are set by the process entry before a one-shot command, not before serve, and not by an embedding caller', async () => {
    const set = vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => {});
    try {
      expect((await cli('validate', 'conferences/')).code).toBe(0);
      expect(set).not.toHaveBeenCalled();
      const quiet = { out: () => {}, err: () => {} };
      expect(await run(['validate', 'conferences/'], quiet, { tuneV8: true })).toBe(0);
      expect(set.mock.calls.map((c) => c[0])).toEqual([...BATCH_V8_FLAGS]);
      // `serve` runs for days: V8's defaults (it stops at the missing folder, having started nothing).
      set.mockClear();
      const missing = path.join(os.tmpdir(), 'parley-no-such-folder');
      expect(await run(['serve', missing, '--http', 'none'], quiet, { tuneV8: true })).toBe(1);
      expect(set).not.toHaveBeenCalled();
    } finally {
      set.mockRestore();
    }
  });
});
