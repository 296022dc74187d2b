import { describe, expect, it } from 'vitest';
import { engineTuningFrom, parseCodecs, parseRtpPorts, sipLimitsFrom } from '../../src/cli/commands/serve.js';
import { UsageError } from '../../src/cli/io.js';

describe('parley serve options', () => {
  it('reads an RTP port range and refuses nonsense with the flag named', () => {
    expect(parseRtpPorts('20000-29999')).toEqual({ portMin: 20000, portMax: 29999 });
    expect(() => parseRtpPorts('29999-20000')).toThrow(
      /--rtp-ports: 29999-20000 must be an increasing range/,
    );
    expect(() => parseRtpPorts('80-90')).toThrow(UsageError);
    expect(() => parseRtpPorts('lots')).toThrow(/not a range like 20000-29999/);
  });

  it('reads a codec preference list', () => {
    expect(parseCodecs('G722, pcmu')).toEqual(['g722', 'pcmu']);
    expect(() => parseCodecs('pcmu,gsm')).toThrow(/unknown codec "gsm"/);
  });

  it('reads the media engine thread settings, refusing values out of range', () => {
    expect(engineTuningFrom({ rtPriority: '0', sendSpread: '0', tickSpin: '0' })).toEqual({
      realtimePriority: 0,
      sendSpreadMs: 0,
      tickSpinUs: 0,
    });
    expect(engineTuningFrom({ rtPriority: '10', sendSpread: '8', tickSpin: '1500' })).toEqual({
      realtimePriority: 10,
      sendSpreadMs: 8,
      tickSpinUs: 1500,
    });
    const base = { rtPriority: '0', sendSpread: '0', tickSpin: '0' };
    expect(() => engineTuningFrom({ ...base, sendSpread: '16' })).toThrow(
      /--send-spread: "16" is not a whole number from 0 to 15/,
    );
    expect(() => engineTuningFrom({ ...base, tickSpin: '-1' })).toThrow(/--tick-spin: "-1"/);
    expect(() => engineTuningFrom({ ...base, rtPriority: '100' })).toThrow(/--rt-priority/);
  });

  it('turns the SIP limit flags into guard limits, leaving the rest to the defaults', () => {
    expect(sipLimitsFrom({})).toEqual({});
    expect(
      sipLimitsFrom({
        maxCalls: '200',
        maxCallsPerSource: '20',
        sipRate: '50',
        sipTrusted: '10.0.0.1, 10.0.0.2',
      }),
    ).toEqual({
      maxDialogs: 200,
      maxDialogsPerSource: 20,
      transactionsPerSecond: 50,
      transactionBurst: 100,
      rateLimitExempt: ['10.0.0.1', '10.0.0.2'],
    });
    expect(() => sipLimitsFrom({ maxCalls: '0' })).toThrow(/--max-calls: "0" is not a whole number from 1/);
    expect(() => sipLimitsFrom({ maxCallsPerSource: 'many' })).toThrow(/--max-calls-per-source: "many"/);
    expect(() => sipLimitsFrom({ sipTrusted: 'trunk.example.com' })).toThrow(/not an IP address/);
  });
});
