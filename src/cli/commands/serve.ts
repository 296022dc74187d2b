import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import pino from 'pino';
import type { HttpOptions } from '../../api/control-plane.js';
import { type ApiToken, parseTokens } from '../../api/tokens.js';
import { ConfigError, ParleyServer } from '../../runtime/live/server.js';
import type { CodecPref } from '../../sip/sdp.js';
import type { TlsOptions } from '../../sip/transport.js';
import { PARLEY_VERSION } from '../../version.js';
import { type CliIO, EXIT_INVALID, EXIT_OK, UsageError } from '../io.js';

export interface ServeCliOptions {
  address: string;
  advertise?: string;
  sipPort: string;
  tcp: boolean;
  sipTlsPort?: string;
  sipTlsCert?: string;
  sipTlsKey?: string;
  sipTlsCa?: string;
  dnsServer: string[];
  rtpPorts: string;
  recordings: string;
  latching?: boolean;
  codecs?: string;
  logLevel: string;
  /** `host:port` or `none`. */
  http: string;
  httpToken: string[];
  httpInsecure?: boolean;
  watch: boolean;
  drain: string;
  rtPriority: string;
  sendSpread: string;
  tickSpin: string;
  maxCalls?: string;
  maxCallsPerSource?: string;
  sipRate?: string;
  sipTrusted?: string;
}

function count(text: string, what: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${what}: "${text}" is not a whole number from ${min} to ${max}`);
  return n;
}

/** The media engine's thread settings from --rt-priority, --send-spread and --tick-spin. */
export function engineTuningFrom(opts: Pick<ServeCliOptions, 'rtPriority' | 'sendSpread' | 'tickSpin'>) {
  return {
    realtimePriority: count(opts.rtPriority, '--rt-priority', 0, 99),
    sendSpreadMs: count(opts.sendSpread, '--send-spread', 0, 15),
    tickSpinUs: count(opts.tickSpin, '--tick-spin', 0, 5000),
  };
}

/** SIP guard limits from the flags that set them; the rest keep their defaults. */
export function sipLimitsFrom(
  opts: Pick<ServeCliOptions, 'maxCalls' | 'maxCallsPerSource' | 'sipRate' | 'sipTrusted'>,
) {
  const limits: {
    maxDialogs?: number;
    maxDialogsPerSource?: number;
    transactionsPerSecond?: number;
    transactionBurst?: number;
    rateLimitExempt?: string[];
  } = {};
  if (opts.maxCalls !== undefined) limits.maxDialogs = count(opts.maxCalls, '--max-calls', 1, 1_000_000);
  if (opts.maxCallsPerSource !== undefined)
    limits.maxDialogsPerSource = count(opts.maxCallsPerSource, '--max-calls-per-source', 1, 1_000_000);
  if (opts.sipRate !== undefined) {
    limits.transactionsPerSecond = count(opts.sipRate, '--sip-rate', 1, 100_000);
    limits.transactionBurst = limits.transactionsPerSecond * 2;
  }
  if (opts.sipTrusted !== undefined) {
    const list = opts.sipTrusted
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean);
    for (const a of list)
      if (isIP(a) === 0) throw new UsageError(`--sip-trusted: "${a}" is not an IP address`);
    limits.rateLimitExempt = list;
  }
  return limits;
}

function seconds(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 3600)
    throw new UsageError(`${what}: "${text}" is not a number of seconds (0-3600)`);
  return n;
}

const CODECS: readonly CodecPref[] = ['opus', 'g722', 'pcmu', 'pcma', 'l16'];

function port(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`${what}: "${text}" is not a port number`);
  return n;
}

export function parseRtpPorts(text: string): { portMin: number; portMax: number } {
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--rtp-ports: "${text}" is not a range like 20000-29999`);
  const portMin = port(m[1] ?? '', '--rtp-ports');
  const portMax = port(m[2] ?? '', '--rtp-ports');
  if (portMin < 1024 || portMax <= portMin)
    throw new UsageError(`--rtp-ports: ${text} must be an increasing range above 1023`);
  return { portMin, portMax };
}

