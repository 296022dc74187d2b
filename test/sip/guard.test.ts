/** The SIP guard's limiters on a virtual clock. */
import { describe, expect, it } from 'vitest';
import {
  ConnectionClock,
  ConnectionLimiter,
  DEFAULT_SIP_LIMITS,
  DialogLimiter,
  framerLimits,
  resolveSipLimits,
  startsTransaction,
  TokenBucket,
  TransactionRateLimiter,
} from '../../src/sip/guard/index.js';
import { parseDatagram, type SipRequest } from '../../src/sip/wire/index.js';

function virtualClock(start = 1_000_000): {
  now: () => number;
  advance: (ms: number) => void;
  set: (t: number) => void;
} {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (v) => {
      t = v;
    },
  };
}

describe('SipLimits', () => {
  it('has the documented defaults and overlays overrides', () => {
    const l = resolveSipLimits({ maxDialogs: 5, rateLimitExempt: ['192.0.2.9'] });
    expect(l.maxDialogs).toBe(5);
    expect(l.rateLimitExempt).toEqual(['192.0.2.9']);
    expect(l.maxMessageBytes).toBe(DEFAULT_SIP_LIMITS.maxMessageBytes);
    expect(framerLimits(l)).toEqual({
      maxMessageBytes: 65536,
      maxHeaderBytes: 16384,
      maxBufferedBytes: 131072,
    });
  });

  it.each([
    [{ maxDialogs: 0 }, /maxDialogs/],
    [{ maxDialogs: 2.5 }, /whole number/],
    [{ transactionsPerSecond: Number.NaN }, /transactionsPerSecond/],
    [{ idleTimeoutMs: -1 }, /idleTimeoutMs/],
    [{ maxHeaderBytes: 100_000 }, /maxHeaderBytes/],
    [{ maxBufferedBytes: 1000 }, /maxBufferedBytes/],
  ])('refuses %j', (overrides, message) => {
    expect(() => resolveSipLimits(overrides)).toThrow(message);
  });

  it('allows fractional rates', () => {
    expect(resolveSipLimits({ transactionsPerSecond: 0.5 }).transactionsPerSecond).toBe(0.5);
  });
});

describe('TokenBucket', () => {
  it('refills at its rate up to its burst and survives a clock stepping back', () => {
    const b = new TokenBucket(2, 3, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.secondsUntilToken(0)).toBe(1);
    expect(b.take(499)).toBe(false);
    expect(b.take(500)).toBe(true);
    expect(b.take(-10_000)).toBe(false);
    expect(b.isFull(10_000)).toBe(true);
  });
});

