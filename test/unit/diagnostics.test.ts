import { describe, expect, it } from 'vitest';
import {
  compareDiagnostics,
  type Diagnostic,
  formatDiagnostic,
  subPath,
} from '../../src/compiler/diagnostics.js';

const d = (file: string, line: number, col: number, message: string): Diagnostic => ({
  file,
  line,
  col,
  message,
  severity: 'error',
  code: 'x',
});

describe('diagnostics', () => {
  it('extends a path by one to three keys without touching it', () => {
    const base = Object.freeze(['participant', 'states', 'join']);
    expect(subPath(base, 'on')).toEqual(['participant', 'states', 'join', 'on']);
    expect(subPath(base, 'on', 'dtmf "*6"')).toEqual(['participant', 'states', 'join', 'on', 'dtmf "*6"']);
    expect(subPath(base, 'do', 0, 'say')).toEqual(['participant', 'states', 'join', 'do', 0, 'say']);
    expect(subPath([], 0)).toEqual([0]);
    expect(base).toEqual(['participant', 'states', 'join']);
  });
  it('formats as file:line:col: message', () => {
    expect(formatDiagnostic(d('conferences/a.yaml', 12, 7, 'unknown action "sya"'))).toBe(
      'conferences/a.yaml:12:7: unknown action "sya"',
    );
  });
  it('sorts by file, line, column', () => {
    const list = [d('b', 1, 1, 'm'), d('a', 2, 1, 'm'), d('a', 1, 5, 'm'), d('a', 1, 2, 'm')];
    expect(list.sort(compareDiagnostics).map((x) => `${x.file}${x.line}${x.col}`)).toEqual([
      'a12',
      'a15',
      'a21',
      'b11',
    ]);
  });
});
