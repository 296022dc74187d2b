/**
 * Recordings made from real calls. record-conference.yaml (`recorded`) records the mix from
 * the conference's start: with three callers (440/880/1320 Hz) the file holds all three
 * tones. record-participant.yaml (`interview`) records each caller's incoming audio only:
 * a caller's file holds its own tone and not what it heard.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baresip, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { describePcm, readWav, slice, speechSeconds, toneShare } from '../support/wav.js';
import { type E2eParley, sleep, startParley } from './parley.js';

const enabled = haveBaresip();
const TONES = [440, 880, 1320];

describe.skipIf(!enabled)('recordings of real calls', () => {
  let parley: E2eParley;
  beforeAll(async () => {
    parley = await startParley({ portMin: 13200, portMax: 13399 });
  });
  afterAll(async () => {
    await stopAllBaresip();
    await parley?.stop();
  });

  // The conference test stops the server at its end, so it runs last.
  const files = (): string[] => readdirSync(parley.recordings, { recursive: true }).map(String);

  it('records one participant incoming audio only', { timeout: 45_000 }, async () => {
    const alice = await Baresip.start({ user: 'candidate', tone: 440 });
    const bob = await Baresip.start({ user: 'panel', tone: 880 });
    for (const client of [alice, bob]) {
      await client.dial(parley.uri('interview'));
      await parley.established(client);
      await parley.waitCallEvent(client.user, 'joined');
    }
    await sleep(4000);
    await bob.hangup();
    await alice.hangup();
    const candidateCall = parley.callOf('candidate').replace(/^call:/, '');
    const panelCall = parley.callOf('panel').replace(/^call:/, '');
    // Give the recorder's disk thread a moment to close the files after the hang-ups.
    await parley.waitCallEvent('candidate', 'hangup');
    await sleep(500);
    const list = files();
    const fileOf = (call: string): string => {
      const name = list.find((f) => path.basename(f) === `interview-${call}.wav`);
      if (!name) throw new Error(`no interview-${call}.wav among ${list.join(', ')}\n${parley.logTail(40)}`);
      return path.join(parley.recordings, name);
    };
    const candidate = readWav(fileOf(candidateCall));
    const panel = readWav(fileOf(panelCall));
    const why = `candidate:\n${describePcm(candidate, [440, 880])}\npanel:\n${describePcm(panel, [440, 880])}`;
    expect(candidate.samples.length / candidate.rate, why).toBeGreaterThan(3);
    expect(toneShare(candidate, 440), why).toBeGreaterThan(0.9);
    expect(toneShare(candidate, 880), why).toBeLessThan(0.02);
    expect(toneShare(panel, 880), why).toBeGreaterThan(0.9);
    expect(toneShare(panel, 440), why).toBeLessThan(0.02);
    // Incoming audio only: no prompt or announcement either.
    expect(speechSeconds(candidate, [440]), why).toBe(0);
  });

  it('records the whole conference mix with every caller in it', { timeout: 50_000 }, async () => {
    const clients = await Promise.all(
      TONES.map((tone, i) => Baresip.start({ user: `member${i + 1}`, tone })),
    );
    for (const client of clients) {
      await client.dial(parley.uri('recorded'));
      await parley.established(client);
      await parley.waitCallEvent(client.user, 'joined', 1, 15_000);
    }
    const allIn = Date.now();
    await sleep(4000);
    for (const client of clients) await client.hangup();
    const record = await parley.waitEvent(
      (e) => e.source === 'conference:recorded-meeting' && e.type === 'record',
      'the conference recording to start',
    );
    const file = path.resolve(parley.recordings, String(record.fields.file));
    expect(path.basename(file)).toBe('meeting-recorded-meeting.wav');
    // The recorder fixes the WAV header every second: the file is readable while the
    // conference (empty, waiting out its idle time) goes on.
    await sleep(1500);
    const mix = readWav(file);
    const why = `${file}:\n${describePcm(mix, TONES)}\nfiles: ${files().join(', ')}\n${parley.logTail(30)}`;
    // Recording time 0 is the conference's start, when the record event came.
    const from = (allIn - parley.timeOf(record)) / 1000 + 0.5;
    expect(mix.samples.length / mix.rate, why).toBeGreaterThan(from + 3);
    const all = slice(mix, from, from + 3);
    for (const tone of TONES)
      expect(toneShare(all, tone), `${tone} Hz in the mix\n${why}`).toBeGreaterThan(0.15);

    // Stopping the server ends the conference, which closes the file and reports it.
    await parley.server.stop('test');
    const recorded = await parley.waitEvent(
      (e) => e.source === 'conference:recorded-meeting' && e.type === 'recorded',
      'the recording to be reported closed',
      5000,
    );
    expect(recorded.fields.file).toBe(record.fields.file);
    const closed = readWav(file);
    expect(closed.samples.length, 'the closed file keeps what was recorded').toBeGreaterThanOrEqual(
      mix.samples.length,
    );
  });
});
