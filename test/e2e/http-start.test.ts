/**
 * http-start.yaml with real clients and the HTTP API:
 * - StartConference (POST /v1/conferences {"name": "town-hall"}) starts town-hall, whose
 *   `started` handler dials the host in; the host hears "The host has joined the town hall."
 * - StartScenarios (POST /v1/scenarios/reminder {"number", "text"}) calls the number, says
 *   the text and hangs up; a declined reminder says nothing; a missing variable is 422.
 *
 * The example dials `sip:host@127.0.0.1` and `sip:${vars.number}@127.0.0.1`, i.e. port
 * 5060, which a test cannot bind safely: the test serves a copy of conferences/ where only
 * those dial targets gain the clients' real ports (the reminder's number picks the user;
 * baresip answers 404 to any user but its own, so both reminders call `alice`).
 *
 * RTP 11300–11449 (below the 11600–13999 ranges of the older end-to-end files).
 */
import { describe, expect, it } from 'vitest';
import type { RuntimeEvent } from '../../src/runtime/ports.js';
import { Baresip, haveBaresip } from '../support/baresip.js';
import { describePcm, durationS, speechRuns, speechSeconds } from '../support/wav.js';
import { conferencesCopy, serverPerTest, sleep, startParley } from './parley.js';

const enabled = haveBaresip();
const RTP = { portMin: 11300, portMax: 11449 };

function configFor(hostPort: number, reminderPort: number): string {
  return conferencesCopy({
    'http-start.yaml': [
      ['to: "sip:host@127.0.0.1"', `to: "sip:host@127.0.0.1:${hostPort}"`],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the YAML's own template text, matched literally
      ['to: "sip:${vars.number}@127.0.0.1"', `to: "sip:\${vars.number}@127.0.0.1:${reminderPort}"`],
    ],
  });
}