export function parseCodecs(text: string): CodecPref[] {
  const list = text
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter(Boolean);
  for (const c of list)
    if (!CODECS.includes(c as CodecPref))
      throw new UsageError(`--codecs: unknown codec "${c}" (known: ${CODECS.join(', ')})`);
  if (list.length === 0) throw new UsageError('--codecs: name at least one codec');
  return list as CodecPref[];
}

/** `--sip-tls-port`, `--sip-tls-cert`, `--sip-tls-key`, `--sip-tls-ca` → SIP over TLS (undefined: none). */
export function parseSipTls(
  opts: Pick<ServeCliOptions, 'sipTlsPort' | 'sipTlsCert' | 'sipTlsKey' | 'sipTlsCa'>,
): TlsOptions | undefined {
  if (opts.sipTlsPort === undefined) {
    const stray = (['sipTlsCert', 'sipTlsKey', 'sipTlsCa'] as const).find((k) => opts[k] !== undefined);
    if (stray)
      throw new UsageError(
        `--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --sip-tls-port (SIP over TLS is off)`,
      );
    return undefined;
  }
  const tlsPort = port(opts.sipTlsPort, '--sip-tls-port');
  if (!opts.sipTlsCert || !opts.sipTlsKey)
    throw new UsageError('--sip-tls-port needs --sip-tls-cert FILE and --sip-tls-key FILE (PEM)');
  const pem = (file: string, flag: string, what: 'certificate' | 'private key'): Buffer => {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (err) {
      throw new UsageError(
        `${flag}: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const marker =
      what === 'certificate' ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
    if (!marker.test(data.toString('latin1'))) throw new UsageError(`${flag}: ${file} holds no PEM ${what}`);
    return data;
  };
  return {
    port: tlsPort,
    cert: pem(opts.sipTlsCert, '--sip-tls-cert', 'certificate'),
    key: pem(opts.sipTlsKey, '--sip-tls-key', 'private key'),
    ...(opts.sipTlsCa ? { ca: pem(opts.sipTlsCa, '--sip-tls-ca', 'certificate') } : {}),
  };
}

/** `--dns-server` values (`IP`, `IP:PORT`, `[IPv6]:PORT`), checked; none means the system's resolver. */
export function parseDnsServers(list: readonly string[]): string[] {
  return list.map((text) => {
    const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(text.trim());
    const host = m?.[1] ?? m?.[2] ?? (isIP(text.trim()) === 6 ? text.trim() : undefined);
    if (!host || !isIP(host))
      throw new UsageError(`--dns-server: "${text}" is not an IP address (with an optional :port)`);
    if (m?.[3] !== undefined) port(m[3], '--dns-server');
    return text.trim();
  });
}

/** `--http`, `--http-token`, PARLEY_TOKENS and `--http-insecure` → the API's options (undefined: no API). */
export function parseHttp(
  opts: Pick<ServeCliOptions, 'http' | 'httpToken' | 'httpInsecure'>,
  env: NodeJS.ProcessEnv,
): HttpOptions | undefined {
  if (opts.http === 'none') return undefined;
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(opts.http.trim());
  if (!m) throw new UsageError(`--http: "${opts.http}" is not host:port (or none)`);
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '');
  const httpPort = port(m[2] ?? '', '--http');
  let tokens: ApiToken[];
  try {
    tokens = parseTokens([...opts.httpToken, env.PARLEY_TOKENS ?? '']);
  } catch (err) {
    throw new UsageError(`--http-token / PARLEY_TOKENS: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (opts.httpInsecure && !['127.0.0.1', '::1', 'localhost'].includes(host))
    throw new UsageError(`--http-insecure: only on a loopback address, not ${host}`);
  if (tokens.length === 0 && !opts.httpInsecure)
    throw new UsageError(
      'the HTTP API needs a token: --http-token TOKEN[:read,control] (or PARLEY_TOKENS="TOKEN:read,control ..."); ' +
        '--http none runs without the API; --http-insecure runs it without tokens on 127.0.0.1 for development',
    );
  return { host, port: httpPort, tokens, anonymous: tokens.length === 0 };
}

/**
 * `parley serve [paths...]`: compiles the configuration, starts the media engine and
 * the SIP server, and serves calls until SIGTERM or SIGINT, then stops gracefully
 * (new calls refused with 503, conferences ended, recordings closed).
 */
export async function serveCommand(paths: string[], opts: ServeCliOptions, io: CliIO): Promise<number> {
  const sipPort = port(opts.sipPort, '--sip-port');
  const rtp = parseRtpPorts(opts.rtpPorts);
  const codecs = opts.codecs ? parseCodecs(opts.codecs) : undefined;
  const drainMs = seconds(opts.drain, '--drain') * 1000;
  const tuning = engineTuningFrom(opts);
  const sipLimits = sipLimitsFrom(opts);
  const sipTls = parseSipTls(opts);
  const dnsServers = parseDnsServers(opts.dnsServer ?? []);
  const http = parseHttp(opts, process.env);
  const logger = pino({ level: opts.logLevel, base: undefined });
  let server: ParleyServer;
  try {
    server = await ParleyServer.start({
      config: paths,
      sip: {
        address: opts.address,
        udpPort: sipPort,
        tcpPort: opts.tcp ? sipPort : false,
        ...(sipTls ? { tls: sipTls } : {}),
        ...(dnsServers.length > 0 ? { dnsServers } : {}),
        ...(opts.advertise ? { advertise: opts.advertise } : {}),
        limits: sipLimits,
      },
      rtp: {
        address: opts.address,
        ...rtp,
        ...(opts.advertise ? { advertise: opts.advertise } : {}),
        latching: opts.latching ?? false,
        ...tuning,
      },
      recordings: opts.recordings,
      ...(codecs ? { codecs } : {}),
      logger,
      ...(http ? { http } : {}),
      watch: opts.watch,
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`parley serve: ${err.message}`);
      return EXIT_INVALID;
    }
    io.err(`parley serve: cannot start: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_INVALID;
  }
  io.err(
    `parley ${PARLEY_VERSION}: serving ${server.set.conferences.length} conference(s) from ${paths.join(' ')}; ` +
      `SIP on ${opts.advertise ?? opts.address}:${server.sip.udpPort} (UDP${opts.tcp ? ' and TCP' : ''})` +
      (sipTls ? ` and ${server.sip.tlsPort} (TLS)` : '') +
      '; ' +
      `RTP ${rtp.portMin}-${rtp.portMax}; recordings in ${opts.recordings}` +
      (server.control?.address
        ? `; HTTP API on http://${server.control.address.host}:${server.control.address.port}/ (OpenAPI at /docs)`
        : '') +
      `. Reload${sipTls ? ' (configuration and TLS certificate)' : ''} with SIGHUP; stop with Ctrl-C.`,
  );
  const hup = () => {
    void server.control?.config.reload('signal');
    // A renewed certificate is read again too; a broken one leaves the old one serving.
    if (!sipTls) return;
    try {
      const renewed = parseSipTls(opts);
      if (renewed) server.sip.updateTls(renewed);
      logger.info({ cert: opts.sipTlsCert }, 'sip tls certificate reloaded');
    } catch (err) {
      logger.error(
        { err: err instanceof Error ? err.message : String(err) },
        'sip tls certificate not reloaded; the old one stays in use',
      );
    }
  };
  process.on('SIGHUP', hup);
  await new Promise<void>((resolve) => {
    let stopping: ReturnType<ParleyServer['stop']> | undefined;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second signal: stop waiting for calls to end.
        logger.warn({ signal }, 'stopping now');
        stopping.force();
        return;
      }
      logger.info({ signal, drainMs }, 'stopping: new calls refused');
      stopping = server.stop(signal, drainMs);
      void stopping.done.finally(() => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        process.off('SIGHUP', hup);
        resolve();
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return EXIT_OK;
}
