import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RFC4475_DIR, SHARED_RFC4475_DIR } from './rfc4475-corpus.js';

describe('the RFC 4475 test data', () => {
  it('holds the 49 messages and the expected answers', () => {
    const files = readdirSync(RFC4475_DIR);
    expect(files.filter((f) => f.endsWith('.dat'))).toHaveLength(49);
    expect(files).toContain('expected.tsv');
  });

  it('is a byte-for-byte copy of the shared test data, where that folder is beside the repository', () => {
    // A clone on its own (CI) has only the copy; the comparison runs wherever both exist.
    if (!existsSync(SHARED_RFC4475_DIR)) return;
    const shared = readdirSync(SHARED_RFC4475_DIR).sort();
    expect(readdirSync(RFC4475_DIR).sort()).toEqual(shared);
    for (const f of shared) {
      const ours = readFileSync(path.join(RFC4475_DIR, f));
      expect(ours.equals(readFileSync(path.join(SHARED_RFC4475_DIR, f))), f).toBe(true);
    }
  });
});