describe('TransactionRateLimiter', () => {
  const base = { ...DEFAULT_SIP_LIMITS, transactionsPerSecond: 2, transactionBurst: 4 };

  it('lets a burst through, then answers 503 with Retry-After, and recovers with time', () => {
    const clock = virtualClock();
    const rl = new TransactionRateLimiter(base, clock.now);
    const verdicts = Array.from({ length: 6 }, () => rl.admit('192.0.2.1'));
    expect(verdicts.map((v) => v.kind)).toEqual(['allow', 'allow', 'allow', 'allow', 'reject', 'reject']);
    expect(verdicts[4]).toEqual({
      kind: 'reject',
      status: 503,
      reason: 'Service Unavailable',
      retryAfter: 1,
      scope: 'source',
    });
    expect(rl.admit('192.0.2.2').kind).toBe('allow');
    clock.advance(500);
    expect(rl.admit('192.0.2.1').kind).toBe('allow');
    expect(rl.admit('192.0.2.1').kind).toBe('reject');
    clock.advance(10_000);
    expect(Array.from({ length: 4 }, () => rl.admit('192.0.2.1').kind)).toEqual([
      'allow',
      'allow',
      'allow',
      'allow',
    ]);
  });

  it('gives a longer Retry-After for a slow rate', () => {
    const clock = virtualClock();
    const rl = new TransactionRateLimiter(
      { ...base, transactionsPerSecond: 0.1, transactionBurst: 1 },
      clock.now,
    );
    rl.admit('a');
    const v = rl.admit('a');
    expect(v.kind === 'reject' && v.retryAfter).toBe(10);
  });

  it('caps all sources together', () => {
    const clock = virtualClock();
    const rl = new TransactionRateLimiter(
      { ...base, globalTransactionsPerSecond: 1, globalTransactionBurst: 3 },
      clock.now,
    );
    const kinds = ['a', 'b', 'c', 'd'].map((s) => rl.admit(s));
    expect(kinds.map((v) => v.kind)).toEqual(['allow', 'allow', 'allow', 'reject']);
    expect(kinds[3]?.kind === 'reject' && kinds[3].scope).toBe('global');
    // A globally refused request does not cost its source a token.
    clock.advance(1000);
    expect(Array.from({ length: 1 }, () => rl.admit('d').kind)).toEqual(['allow']);
  });

  it('never limits exempt sources', () => {
    const clock = virtualClock();
    const rl = new TransactionRateLimiter({ ...base, rateLimitExempt: ['10.0.0.1'] }, clock.now);
    expect(Array.from({ length: 100 }, () => rl.admit('10.0.0.1').kind).every((k) => k === 'allow')).toBe(
      true,
    );
  });

  it('remembers at most maxTrackedSources sources, forgetting full buckets first', () => {
    const clock = virtualClock();
    const rl = new TransactionRateLimiter(
      { ...base, maxTrackedSources: 100, globalTransactionBurst: 1e9, globalTransactionsPerSecond: 1e9 },
      clock.now,
    );
    for (let i = 0; i < 10_000; i++) rl.admit(`198.51.${i >> 8}.${i & 255}`);
    expect(rl.trackedSources).toBeLessThanOrEqual(100);
    // A drained source stays remembered when the others are full (refilled) buckets.
    const busy = '203.0.113.7';
    for (let i = 0; i < 4; i++) rl.admit(busy);
    expect(rl.admit(busy).kind).toBe('reject');
    clock.advance(5_000);
    for (let i = 0; i < 4; i++) rl.admit(busy);
    clock.advance(1_000); // the others are full again; busy has refilled only 2 of 4
    for (let i = 0; i < 99; i++) rl.admit(`192.0.2.${i}`);
    expect(rl.trackedSources).toBeLessThanOrEqual(100);
    expect(rl.admit(busy).kind).toBe('allow');
    expect(rl.admit(busy).kind).toBe('allow');
    expect(rl.admit(busy).kind).toBe('reject');
  });

  it('counts only requests that start a transaction', () => {
    const req = (method: string, toTag?: string): SipRequest => {
      const to = toTag ? `<sip:b@x>;tag=${toTag}` : '<sip:b@x>';
      const v = parseDatagram(
        Buffer.from(
          `${method} sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: ${to}\r\nCall-ID: c\r\nCSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`,
        ),
      );
      if (v.kind !== 'message' || !('method' in v.message)) throw new Error('bad fixture');
      return v.message;
    };
    expect(startsTransaction(req('INVITE'))).toBe(true);
    expect(startsTransaction(req('REGISTER'))).toBe(true);
    expect(startsTransaction(req('OPTIONS'))).toBe(true);
    expect(startsTransaction(req('SUBSCRIBE'))).toBe(true);
    expect(startsTransaction(req('INVITE', 'x'))).toBe(false);
    expect(startsTransaction(req('BYE', 'x'))).toBe(false);
    expect(startsTransaction(req('ACK'))).toBe(false);
    expect(startsTransaction(req('CANCEL'))).toBe(false);
  });
});

