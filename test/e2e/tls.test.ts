// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the route written into the YAML carries the language's own `${...}` placeholders
/**
 * SIP over TLS with a real client: baresip calls in over TLS and another over UDP, into one
 * team conference; each hears the other. A route that names `transport: [tls]` takes only
 * the TLS call and refuses the same number over UDP.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baresip, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { describePcm, slice, toneShare } from '../support/wav.js';
import { conferencesCopy, type E2eParley, sleep, startParley } from './parley.js';

const enabled = haveBaresip();
const CERTS = path.resolve(import.meta.dirname, '../fixtures/tls');

describe.skipIf(!enabled)('baresip over SIP over TLS', () => {
  let parley: E2eParley;
  let config: string;

  beforeAll(async () => {
    config = conferencesCopy({
      'routes.yaml': [
        [
          '  - description: Numbered team rooms',
          [
            '  - description: The same team rooms, for callers over TLS only.',
            '    match: { to: "^private-(?<room>\\\\d{4})$", transport: [tls] }',
            '    conference: "team-${room}"',
            '  - description: Numbered team rooms',
          ].join('\n'),
        ],
      ],
    });
    parley = await startParley(
      { portMin: 12800, portMax: 12999 },
      {
        config,
        tls: {
          cert: readFileSync(path.join(CERTS, 'server.pem')),
          key: readFileSync(path.join(CERTS, 'server-key.pem')),
        },
      },
    );
  });

  afterAll(async () => {
    await stopAllBaresip();
    await parley?.stop();
    if (config) rmSync(config, { recursive: true, force: true });
  });

  it('puts a TLS caller and a UDP caller in one conference, hearing each other', {
    timeout: 60_000,
  }, async () => {
    const alice = await Baresip.start({ user: 'alice', tone: 440 });
    const bob = await Baresip.start({ user: 'bob', tone: 880 });
    await alice.dial(parley.tlsUri('private-7777'));
    await parley.established(alice);
    const aliceAnswered = Date.now();
    const joinedA = await parley.waitCallEvent('alice', 'joined', 1, 15_000);
    await bob.dial(parley.uri('conf-7777'));
    await parley.established(bob);
    const bobAnswered = Date.now();
    const joinedB = await parley.waitCallEvent('bob', 'joined', 1, 15_000);
    expect(joinedA.fields).toMatchObject({ conference: 'team-7777' });
    expect(joinedB.fields).toMatchObject({ conference: 'team-7777' });
    // Alice's INVITE came over TLS and its transaction was answered on that connection.
    await alice.waitLog(/SIP\/2\.0 200 OK/);
    expect(alice.logTail(200_000)).toMatch(
      /INVITE sip:private-7777@127\.0\.0\.1:\d+;transport=tls SIP\/2\.0/,
    );
    expect(alice.logTail(200_000)).toMatch(/Via: SIP\/2\.0\/TLS /);

    // The join announcements end within a few seconds; then 3 s of nothing but the tones.
    await sleep(Math.max(0, bobAnswered + 7000 - Date.now()));
    const quietFrom = Date.now();
    await sleep(3000);
    const quietTo = Date.now();
    await bob.hangup();
    await alice.hangup();

    const heardA = await alice.received();
    const heardB = await bob.received();
    const why = `alice heard:\n${describePcm(heardA, [440, 880])}\nbob heard:\n${describePcm(heardB, [440, 880])}\n${parley.logTail(40)}`;
    const quietA = slice(heardA, (quietFrom - aliceAnswered) / 1000, (quietTo - aliceAnswered) / 1000);
    const quietB = slice(heardB, (quietFrom - bobAnswered) / 1000, (quietTo - bobAnswered) / 1000);
    expect(toneShare(quietA, 880), why).toBeGreaterThan(0.3);
    expect(toneShare(quietA, 440), why).toBeLessThan(0.02);
    expect(toneShare(quietB, 440), why).toBeGreaterThan(0.3);
    expect(toneShare(quietB, 880), why).toBeLessThan(0.02);
  });

  it('keeps a TLS-only route from callers over UDP', async () => {
    const mallory = await Baresip.start({ user: 'mallory' });
    await mallory.dial(parley.uri('private-7777'));
    const closed = await mallory.closed();
    expect(mallory.events.some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);
    expect(closed.param, mallory.logTail()).toMatch(/404/);
  });
});
