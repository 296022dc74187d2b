import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CallEvents, type NegotiatedMedia, SipServer } from '../../src/sip/index.js';
import { describeRun, haveSipp, runSipp } from '../support/sipp.js';

const LOCAL = { address: '127.0.0.1', port: 40002 };

describe.skipIf(!haveSipp())('SIP dial-out against a sipp UAS', () => {
  let server: SipServer;

  beforeEach(async () => {
    server = await SipServer.listen({
      address: '127.0.0.1',
      udpPort: 0,
      tcpPort: 0,
      mediaPrefs: ['pcmu', 'pcma'],
    });
  });
  afterEach(async () => {
    await server.close();
  });

  it('acknowledges a reliable 180 with PRACK before the answer, and goes on in sequence', async () => {
    const run = await runSipp({ scenario: 'uas-100rel.xml' });
    const progress: string[] = [];
    const outcome = await server.dial({
      uri: `sip:bob@127.0.0.1:${run.port}`,
      from: 'sip:alice@parley.test',
      timeoutMs: 5000,
      local: LOCAL,
      onProgress: (e) => progress.push(e.type),
    });
    expect(outcome.status, JSON.stringify(outcome)).toBe('answered');
    if (outcome.status !== 'answered') return;
    expect(progress).toEqual(['ringing']);
    await outcome.call.hangup();
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(0);
  });

  it('answered after ringing and early media; MESSAGE and INFO to the callee; our BYE ends it', async () => {
    const run = await runSipp({ scenario: 'uas-answer.xml' });
    const progress: string[] = [];
    let early: NegotiatedMedia | undefined;
    const outcome = await server.dial({
      uri: `sip:bob@127.0.0.1:${run.port}`,
      from: 'sip:alice@parley.test',
      timeoutMs: 5000,
      local: LOCAL,
      onProgress: (e) => {
        progress.push(e.type);
        if (e.type === 'early-media') early = e.media;
      },
    });
    expect(outcome.status, JSON.stringify(outcome)).toBe('answered');
    if (outcome.status !== 'answered') return;
    expect(progress).toEqual(['ringing', 'early-media']);
    expect(early?.codec.id).toBe('pcmu');
    expect(outcome.media).toMatchObject({
      codec: { id: 'pcmu' },
      telephoneEvent: { payloadType: 101 },
      direction: 'sendrecv',
    });
    expect(outcome.media.remote.address).toBe('127.0.0.1');
    await outcome.call.sendMessage('hello from parley');
    await outcome.call.sendDtmfInfo('7', 200);
    const ended: CallEvents['ended'][] = [];
    outcome.call.on('ended', (e) => ended.push(e));
    await outcome.call.hangup();
    expect(ended).toEqual([{ by: 'local' }]);
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(0);
  });

  it('dials over TCP', async () => {
    const run = await runSipp({ scenario: 'uas-busy.xml', transport: 't1' });
    const outcome = await server.dial({
      uri: `sip:bob@127.0.0.1:${run.port};transport=tcp`,
      timeoutMs: 5000,
      local: LOCAL,
    });
    expect(outcome).toMatchObject({ status: 'busy', code: 486 });
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(0);
  });

  it('answered; the callee hangs up', async () => {
    const run = await runSipp({ scenario: 'uas-answer-remote-bye.xml' });
    const outcome = await server.dial({
      uri: `sip:bob@127.0.0.1:${run.port}`,
      timeoutMs: 5000,
      local: LOCAL,
    });
    expect(outcome.status).toBe('answered');
    if (outcome.status !== 'answered') return;
    const ended = await new Promise<CallEvents['ended']>((resolve) => outcome.call.on('ended', resolve));
    expect(ended).toEqual({ by: 'remote' });
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(0);
  });

  it('busy on 486', async () => {
    const run = await runSipp({ scenario: 'uas-busy.xml' });
    const outcome = await server.dial({
      uri: `sip:bob@127.0.0.1:${run.port}`,
      timeoutMs: 5000,
      local: LOCAL,
    });
    expect(outcome).toEqual({ status: 'busy', code: 486, reason: '486 Busy Here' });
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(0);
  });

  it('no answer: CANCEL after the ring timeout', async () => {
    const run = await runSipp({ scenario: 'uas-noanswer.xml' });
    const started = Date.now();
    const outcome = await server.dial({ uri: `sip:bob@127.0.0.1:${run.port}`, timeoutMs: 800, local: LOCAL });
    expect(outcome).toMatchObject({ status: 'no-answer', code: 487 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(0);
  });

  it('aborting the dial cancels it', async () => {
    const run = await runSipp({ scenario: 'uas-noanswer.xml' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const outcome = await server.dial({
      uri: `sip:bob@127.0.0.1:${run.port}`,
      timeoutMs: 10_000,
      local: LOCAL,
      signal: controller.signal,
    });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'aborted' });
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(0);
  });

  it('answers a 401 digest challenge through the outbound proxy', async () => {
    const run = await runSipp({ scenario: 'uas-auth.xml' });
    const target = server.dialTarget('sip:bob@example.invalid', `sip:127.0.0.1:${run.port}`);
    expect(target).toMatchObject({
      user: 'bob',
      host: 'example.invalid',
      nextHop: `sip:127.0.0.1:${run.port}`,
    });
    const outcome = await server.dial({
      uri: 'sip:bob@example.invalid',
      proxy: `sip:127.0.0.1:${run.port}`,
      auth: { username: 'alice', password: 'secret' },
      timeoutMs: 5000,
      local: LOCAL,
    });
    expect(outcome.status, JSON.stringify(outcome)).toBe('answered');
    if (outcome.status === 'answered') await outcome.call.hangup();
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(0);
  });

  it('a wrong password is refused', async () => {
    const run = await runSipp({ scenario: 'uas-auth.xml' });
    const outcome = await server.dial({
      uri: 'sip:bob@example.invalid',
      proxy: `sip:127.0.0.1:${run.port}`,
      auth: { username: 'alice', password: 'wrong' },
      timeoutMs: 5000,
      local: LOCAL,
    });
    expect(outcome).toMatchObject({ status: 'failed', code: 403 });
    // sipp ends its call once the 403 is acknowledged.
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(0);
  });

  it('fails cleanly on a URI that is not SIP and on an unreachable host', async () => {
    expect(await server.dial({ uri: 'http://example.com', timeoutMs: 1000, local: LOCAL })).toMatchObject({
      status: 'failed',
    });
    expect(() => server.dialTarget('mailto:bob@example.com')).toThrow(/not a SIP URI/);
  });
});
