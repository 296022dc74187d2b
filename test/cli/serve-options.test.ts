import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  engineTuningFrom,
  parseCodecs,
  parseDnsServers,
  parseRtpPorts,
  parseSipTls,
  sipLimitsFrom,
} from '../../src/cli/commands/serve.js';
import { UsageError } from '../../src/cli/io.js';

const CERTS = path.resolve(import.meta.dirname, '../fixtures/tls');

describe('parley serve options', () => {
  it('reads DNS servers, with optional ports, and refuses names', () => {
    expect(parseDnsServers([])).toEqual([]);
    expect(parseDnsServers(['10.0.0.53', '127.0.0.1:5353', '[::1]:53', '2001:db8::53'])).toEqual([
      '10.0.0.53',
      '127.0.0.1:5353',
      '[::1]:53',
      '2001:db8::53',
    ]);
    expect(() => parseDnsServers(['dns.example.com'])).toThrow(
      /--dns-server: "dns.example.com" is not an IP address/,
    );
    expect(() => parseDnsServers(['127.0.0.1:99999'])).toThrow(/--dns-server: "99999" is not a port number/);
  });

  it('reads the SIP over TLS files, naming the flag at fault', () => {
    expect(parseSipTls({})).toBeUndefined();
    const cert = path.join(CERTS, 'server.pem');
    const key = path.join(CERTS, 'server-key.pem');
    const tls = parseSipTls({ sipTlsPort: '5061', sipTlsCert: cert, sipTlsKey: key });
    expect(tls?.port).toBe(5061);
    expect(tls?.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(tls?.key.toString()).toContain('PRIVATE KEY');
    expect(tls?.ca).toBeUndefined();
    expect(() => parseSipTls({ sipTlsCert: cert })).toThrow(/--sip-tls-cert needs --sip-tls-port/);
    expect(() => parseSipTls({ sipTlsPort: '5061', sipTlsCert: cert })).toThrow(
      /--sip-tls-port needs --sip-tls-cert FILE and --sip-tls-key FILE/,
    );
    expect(() => parseSipTls({ sipTlsPort: '70000', sipTlsCert: cert, sipTlsKey: key })).toThrow(
      /--sip-tls-port: "70000" is not a port number/,
    );
    expect(() => parseSipTls({ sipTlsPort: '5061', sipTlsCert: key, sipTlsKey: key })).toThrow(
      /--sip-tls-cert: .*server-key\.pem holds no PEM certificate/,
    );
    expect(() => parseSipTls({ sipTlsPort: '5061', sipTlsCert: cert, sipTlsKey: cert })).toThrow(
      /--sip-tls-key: .*server\.pem holds no PEM private key/,
    );
    expect(() =>
      parseSipTls({ sipTlsPort: '5061', sipTlsCert: cert, sipTlsKey: key, sipTlsCa: '/no/such/ca.pem' }),
    ).toThrow(/--sip-tls-ca: cannot read \/no\/such\/ca\.pem/);
  });

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