describe('DialogLimiter', () => {
  const limits = {
    maxDialogs: 2,
    maxDialogsPerSource: 100,
    dialogRetryAfterSeconds: 30,
    rateLimitExempt: [],
  };

  it('caps concurrent dialogs and counts each id once', () => {
    const d = new DialogLimiter(limits);
    expect(d.opened('a', '10.0.0.1')).toBe(true);
    expect(d.opened('a', '10.0.0.1')).toBe(true);
    expect(d.opened('b', '10.0.0.2')).toBe(true);
    expect(d.count).toBe(2);
    expect(d.check('10.0.0.3')).toEqual({
      kind: 'reject',
      status: 503,
      reason: 'Service Unavailable',
      retryAfter: 30,
      cap: 'total',
    });
    expect(d.opened('c', '10.0.0.3')).toBe(false);
    d.closed('a');
    d.closed('a');
    d.closed('never-opened');
    expect(d.count).toBe(1);
    expect(d.check('10.0.0.3').kind).toBe('allow');
    expect(d.opened('c', '10.0.0.3')).toBe(true);
  });

  it('caps the dialogs of one source, except trusted ones, and frees a slot when one ends', () => {
    const d = new DialogLimiter({
      ...limits,
      maxDialogs: 10,
      maxDialogsPerSource: 2,
      rateLimitExempt: ['10.0.0.9'],
    });
    expect(['a', 'b', 'c'].map((id) => d.opened(id, '10.0.0.1'))).toEqual([true, true, false]);
    expect(d.countFrom('10.0.0.1')).toBe(2);
    expect(d.check('10.0.0.1')).toMatchObject({ kind: 'reject', cap: 'source' });
    // Another address is not held back by the first one's calls.
    expect(d.check('10.0.0.2').kind).toBe('allow');
    // A trusted trunk carries many callers.
    expect(['t1', 't2', 't3', 't4'].map((id) => d.opened(id, '10.0.0.9'))).toEqual([true, true, true, true]);
    d.closed('a');
    expect(d.countFrom('10.0.0.1')).toBe(1);
    expect(d.opened('c', '10.0.0.1')).toBe(true);
    expect(d.count).toBe(6);
  });
});

describe('ConnectionLimiter', () => {
  it('caps connections per source and in total', () => {
    const c = new ConnectionLimiter({ maxConnectionsPerSource: 2, maxConnections: 3 });
    expect(['a', 'a', 'a'].map((s) => c.accept(s).kind)).toEqual(['allow', 'allow', 'refuse']);
    expect(c.accept('a')).toEqual({ kind: 'refuse', reason: 'source' });
    expect(c.accept('b').kind).toBe('allow');
    expect(c.accept('c')).toEqual({ kind: 'refuse', reason: 'total' });
    c.release('a');
    expect(c.countFrom('a')).toBe(1);
    expect(c.accept('c').kind).toBe('allow');
    c.release('zzz');
    expect(c.count).toBe(3);
  });
});

describe('ConnectionClock', () => {
  const limits = { idleTimeoutMs: 60_000, messageTimeoutMs: 5_000 };

  it('expires an idle connection; any received chunk resets it', () => {
    const clock = virtualClock();
    const c = new ConnectionClock(limits, clock.now);
    expect(c.nextDeadline()).toBe(clock.now() + 60_000);
    clock.advance(59_999);
    expect(c.expired()).toBeUndefined();
    c.received(false, 1);
    clock.advance(59_999);
    expect(c.expired()).toBeUndefined();
    clock.advance(1);
    expect(c.expired()).toBe('idle');
  });

  it('expires a slow sender (slowloris) even while bytes keep trickling in', () => {
    const clock = virtualClock();
    const c = new ConnectionClock(limits, clock.now);
    const start = clock.now();
    c.received(true, 0);
    expect(c.nextDeadline()).toBe(start + 5_000);
    for (let i = 0; i < 4; i++) {
      clock.advance(1_000);
      c.received(true, 0);
      expect(c.expired()).toBeUndefined();
    }
    clock.advance(1_000);
    expect(c.expired()).toBe('slow');
  });

  it('restarts the message clock when a message completes and the next begins', () => {
    const clock = virtualClock();
    const c = new ConnectionClock(limits, clock.now);
    c.received(true, 0);
    clock.advance(4_000);
    c.received(true, 1);
    clock.advance(4_000);
    expect(c.expired()).toBeUndefined();
    c.received(false, 1);
    clock.advance(10_000);
    expect(c.expired()).toBeUndefined();
  });
});
