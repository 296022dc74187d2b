/**
 * messages.yaml (`chat`) with real SIP peers: every participant gets the welcome text as an
 * in-dialog SIP MESSAGE when it joins, and a message one participant sends is relayed to
 * the others (prefixed with the sender) and not back to the sender.
 *
 * Anna is sipp (test/fixtures/sipp/uac-chat-messages.xml), because baresip 1.0.0 has no
 * command to send a MESSAGE inside a call: it checks its welcome text, sends "hello", and
 * fails on any MESSAGE that comes back. Bob is baresip: its SIP trace shows each MESSAGE
 * it receives, with the text.
 *
 * RTP 11450–11599 (below the 11600–13999 ranges of the older end-to-end files).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Baresip, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { describeRun, haveSipp, runSipp } from '../support/sipp.js';
import { type E2eParley, startParley } from './parley.js';

const enabled = haveBaresip() && haveSipp();
const RTP = { portMin: 11450, portMax: 11599 };

describe.skipIf(!enabled)('in-call messages: welcome and relay', () => {
  let parley: E2eParley | undefined;

  afterAll(async () => {
    await stopAllBaresip();
    await parley?.stop();
  });

  it('welcomes each participant and relays a message to the others only', { timeout: 40_000 }, async () => {
    const p = await startParley(RTP);
    parley = p;
    const bob = await Baresip.start({ user: 'bob', tone: 880 });
    const port = Number(p.uri('chat').split(':').at(-1));
    const anna = await runSipp({
      scenario: 'uac-chat-messages.xml',
      target: `127.0.0.1:${port}`,
      service: 'chat',
      timeoutS: 30,
    });
    let annaResult: Awaited<typeof anna.done> | undefined;
    const annaDone = anna.done.then((r) => {
      annaResult = r;
      return r;
    });
    const why = (): string =>
      `${annaResult ? describeRun(annaResult) : 'sipp still running'}\n${p.eventSummary()}\n${p.logTail(40)}`;

    // Anna waits 4 s after her welcome before she sends "hello": time for bob to join.
    const annaJoined = await p.waitEvent(
      (e) => e.source.startsWith('call:') && e.type === 'joined',
      "anna's join",
      10_000,
    );
    expect(annaJoined.fields.conference, why()).toBe('chat-room');
    await bob.dial(p.uri('chat'));
    await p.established(bob);
    await p.waitCallEvent('bob', 'joined', 1, 10_000);
    // Bob's own welcome, as a MESSAGE in his call (baresip's SIP trace shows the request).
    await bob.waitLog(
      /MESSAGE sip:bob[^\s]*@127\.0\.0\.1[^\n]*\n(?:[^\n]+\n)+\s*Welcome to the chat room\./,
      5000,
    );

    // Anna's "hello" reaches bob with her address in front.
    await bob.waitLog(
      /MESSAGE sip:bob[^\s]*@127\.0\.0\.1[^\n]*\n(?:[^\n]+\n)+\s*anna@example\.com: hello/,
      10_000,
    );
    const result = await annaDone;
    expect(result.code, describeRun(result)).toBe(0);

    const sends = p.events.filter((e) => e.type === 'send').map((e) => e.fields);
    expect(sends, why()).toEqual([
      { text: 'Welcome to the chat room.', to: 'self' },
      { text: 'Welcome to the chat room.', to: 'self' },
      { text: expect.stringMatching(/^anna@example\.com: hello\s*$/), to: 'others' },
    ]);
    const received = p.events.filter((e) => e.type === 'message');
    expect(
      received.map((e) => String(e.fields.text).trim()),
      why(),
    ).toEqual(['hello']);
    // Bob got exactly two MESSAGEs: his welcome and anna's relayed text.
    await bob.hangup();
    expect(bob.logTail(2_000_000).match(/^MESSAGE sip:/gm) ?? [], bob.logTail()).toHaveLength(2);
  });
});
