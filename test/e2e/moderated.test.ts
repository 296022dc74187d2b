/**
 * moderated.yaml with real clients: a participant (code 1111) waits with music on hold
 * (audio/hold.wav) until the moderator (code 9999) joins; then the music stops and the two
 * hear each other; when the moderator hangs up, everyone hears "The moderator has left. The
 * conference is over." and the server hangs up on the participant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baresip, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { describePcm, slice, speechSeconds, toneShare } from '../support/wav.js';
import { type E2eParley, sleep, startParley } from './parley.js';

const enabled = haveBaresip();

describe.skipIf(!enabled)('moderated conference with music on hold', () => {
  let parley: E2eParley;
  beforeAll(async () => {
    parley = await startParley({ portMin: 13400, portMax: 13599 });
  });
  afterAll(async () => {
    await stopAllBaresip();
    await parley?.stop();
  });

  it('plays music until the moderator comes, and ends with the moderator', { timeout: 55_000 }, async () => {
    // Not 440 Hz: audio/hold.wav has a 440 Hz passage.
    const part = await Baresip.start({ user: 'participant', tone: 1320 });
    const mod = await Baresip.start({ user: 'moderator', tone: 880 });
    const enter = async (client: Baresip, code: string): Promise<number> => {
      await client.dial(parley.uri('moderated'));
      await parley.established(client);
      const answered = Date.now();
      await parley.waitCallEvent(client.user, 'collect', 1, 15_000);
      await sleep(4000); // "Enter your code, then pound."
      await client.sendDtmf(code);
      await parley.waitCallEvent(client.user, 'joined');
      return answered;
    };
    const partAnswered = await enter(part, '1111#');
    const waitFrom = Date.now() + 500;
    await sleep(4000);
    const waitTo = Date.now();
    await enter(mod, '9999#');
    const bothFrom = Date.now() + 1000;
    await sleep(4000);
    const bothTo = Date.now();
    const modLeft = Date.now();
    await mod.hangup();
    // The server ends the conference and hangs up on the participant after its last words.
    await part.closed(15_000);
    const partClosed = Date.now();

    const joined = parley.events.filter((e) => e.type === 'joined' && e.source.startsWith('call:'));
    expect(joined.map((e) => e.fields.role)).toEqual(['participant', 'moderator']);
    const heard = await part.received();
    const at = (wall: number): number => (wall - partAnswered) / 1000;
    const why = `participant heard:\n${describePcm(heard, [440, 880, 1320], 0.5)}\n${parley.eventSummary()}\n${parley.logTail(30)}`;
    // Waiting alone: music, i.e. continuous sound that is not the moderator's tone (nobody
    // else is there; the participant never hears its own 1320 Hz).
    expect(speechSeconds(slice(heard, at(waitFrom), at(waitTo)), [880]), why).toBeGreaterThan(3);
    expect(toneShare(slice(heard, at(waitFrom), at(waitTo)), 1320), why).toBeLessThan(0.02);
    // With the moderator in: the moderator's tone and no music.
    const both = slice(heard, at(bothFrom), at(bothTo));
    expect(toneShare(both, 880), why).toBeGreaterThan(0.8);
    expect(speechSeconds(both, [880]), why).toBe(0);
    // The goodbye announcement between the moderator leaving and the hang-up (music, no
    // moderator being present any more, plays under it).
    expect(speechSeconds(slice(heard, at(modLeft), at(partClosed)), [880]), why).toBeGreaterThan(1);
    const end = await parley.waitEvent((e) => e.source === 'conference:moderated' && e.type === 'end', 'end');
    expect(end.type).toBe('end');
  });
});
