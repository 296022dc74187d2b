import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generate, renderLanguageReference } from '../../../scripts/gen-language-reference.js';

const committed = readFileSync(new URL('../../../docs/language.md', import.meta.url), 'utf8');
const schema = JSON.parse(
  readFileSync(new URL('../../../schema/parley.schema.json', import.meta.url), 'utf8'),
) as {
  $defs: Record<string, unknown>;
};

describe('docs/language.md', () => {
  it('is what scripts/gen-language-reference.ts generates from the schema (run `npm run docs:language`)', () => {
    expect(committed).toBe(generate());
  });

  it('presents every definition of the schema once, under its own anchor', () => {
    for (const name of Object.keys(schema.$defs).filter((n) => !n.startsWith('inline-'))) {
      const anchor = `<a id="${name.toLowerCase()}"></a>`;
      expect(committed.split(anchor).length - 1, name).toBe(1);
    }
  });

  it('links only to anchors that exist', () => {
    const anchors = new Set([...committed.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]));
    anchors.add('actions');
    const links = [...committed.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(50);
    expect(links.filter((l) => !anchors.has(l))).toEqual([]);
  });

  it('follows the schema: a changed description changes the page', () => {
    const changed = structuredClone(schema) as { $defs: Record<string, { description: string }> };
    changed.$defs.Duration!.description = 'A changed description.';
    const page = renderLanguageReference(changed);
    expect(page).toContain('A changed description.');
    expect(page).not.toBe(committed);
  });
});
