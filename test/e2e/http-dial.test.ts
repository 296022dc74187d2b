/**
 * http-dial.yaml (`support`) with real clients and the HTTP API: a caller (440 Hz) is in
 * support-room; POST /v1/sessions/support-room/requests {"number": "expert"} reaches the
 * conference flow as an `http` event, which answers 202 and dials the expert (880 Hz) in;
 * everyone hears "An expert has joined." and then each other. A request without a
 * number is answered 400 and dials nobody.
 *
 * The example dials `sip:${request.body.number}@127.0.0.1`, i.e. port 5060, which a test
 * cannot bind safely: the test serves a copy of conferences/ where only that dial target
 * gains the expert client's real port.
 *
 * RTP 11150–11299 (below the 11600–13999 ranges of the older end-to-end files).
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Baresip, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { describePcm, type Pcm, slice, speechSeconds, toneShare } from '../support/wav.js';
import { conferencesCopy, type E2eParley, sleep, startParley } from './parley.js';

const enabled = haveBaresip();
const RTP = { portMin: 11150, portMax: 11299 };
const TONES = [440, 880];

describe.skipIf(!enabled)('an HTTP request dials an expert into a running conference', () => {
  let parley: E2eParley | undefined;
  let config: string | undefined;

  afterAll(async () => {
    await stopAllBaresip();
    await parley?.stop();
    if (config) rmSync(config, { recursive: true, force: true });
  });

  it('refuses a request without a number, then dials the number it is given', {
    timeout: 40_000,
  }, async () => {
    const caller = await Baresip.start({ user: 'caller', tone: 440 });
    const expert = await Baresip.start({ user: 'expert', tone: 880, autoAnswer: true });
    config = conferencesCopy({
      'http-dial.yaml': [
        [
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the YAML's own template text, matched literally
          'to: "sip:${request.body.number}@127.0.0.1"',
          `to: "sip:\${request.body.number}@127.0.0.1:${expert.sipPort}"`,
        ],
      ],
    });
    const p = await startParley(RTP, { config, http: true });
    parley = p;

    await caller.dial(p.uri('support'));
    await p.established(caller);
    const callerJoined = await p.waitCallEvent('caller', 'joined', 1, 10_000);
    expect(callerJoined.fields.conference).toBe('support-room');

    // No number: the flow's fallback answers 400 and nobody is dialled.
    const refused = await p.req('POST', '/v1/sessions/support-room/requests?path=/dial', {});
    const refusedBody = await refused.text();
    expect(refused.status, refusedBody).toBe(400);
    expect(JSON.parse(refusedBody), refusedBody).toEqual({ error: 'POST a JSON body with a number' });

    // A session that is not running is not found (the API, not the flow, answers).
    const missing = await p.req('POST', '/v1/sessions/no-such-room/requests', { number: 'expert' });
    expect(missing.status).toBe(404);

    const accepted = await p.req('POST', '/v1/sessions/support-room/requests?path=/dial', {
      number: 'expert',
    });
    const acceptedBody = await accepted.text();
    expect(accepted.status, `${acceptedBody}\n${p.logTail(30)}`).toBe(202);
    expect(JSON.parse(acceptedBody)).toEqual({ dialling: 'expert' });

    await p.established(expert, 15_000);
    const joined = await p.waitEvent(
      (e) => e.source.startsWith('call:') && e.type === 'joined' && e.fields.role === 'expert',
      'the expert joined',
      10_000,
    );
    expect(joined.fields.conference).toBe('support-room');
    const expertJoined = Date.now();
    const say = await p.waitEvent(
      (e) => e.type === 'say' && e.fields.text === 'An expert has joined.',
      'the announcement',
      10_000,
    );
    expect(say.fields.to).toBe('all');
    const dials = p.events.filter((e) => e.type === 'dial').map((e) => String(e.fields.to));
    expect(dials, p.eventSummary()).toEqual([`sip:expert@127.0.0.1:${expert.sipPort}`]);

    // "An expert has joined." is about 1.5 s; then both tones alone.
    await sleep(3000);
    const quiet = { from: Date.now(), to: Date.now() + 3000 };
    await sleep(3000);
    await expert.hangup();
    const expertEnd = Date.now();
    await caller.hangup();
    const callerEnd = Date.now();
    const heard = { caller: await caller.received(), expert: await expert.received() };
    const why = `caller heard:\n${describePcm(heard.caller, TONES, 0.5)}\nexpert heard:\n${describePcm(heard.expert, TONES, 0.5)}\n${p.eventSummary()}\n${p.logTail(40)}`;
    /** Seconds into a recording of a wall-clock time, located from the end of the file. */
    const at = (pcm: Pcm, end: number, wall: number): number =>
      pcm.samples.length / pcm.rate - (end - wall) / 1000;

    // The announcement goes to all: the caller hears it over the expert's tone.
    const announced = slice(
      heard.caller,
      at(heard.caller, callerEnd, expertJoined),
      at(heard.caller, callerEnd, quiet.from),
    );
    expect(speechSeconds(announced, TONES), why).toBeGreaterThan(0.5);

    const c = slice(
      heard.caller,
      at(heard.caller, callerEnd, quiet.from) + 0.3,
      at(heard.caller, callerEnd, quiet.to) - 0.3,
    );
    expect(toneShare(c, 880), why).toBeGreaterThan(0.8);
    expect(toneShare(c, 440), why).toBeLessThan(0.02);
    const x = slice(
      heard.expert,
      at(heard.expert, expertEnd, quiet.from) + 0.3,
      at(heard.expert, expertEnd, quiet.to) - 0.3,
    );
    expect(toneShare(x, 440), why).toBeGreaterThan(0.8);
    expect(toneShare(x, 880), why).toBeLessThan(0.02);
  });
});
