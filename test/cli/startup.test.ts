import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// What `parley validate` loads is what every CI run of an operator's configuration pays
// for at start-up. These CommonJS packages show up in require.cache when loaded; the
// heavy ones belong to `serve` (fastify, the SIP stack) or to paths a
// valid configuration never takes (ajv when the precompiled validator is stale, the full
// YAML parser when a text leaves the fast road).
const PROBE = `
import { createRequire } from 'node:module';
const { run } = await import('./src/cli/program.ts');
const code = await run(process.argv.slice(1), { out: () => {}, err: (t) => process.stderr.write(t) });
const loaded = Object.keys(createRequire(import.meta.url).cache);
const has = (part) => loaded.some((p) => p.includes(part));
console.log(JSON.stringify({
  code,
  fastify: has('/node_modules/fastify/'),
  sip: has('/node_modules/sip/'),
  ajv: has('/node_modules/ajv/dist/2020'),
  yaml: has('/node_modules/yaml/'),
  commander: has('/node_modules/commander/'),
}));
`;

function loadedBy(...argv: string[]): Record<string, unknown> {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', PROBE, ...argv],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  const line = child.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`probe failed: ${child.stderr}`);
  return { ...(JSON.parse(line) as Record<string, unknown>), stderr: child.stderr };
}

describe('parley validate start-up', () => {
  it('loads neither the server nor the libraries a valid configuration does not need', () => {
    expect(loadedBy('validate', 'conferences/')).toEqual({
      code: 0,
      stderr: '',
      fastify: false,
      sip: false,
      ajv: false,
      yaml: false,
      // The probe itself proves it can see CommonJS packages loaded through ESM imports.
      commander: true,
    });
  });

  it('still loads the full YAML parser for a text that needs its diagnostics', () => {
    const result = loadedBy('validate', 'test/fixtures/invalid/s-duplicate-key.yaml');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('s-duplicate-key.yaml:11:5: duplicate key "greet" (first on line 6)');
    expect(result.yaml).toBe(true);
    expect(result.fastify).toBe(false);
  });
});
