/**
 * contact-centre.yaml (`help`) with real clients: the customer's call starts the
 * contact-centre scenario, which creates the local conference support-call, dials the
 * agent and then the supervisor into it; the supervisor whispers (only agents hear them).
 * Tones: customer 440 Hz, agent 880 Hz, supervisor 1320 Hz. A busy agent gets the
 * customer an apology and a hang-up, and no supervisor is dialled.
 *
 * The example dials `sip:${vars.agent}@127.0.0.1` and `sip:${vars.supervisor}@127.0.0.1`,
 * i.e. port 5060, which a test cannot bind safely: the test serves a copy of conferences/
 * where only those two dial targets gain the clients' real ports.
 *
 * RTP 11000–11149 (below the 11600–13999 ranges of the older end-to-end files).
 */
import { describe, expect, it } from 'vitest';
import type { RuntimeEvent } from '../../src/runtime/ports.js';
import { Baresip, haveBaresip } from '../support/baresip.js';
import { describePcm, type Pcm, slice, toneShare } from '../support/wav.js';
import { conferencesCopy, serverPerTest, sleep, startParley } from './parley.js';

const enabled = haveBaresip();
const RTP = { portMin: 11000, portMax: 11149 };
const TONES = [440, 880, 1320];

/** A copy of conferences/ whose contact-centre dials reach the given clients. */
function configFor(agentPort: number, supervisorPort: number): string {
  return conferencesCopy({
    'contact-centre.yaml': [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the YAML's own template text, matched literally
      ['to: "sip:${vars.agent}@127.0.0.1"', `to: "sip:\${vars.agent}@127.0.0.1:${agentPort}"`],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the YAML's own template text, matched literally
      ['to: "sip:${vars.supervisor}@127.0.0.1"', `to: "sip:\${vars.supervisor}@127.0.0.1:${supervisorPort}"`],
    ],
  });
}

describe.skipIf(!enabled)('contact centre: local conference, dial-outs and whisper', () => {
  const slot = serverPerTest();

  it('dials agent then supervisor; the agent hears both, the customer never hears the supervisor', {
    timeout: 40_000,
  }, async () => {
    const customer = await Baresip.start({ user: 'customer', tone: 440 });
    const agent = await Baresip.start({ user: 'agent', tone: 880, autoAnswer: true });
    const supervisor = await Baresip.start({ user: 'supervisor', tone: 1320, autoAnswer: true });
    slot.config = configFor(agent.sipPort, supervisor.sipPort);
    const p = await startParley(RTP, { config: slot.config });
    slot.parley = p;

    await customer.dial(p.uri('help'));
    await p.established(customer);
    await p.established(agent, 15_000);
    await p.established(supervisor, 15_000);
    // A call's own `joined` event names the conference (the conference's names the member).
    const joinedAs = (role: string) => (e: RuntimeEvent) =>
      e.source.startsWith('call:') && e.type === 'joined' && e.fields.role === role;
    for (const role of ['customer', 'agent', 'supervisor']) {
      const joined = await p.waitEvent(joinedAs(role), `joined as ${role}`, 15_000);
      expect(joined.fields.conference, p.eventSummary()).toBe('support-call');
    }
    // The agent was dialled first; the supervisor only once the agent had answered.
    const dials = p.events.filter((e) => e.type === 'dial').map((e) => String(e.fields.to));
    expect(dials, p.eventSummary()).toEqual([
      `sip:agent@127.0.0.1:${agent.sipPort}`,
      `sip:supervisor@127.0.0.1:${supervisor.sipPort}`,
    ]);

    await sleep(1000);
    const quiet = { from: Date.now(), to: Date.now() + 3000 };
    await sleep(3000);

    // The local conference ends with the customer's call: the flow hangs up the others.
    await customer.hangup();
    const ends = new Map<string, number>([['customer', Date.now()]]);
    await agent.closed(10_000);
    ends.set('agent', Date.now());
    await supervisor.closed(10_000);
    ends.set('supervisor', Date.now());

    const heard = new Map<string, Pcm>([
      ['customer', await customer.received()],
      ['agent', await agent.received()],
      ['supervisor', await supervisor.received()],
    ]);
    /** The quiet stretch in a client's recording, located from the end of its file. */
    const stretch = (user: string): { pcm: Pcm; why: string } => {
      const pcm = heard.get(user)!;
      const end = ends.get(user)!;
      const len = pcm.samples.length / pcm.rate;
      const at = (wall: number): number => len - (end - wall) / 1000;
      return {
        pcm: slice(pcm, at(quiet.from) + 0.3, at(quiet.to) - 0.3),
        why: `${user} heard:\n${describePcm(pcm, TONES)}\n${p.eventSummary()}\n${p.logTail(40)}`,
      };
    };

    const c = stretch('customer');
    expect(toneShare(c.pcm, 880), c.why).toBeGreaterThan(0.8);
    expect(toneShare(c.pcm, 1320), c.why).toBeLessThan(0.02);
    expect(toneShare(c.pcm, 440), c.why).toBeLessThan(0.02);

    const a = stretch('agent');
    // Two tones of equal level share the power about half and half.
    expect(toneShare(a.pcm, 440), a.why).toBeGreaterThan(0.3);
    expect(toneShare(a.pcm, 1320), a.why).toBeGreaterThan(0.3);
    expect(toneShare(a.pcm, 880), a.why).toBeLessThan(0.02);

    const s = stretch('supervisor');
    expect(toneShare(s.pcm, 440), s.why).toBeGreaterThan(0.3);
    expect(toneShare(s.pcm, 880), s.why).toBeGreaterThan(0.3);
    expect(toneShare(s.pcm, 1320), s.why).toBeLessThan(0.02);
  });

  it('gives the customer an apology and hangs up when the agent is busy', { timeout: 40_000 }, async () => {
    const customer = await Baresip.start({ user: 'customer', tone: 440 });
    const agent = await Baresip.start({ user: 'agent', tone: 880 });
    const supervisor = await Baresip.start({ user: 'supervisor', tone: 1320, autoAnswer: true });
    slot.config = configFor(agent.sipPort, supervisor.sipPort);
    const p = await startParley(RTP, { config: slot.config });
    slot.parley = p;

    await customer.dial(p.uri('help'));
    await p.established(customer);
    await agent.incoming(15_000);
    // Declining a ringing call answers 486 Busy Here.
    await agent.command('hangup');
    await agent.closed();

    const apology = await p.waitEvent(
      (e) => e.type === 'say' && e.fields.text === 'All our agents are busy. Please call again later.',
      'the apology',
      10_000,
    );
    expect(apology).toBeDefined();
    const closed = await customer.closed(15_000);
    // The flow hung up (BYE from Parley), not the customer.
    await customer.waitLog(/BYE sip:customer[^@\s]*@/, 3000);
    expect(closed.type).toBe('CALL_CLOSED');
    expect(
      p.events.some((e) => e.type === 'busy'),
      p.eventSummary(),
    ).toBe(true);
    expect(
      p.events.filter((e) => e.type === 'dial').map((e) => String(e.fields.to)),
      p.eventSummary(),
    ).toEqual([`sip:agent@127.0.0.1:${agent.sipPort}`]);
    expect(supervisor.events.some((e) => e.type === 'CALL_INCOMING')).toBe(false);
  });
});
