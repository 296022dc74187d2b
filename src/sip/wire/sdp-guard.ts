/**
 * SDP from the network through sdp-transform without risk: the package's parser is a set of
 * per-line regular expressions that never validates, and some of its patterns backtrack badly on
 * long hostile lines. parseSdpSafe bounds the input first, checks the line structure and the fields
 * Parley reads, and never throws.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const sdpTransform = require('sdp-transform') as { parse(text: string): unknown };

export interface SdpGuardLimits {
  maxBytes: number;
  maxLines: number;
  maxLineLength: number;
  maxMediaSections: number;
}

export const DEFAULT_SDP_LIMITS: Readonly<SdpGuardLimits> = Object.freeze({
  maxBytes: 32 * 1024,
  maxLines: 1000,
  maxLineLength: 4096,
  maxMediaSections: 16,
});

/** The fields checked here; everything else sdp-transform produces is passed through untyped. */
export interface SafeSdpMedia {
  type: string;
  port: number;
  protocol: string;
  payloads: string;
  rtp: Array<{ payload: number; codec: string; rate?: number; encoding?: number | string }>;
  fmtp: Array<{ payload: number; config: string }>;
  connection?: { version: number; ip: string };
  [key: string]: unknown;
}

export interface SafeSdp {
  version: number;
  connection?: { version: number; ip: string };
  media: SafeSdpMedia[];
  [key: string]: unknown;
}

export type SdpVerdict = { ok: true; sdp: SafeSdp } | { ok: false; reason: string };

const LINE = /^[a-z]=/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkConnection(c: unknown): boolean {
  return c === undefined || (isObject(c) && typeof c.ip === 'string' && (c.version === 4 || c.version === 6));
}

function checkMedia(m: unknown): m is SafeSdpMedia {
  if (!isObject(m)) return false;
  if (typeof m.type !== 'string' || typeof m.protocol !== 'string') return false;
  if (!Number.isInteger(m.port) || (m.port as number) < 0 || (m.port as number) > 65535) return false;
  // sdp-transform turns a single payload into a number; Parley reads a string list.
  if (typeof m.payloads === 'number') m.payloads = String(m.payloads);
  if (typeof m.payloads !== 'string') return false;
  if (!Array.isArray(m.rtp) || !Array.isArray(m.fmtp)) return false;
  for (const r of m.rtp) {
    if (!isObject(r) || !Number.isInteger(r.payload) || typeof r.codec !== 'string') return false;
  }
  for (const f of m.fmtp) {
    if (!isObject(f) || !Number.isInteger(f.payload)) return false;
    if (typeof f.config !== 'string') f.config = String(f.config ?? '');
  }
  return checkConnection(m.connection);
}

export function parseSdpSafe(text: string, limits: Partial<SdpGuardLimits> = {}): SdpVerdict {
  const lim = { ...DEFAULT_SDP_LIMITS, ...limits };
  try {
    if (typeof text !== 'string') return { ok: false, reason: 'not text' };
    if (text.length > lim.maxBytes) return { ok: false, reason: 'SDP too large' };
    const lines = text.split(/\r\n|\r|\n/);
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    if (lines.length > lim.maxLines) return { ok: false, reason: 'too many SDP lines' };
    if (lines[0] !== 'v=0') return { ok: false, reason: 'SDP must start with v=0' };
    let media = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line.length > lim.maxLineLength) return { ok: false, reason: `SDP line ${i + 1} too long` };
      if (!LINE.test(line)) return { ok: false, reason: `malformed SDP line ${i + 1}` };
      if (line.startsWith('m=') && ++media > lim.maxMediaSections)
        return { ok: false, reason: 'too many media sections' };
    }
    const parsed = sdpTransform.parse(lines.join('\r\n'));
    if (!isObject(parsed) || parsed.version !== 0 || !Array.isArray(parsed.media)) {
      return { ok: false, reason: 'SDP without version or media list' };
    }
    if (!checkConnection(parsed.connection)) return { ok: false, reason: 'malformed c= line' };
    for (let i = 0; i < parsed.media.length; i++) {
      if (!checkMedia(parsed.media[i])) return { ok: false, reason: `malformed media section ${i + 1}` };
    }
    return { ok: true, sdp: parsed as SafeSdp };
  } catch (e) {
    return { ok: false, reason: `internal error: ${e instanceof Error ? e.message : String(e)}` };
  }
}