describe.skipIf(!enabled)('conferences and scenarios started over HTTP', () => {
  const slot = serverPerTest();

  it('StartConference starts the town hall, which dials the host in', { timeout: 30_000 }, async () => {
    const host = await Baresip.start({ user: 'host', tone: 880, autoAnswer: true });
    slot.config = configFor(host.sipPort, 9);
    const p = await startParley(RTP, { config: slot.config, http: true });
    slot.parley = p;

    const started = await p.req('POST', '/v1/conferences', { name: 'town-hall' });
    expect(started.status, await started.clone().text()).toBe(201);
    await p.waitEvent(
      (e) => e.source === 'conference:town-hall' && e.type === 'started',
      'town-hall started',
      5000,
    );
    await p.established(host, 10_000);
    const established = Date.now();
    const joined = await p.waitEvent(
      (e) => e.source.startsWith('call:') && e.type === 'joined' && e.fields.role === 'host',
      'the host joined',
      10_000,
    );
    expect(joined.fields.conference).toBe('town-hall');
    const say = await p.waitEvent(
      (e) => e.type === 'say' && e.fields.text === 'The host has joined the town hall.',
      'the announcement',
      10_000,
    );
    expect(say.fields.to).toBe('all');
    expect(
      p.events.filter((e) => e.type === 'dial').map((e) => String(e.fields.to)),
      p.eventSummary(),
    ).toEqual([`sip:host@127.0.0.1:${host.sipPort}`]);
    const view = (await (await p.req('GET', '/v1/conferences/town-hall')).json()) as {
      participants: unknown[];
    };
    expect(view.participants, JSON.stringify(view)).toHaveLength(1);

    // The sentence is about 2 s; the host is alone, so it is all the host hears. A server
    // started a moment ago may still be synthesizing its fixed sentences (they are prepared
    // at start), which can hold the first announcement back by several seconds: wait long
    // enough for it, and say in a failure how late it came.
    await sleep(8000);
    await host.hangup();
    const ended = Date.now();
    const heard = await host.received();
    const saidAt = durationS(heard) - (ended - p.timeOf(say)) / 1000;
    const runs = speechRuns(heard, [880]);
    const why = `say at ${saidAt.toFixed(1)} s, speech ${JSON.stringify(runs)}; host heard:\n${describePcm(heard, [880], 0.5)}\n${p.eventSummary()}\n${p.logTail(30)}`;
    expect(durationS(heard), why).toBeGreaterThan((ended - established) / 1000 - 1.5);
    expect(speechSeconds(heard, [880]), why).toBeGreaterThan(1);
  });

  it('StartScenarios calls the number, says the text and hangs up', { timeout: 40_000 }, async () => {
    // One client takes the reminder calls; it declines the second one.
    const phone = await Baresip.start({ user: 'alice', tone: 0 });
    slot.config = configFor(9, phone.sipPort);
    const p = await startParley(RTP, { config: slot.config, http: true });
    slot.parley = p;

    const missing = await p.req('POST', '/v1/scenarios/reminder', { text: 'no number' });
    expect(missing.status, await missing.clone().text()).toBe(422);
    const unknown = await p.req('POST', '/v1/scenarios/no-such-scenario', { number: 'alice' });
    expect(unknown.status).toBe(404);

    const text = 'Your meeting starts in five minutes.';
    const res = await p.req('POST', '/v1/scenarios/reminder', { number: 'alice', text });
    const body = await res.text();
    expect(res.status, body).toBe(201);
    expect(JSON.parse(body)).toMatchObject({ scenario: 'reminder', session: expect.any(String) });
    const incoming = await phone.incoming(10_000);
    expect(incoming.param ?? JSON.stringify(incoming)).toMatch(/parley|127\.0\.0\.1/);
    await phone.accept();
    await p.established(phone, 10_000);
    const answered = Date.now();
    const say = await p.waitEvent((e) => e.type === 'say', 'the reminder text', 10_000);
    expect(say.fields.text).toBe(text);
    // The flow hangs up after the text: the phone gets a BYE, it does not hang up itself.
    await phone.closed(15_000);
    const closedAfter = (Date.now() - answered) / 1000;
    await phone.waitLog(/BYE sip:alice[^@\s]*@/, 3000);
    const heard = await phone.received();
    const why = `speech runs ${JSON.stringify(speechRuns(heard, []))} in ${durationS(heard).toFixed(1)} s of call, BYE ${closedAfter.toFixed(1)} s after the answer; phone heard:\n${describePcm(heard, [], 0.5)}\n${p.eventSummary()}\n${p.logTail(30)}`;
    // "Your meeting starts in five minutes." is about 2 s of speech, then the hang-up.
    expect(speechSeconds(heard, []), why).toBeGreaterThan(1.2);
    expect(closedAfter, why).toBeLessThan(12);
    expect(
      p.events.filter((e) => e.type === 'dial').map((e) => String(e.fields.to)),
      p.eventSummary(),
    ).toEqual([`sip:alice@127.0.0.1:${phone.sipPort}`]);

    // A reminder nobody takes ends quietly: declined (486 Busy Here), nothing is said.
    const saysBefore = p.events.filter((e) => e.type === 'say').length;
    phone.resetEvents();
    const again = await p.req('POST', '/v1/scenarios/reminder', { number: 'alice' });
    expect(again.status).toBe(201);
    try {
      await phone.incoming(10_000);
    } catch (err) {
      throw new Error(`${String(err).slice(0, 300)}\n${p.eventSummary()}\n${p.logTail(40)}`);
    }
    await phone.command('hangup');
    const busy = await p.waitEvent(
      (e: RuntimeEvent) => e.type === 'busy' || e.type === 'failed' || e.type === 'no-answer',
      'the declined reminder',
      10_000,
    );
    expect(busy.type, `${JSON.stringify(busy.fields)}\n${p.logTail(30)}\n${phone.logTail(3000)}`).toBe(
      'busy',
    );
    await sleep(1000);
    expect(p.events.filter((e) => e.type === 'say').length, p.eventSummary()).toBe(saysBefore);
  });
});
