import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingJournal } from '../../../src/runtime/live/journal.js';
import type { Logger } from '../../../src/runtime/ports.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-journal-'));
  dirs.push(dir);
  let t = 1_000_000;
  const journal = new RecordingJournal(
    quiet,
    (leg) => `${leg}@example.com`,
    () => t,
    60_000,
  );
  const at = (ms: number) => {
    t = 1_000_000 + ms;
  };
  const ev = (source: string, type: string, fields: Record<string, string> = {}) =>
    journal.observe({ source, type, fields });
  const read = (name: string) => JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
  return { dir, journal, at, ev, read };
}

describe('RecordingJournal', () => {
  it('writes who was there and who talked when, relative to the start of the recording', () => {
    const { dir, journal, at, ev, read } = setup();
    ev('conference:room', 'joined', { participant: 'c1' });
    ev('call:c1', 'talking');
    at(1000);
    journal.start('7', path.join(dir, 'room.wav'), 'room');
    expect(read('room.json')).toMatchObject({ conference: 'room', complete: false });
    at(1500);
    ev('call:c1', 'silent');
    at(2000);
    ev('conference:room', 'joined', { participant: 'c2' });
    at(2600);
    ev('call:c2', 'talking');
    at(4000);
    ev('conference:room', 'left', { participant: 'c2' });
    at(5000);
    journal.finish('7', 4000);
    const json = read('room.json');
    expect(json).toMatchObject({ conference: 'room', complete: true, durationMs: 4000 });
    expect(json.participants).toEqual([
      { id: 'c1', from: 'c1@example.com', joinedMs: 0, leftMs: 4000 },
      { id: 'c2', from: 'c2@example.com', joinedMs: 1000, leftMs: 3000 },
    ]);
    expect(json.talking).toEqual([
      { id: 'c1', startMs: 0, endMs: 500 },
      { id: 'c2', startMs: 1600, endMs: 3000 },
    ]);
  });

  it('keeps a participant recording to that participant', () => {
    const { dir, journal, at, ev, read } = setup();
    ev('conference:room', 'joined', { participant: 'c1' });
    ev('conference:room', 'joined', { participant: 'c2' });
    journal.start('8', path.join(dir, 'c1.wav'), 'room', 'c1');
    at(100);
    ev('call:c2', 'talking');
    ev('call:c1', 'talking');
    at(300);
    journal.finish('8', 300);
    const json = read('c1.json');
    expect(json.participant).toBe('c1');
    expect(json.participants.map((p: { id: string }) => p.id)).toEqual(['c1']);
    expect(json.talking).toEqual([{ id: 'c1', startMs: 100, endMs: 300 }]);
  });
});
