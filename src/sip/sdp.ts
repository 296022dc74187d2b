/**
 * SDP offer/answer (RFC 3264, RFC 4566) for one audio stream, media-agnostic: the local
 * RTP address and port always come from the caller; this module only decides what is
 * said in SDP and which codec the two sides agreed on.
 */
import { isIP } from 'node:net';
import {
  parseSdpText,
  type SdpMediaSection,
  type SdpSessionDescription,
  writeSdpText,
} from './sdp-transform.js';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** Codec names as the media engine knows them (src/media CodecName). */
export type CodecPref = 'opus' | 'g722' | 'pcmu' | 'pcma' | 'l16';

export const DEFAULT_CODEC_PREFS: readonly CodecPref[] = ['opus', 'g722', 'pcmu', 'pcma'];

export interface Codec {
  payloadType: number;
  /** As written in SDP (`PCMU`, `opus`, `telephone-event`). */
  name: string;
  /** RTP clock rate as written in SDP (G.722 says 8000). */
  rate: number;
  channels: number;
  fmtp?: string;
}

export interface TelephoneEvent {
  payloadType: number;
  rate: number;
}

/** What the far end said about its audio stream. */
export interface RemoteMedia {
  address: string;
  port: number;
  rtcpPort: number;
  rtcpMux: boolean;
  /** From the far end's point of view; `c=0.0.0.0` (RFC 2543 hold) reads as not receiving. */
  direction: Direction;
  ptime?: number;
  codecs: Codec[];
  /** The first telephone-event offered. */
  telephoneEvent?: TelephoneEvent;
  /** Every telephone-event offered (one per clock rate, RFC 4733 2.1). */
  telephoneEvents: TelephoneEvent[];
}

/** What the caller of the SIP API brings: its own RTP endpoint and wishes. */
export interface LocalMedia {
  address: string;
  port: number;
  /** Preference order for this call; defaults to the server's. */
  codecs?: readonly CodecPref[];
  /** Our wish (`sendonly` to put the peer on hold); defaults to sendrecv. */
  direction?: Direction;
  /** Packetisation we send with and ask for; defaults to 20 ms. */
  ptime?: number;
  /** Accept or offer rtcp-mux; defaults to true. */
  rtcpMux?: boolean;
}

/** The agreed media of a dialog, enough to configure an RTP endpoint. */
export interface NegotiatedMedia {
  remote: RemoteMedia;
  codec: Codec & { id: CodecPref };
  telephoneEvent?: TelephoneEvent;
  /** Our direction: whether we may send and should expect to receive. */
  direction: Direction;
  /** Packetisation the far end asked for (what we should send with). */
  ptime: number;
  rtcpMux: boolean;
}

/** Malformed (400) or unacceptable (488) SDP, with the offending line when there is one. */
export class SdpError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 488,
    readonly line?: number,
  ) {
    super(line === undefined ? message : `SDP line ${line}: ${message}`);
    this.name = 'SdpError';
  }
}

// ───────────────────────────── parsing ─────────────────────────────

/** RFC 3551 static payload types we may meet without an rtpmap. */
const STATIC_PAYLOADS: Record<number, { name: string; rate: number; channels: number }> = {
  0: { name: 'PCMU', rate: 8000, channels: 1 },
  3: { name: 'GSM', rate: 8000, channels: 1 },
  4: { name: 'G723', rate: 8000, channels: 1 },
  8: { name: 'PCMA', rate: 8000, channels: 1 },
  9: { name: 'G722', rate: 8000, channels: 1 },
  10: { name: 'L16', rate: 44100, channels: 2 },
  11: { name: 'L16', rate: 44100, channels: 1 },
  18: { name: 'G729', rate: 8000, channels: 1 },
};

const LINE_RULES: Record<string, { re: RegExp; what: string }> = {
  v: { re: /^0$/, what: 'v= must be 0' },
  o: {
    re: /^\S+ \S+ \d+ IN IP[46] \S+$/,
    what: 'o= needs "username sess-id sess-version IN IP4|IP6 address"',
  },
  c: { re: /^IN IP[46] [^\s/]+(\/\d+){0,2}$/, what: 'c= needs "IN IP4|IP6 address"' },
  m: { re: /^\S+ \d+(\/\d+)? \S+( \S+)+$/, what: 'm= needs "media port proto fmt..."' },
  t: { re: /^\d+ \d+$/, what: 't= needs "start stop"' },
};

const ATTRIBUTE_RULES: Record<string, { re: RegExp; what: string }> = {
  rtpmap: { re: /^\d{1,3} [^\s/]+\/\d+(\/\d+)?$/, what: 'a=rtpmap needs "pt name/rate[/channels]"' },
  fmtp: { re: /^\d{1,3} .*$/, what: 'a=fmtp needs "pt parameters"' },
  ptime: { re: /^\d+(\.\d+)?$/, what: 'a=ptime needs a number' },
  rtcp: { re: /^\d+( IN IP[46] \S+)?$/, what: 'a=rtcp needs a port' },
};

/** Line-level checks that sdp-transform does not make, so errors can name the line. */
function checkLines(text: string): void {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new SdpError('empty session description', 400);
  let seen = { v: false, o: false, s: false, t: false };
  // Attributes are held to our rules only where we read them: session level and audio sections.
  // A video section's odd rtpmap (RFC 4475 esc01: "a=rtpmap:31 LPC") is refused with port 0, not 400.
  let section = 'session';
  lines.forEach((line, index) => {
    const n = index + 1;
    const m = /^([a-z])=(.*)$/.exec(line);
    if (!m) throw new SdpError(`not "type=value": ${JSON.stringify(line.slice(0, 60))}`, 400, n);
    const type = m[1]!;
    const value = m[2]!;
    if (index === 0 && type !== 'v') throw new SdpError('the first line must be v=0', 400, n);
    const rule = LINE_RULES[type];
    if (rule && !rule.re.test(value)) throw new SdpError(rule.what, 400, n);
    if (type === 'm') {
      section = value.split(' ')[0]!;
      const port = Number(value.split(' ')[1]!.split('/')[0]);
      if (port > 65535) throw new SdpError(`port ${port} out of range`, 400, n);
    }
    if (type === 'a' && (section === 'session' || section === 'audio')) {
      const am = /^([\w-]+)(?::(.*))?$/.exec(value);
      if (!am) throw new SdpError('malformed attribute', 400, n);
      const arule = ATTRIBUTE_RULES[am[1]!];
      if (arule && !arule.re.test(am[2] ?? '')) throw new SdpError(arule.what, 400, n);
      if (am[1] === 'rtpmap' && Number(am[2]!.split(' ')[0]) > 127) {
        throw new SdpError('payload type above 127', 400, n);
      }
      if (am[1] === 'rtcp' && Number(am[2]!.split(' ')[0]) > 65535)
        throw new SdpError('a=rtcp port out of range', 400, n);
    }
    if (type in seen) seen = { ...seen, [type]: true };
  });
  for (const [type, present] of Object.entries(seen)) {
    if (!present) throw new SdpError(`missing ${type}= line`, 400);
  }
}

function codecsOf(section: SdpMediaSection): Codec[] {
  const payloads = String(section.payloads ?? '')
    .split(' ')
    .filter((p) => p !== '')
    .map(Number);
  const codecs: Codec[] = [];
  for (const pt of payloads) {
    if (!Number.isInteger(pt) || pt < 0 || pt > 127) continue;
    const map = section.rtp.find((r) => r.payload === pt);
    const fmtp = section.fmtp.find((f) => f.payload === pt)?.config;
    if (map) {
      // A clock rate of 0 is unusable (and would be written back without one): skipped, never guessed.
      if (map.rate === 0) continue;
      const channels = map.encoding === undefined ? 1 : Number(map.encoding) || 1;
      codecs.push({
        payloadType: pt,
        // sdp-transform turns an all-digit name ("a=rtpmap:18 729/8000") into a number.
        name: String(map.codec),
        rate: map.rate ?? 8000,
        channels,
        ...(fmtp ? { fmtp } : {}),
      });
    } else if (STATIC_PAYLOADS[pt]) {
      codecs.push({ payloadType: pt, ...STATIC_PAYLOADS[pt], ...(fmtp ? { fmtp } : {}) });
    }
    // A dynamic payload type without rtpmap is unusable; it is skipped, never guessed.
  }
  return codecs;
}

function isAudioRtp(section: SdpMediaSection): boolean {
  return section.type === 'audio' && /^RTP\/AVPF?$/i.test(section.protocol);
}

/** Index of the audio stream we use: the first RTP/AVP audio section with a port. */
function audioIndex(session: SdpSessionDescription): number {
  // sdp-transform leaves a port with leading zeros ("m=audio 000") a string: compare numbers.
  return session.media.findIndex((m) => isAudioRtp(m) && Number(m.port) !== 0);
}

/**
 * Parses an SDP body into the remote side of one audio stream. Throws SdpError: 400 when the
 * text is malformed, 488 when it is well-formed but offers nothing we can use.
 */
export function parseSdp(body: string | Buffer): RemoteMedia {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  checkLines(text);
  let session: SdpSessionDescription;
  try {
    session = parseSdpText(text);
  } catch (err) {
    throw new SdpError(`unparsable: ${(err as Error).message}`, 400);
  }
  const index = audioIndex(session);
  if (index < 0) {
    const srtp = session.media.some((m) => m.type === 'audio' && /SAVP/i.test(m.protocol));
    throw new SdpError(srtp ? 'only secure RTP (SAVP) audio is offered' : 'no active RTP audio stream', 488);
  }
  const section = session.media[index]!;
  // sdp-transform turns an all-digit address ("c=IN IP4 15") into a number: keep it a string.
  const address = String(section.connection?.ip ?? session.connection?.ip ?? '');
  if (!address) throw new SdpError('no connection address (c=) for the audio stream', 488);
  // Media goes to addresses, never resolved names: a host name would be answered and then left
  // silent, so it is refused here.
  if (isIP(address) === 0) throw new SdpError(`connection address ${address} is not an IP address`, 488);
  const codecs = codecsOf(section);
  const tes = codecs.filter((c) => c.name.toLowerCase() === 'telephone-event');
  const te = tes[0];
  let direction: Direction = section.direction ?? session.direction ?? 'sendrecv';
  if (address === '0.0.0.0' || address === '::') {
    // RFC 2543 hold: the far end does not want to receive.
    direction = direction === 'sendrecv' || direction === 'sendonly' ? 'sendonly' : 'inactive';
  }
  const rtcpMux = section.rtcpMux !== undefined;
  const port = Number(section.port);
  const rtcpPort = section.rtcp ? Number(section.rtcp.port) : undefined;
  return {
    address,
    port,
    // RTP on 65535 leaves no port for RTCP above it: 0, where nothing is sent (as the engine reads it).
    rtcpPort: rtcpPort ?? (rtcpMux ? port : port < 65535 ? port + 1 : 0),
    rtcpMux,
    direction,
    // a=ptime:0 asks for nothing usable: as if absent (20 ms).
    ...(Number(section.ptime) > 0 ? { ptime: Number(section.ptime) } : {}),
    codecs: codecs.filter((c) => !tes.includes(c)),
    ...(te ? { telephoneEvent: { payloadType: te.payloadType, rate: te.rate } } : {}),
    telephoneEvents: tes.map((t) => ({ payloadType: t.payloadType, rate: t.rate })),
  };
}

// ───────────────────────────── negotiation ─────────────────────────────

/** How each codec we know is written in SDP and the payload type we offer it with. */
const CODEC_TABLE: Record<
  CodecPref,
  { name: string; rates: number[]; channels: number; pt: number; fmtp?: string }
> = {
  opus: { name: 'opus', rates: [48000], channels: 2, pt: 111, fmtp: 'minptime=10;useinbandfec=1' },
  g722: { name: 'G722', rates: [8000], channels: 1, pt: 9 },
  pcmu: { name: 'PCMU', rates: [8000], channels: 1, pt: 0 },
  pcma: { name: 'PCMA', rates: [8000], channels: 1, pt: 8 },
  l16: { name: 'L16', rates: [16000, 8000, 48000], channels: 1, pt: 98 },
};

function codecId(codec: Codec): CodecPref | undefined {
  for (const [id, entry] of Object.entries(CODEC_TABLE) as [CodecPref, (typeof CODEC_TABLE)[CodecPref]][]) {
    if (entry.name.toLowerCase() !== codec.name.toLowerCase() || !entry.rates.includes(codec.rate)) continue;
    // Opus is always /48000/2 in SDP; the mono codecs must not be offered as stereo.
    if (id !== 'opus' && codec.channels !== 1) continue;
    return id;
  }
  return undefined;
}

function canSend(d: Direction): boolean {
  return d === 'sendrecv' || d === 'sendonly';
}
function canReceive(d: Direction): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}
function directionOf(send: boolean, receive: boolean): Direction {
  if (send && receive) return 'sendrecv';
  if (send) return 'sendonly';
  if (receive) return 'recvonly';
  return 'inactive';
}

/** Our direction in an answer: we send only if we want to and they receive, and the reverse. */
export function answerDirection(remote: Direction, local: Direction = 'sendrecv'): Direction {
  return directionOf(canSend(local) && canReceive(remote), canReceive(local) && canSend(remote));
}

/**
 * Picks the codec for an offer: our highest preference that the far end offers. Throws
 * SdpError 488 when none fits.
 */
export function chooseCodec(remote: RemoteMedia, prefs: readonly CodecPref[]): Codec & { id: CodecPref } {
  for (const pref of prefs) {
    const match = remote.codecs.find((c) => codecId(c) === pref);
    if (match) return { ...match, id: pref };
  }
  const offered = remote.codecs.map((c) => `${c.name}/${c.rate}`).join(', ') || 'none';
  throw new SdpError(`no codec in common (offered: ${offered}; accepted: ${prefs.join(', ')})`, 488);
}

/** The telephone-event at the codec's clock rate, else the first one offered. */
function partnerEvent(remote: RemoteMedia, codec: Codec): TelephoneEvent | undefined {
  return remote.telephoneEvents.find((t) => t.rate === codec.rate) ?? remote.telephoneEvent;
}

/** Negotiates an offer received from the far end against our local media. */
export function negotiateOffer(
  offer: RemoteMedia,
  local: LocalMedia,
  defaultPrefs: readonly CodecPref[] = DEFAULT_CODEC_PREFS,
): NegotiatedMedia {
  const codec = chooseCodec(offer, local.codecs ?? defaultPrefs);
  const te = partnerEvent(offer, codec);
  return {
    remote: offer,
    codec,
    ...(te ? { telephoneEvent: te } : {}),
    direction: answerDirection(offer.direction, local.direction),
    ptime: offer.ptime ?? 20,
    rtcpMux: offer.rtcpMux && local.rtcpMux !== false,
  };
}

/**
 * Reads the answer to an offer we made: the codec is the first of the answer's that we offered
 * (RFC 3264 6.1: the answerer lists what it will use first).
 */
export function acceptAnswer(offered: OfferedMedia, answer: RemoteMedia): NegotiatedMedia {
  for (const codec of answer.codecs) {
    const id = codecId(codec);
    const ours = offered.codecs.find((c) => c.payloadType === codec.payloadType || codecId(c) === id);
    if (id && ours) {
      return {
        remote: answer,
        codec: { ...codec, id },
        ...(partnerEvent(answer, codec) ? { telephoneEvent: partnerEvent(answer, codec)! } : {}),
        direction: answerDirection(answer.direction, offered.direction),
        ptime: answer.ptime ?? 20,
        rtcpMux: answer.rtcpMux && offered.rtcpMux,
      };
    }
  }
  throw new SdpError('the answer accepts none of the offered codecs', 488);
}

// ───────────────────────────── building ─────────────────────────────

/** What we put in an offer, kept to read the answer against. */
export interface OfferedMedia {
  codecs: Codec[];
  direction: Direction;
  rtcpMux: boolean;
}

function ipVersion(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

function codecFor(id: CodecPref): Codec {
  const entry = CODEC_TABLE[id];
  return {
    payloadType: entry.pt,
    name: entry.name,
    rate: entry.rates[0]!,
    channels: entry.channels,
    ...(entry.fmtp ? { fmtp: entry.fmtp } : {}),
  };
}

function rtpEntries(codecs: Codec[]): SdpMediaSection['rtp'] {
  return codecs.map((c) => ({
    payload: c.payloadType,
    codec: c.name,
    rate: c.rate,
    ...(c.channels > 1 ? { encoding: c.channels } : {}),
  }));
}

function fmtpEntries(codecs: Codec[]): SdpMediaSection['fmtp'] {
  return codecs.flatMap((c) => (c.fmtp ? [{ payload: c.payloadType, config: c.fmtp }] : []));
}

/**
 * One dialog's side of SDP: keeps the origin line's session id and bumps its version each
 * time a new description is sent (RFC 3264 8).
 */
export class SdpSession {
  private readonly sessionId = Math.floor(Math.random() * 2 ** 31) + 1;
  private version = 0;
  private lastBody: string | undefined;

  /** Builds our answer to `offer` and the media agreed by it. Throws SdpError (488). */
  answer(
    offerText: string | Buffer,
    local: LocalMedia,
    prefs: readonly CodecPref[] = DEFAULT_CODEC_PREFS,
  ): { sdp: string; media: NegotiatedMedia } {
    const text = typeof offerText === 'string' ? offerText : offerText.toString('utf8');
    const offer = parseSdp(text);
    const media = negotiateOffer(offer, local, prefs);
    // Every m-line of the offer gets one in the answer (RFC 3264 6); all but ours are refused with port 0.
    const offered = parseSdpText(text);
    const chosen = audioIndex(offered);
    const codecs: Codec[] = [
      media.codec,
      ...(media.telephoneEvent ? [this.teCodec(media.telephoneEvent)] : []),
    ];
    const sections = offered.media.map((m, i): SdpMediaSection => {
      if (i !== chosen) {
        // A section sdp-transform could only half read must still be written back as a valid m= line.
        return {
          type: m.type || 'application',
          port: 0,
          protocol: /^[\w/]+$/.test(m.protocol ?? '') ? m.protocol : 'RTP/AVP',
          payloads: String(m.payloads ?? '').split(' ')[0] || '0',
          rtp: [],
          fmtp: [],
        };
      }
      return this.section(local, codecs, media.direction, media.rtcpMux);
    });
    return { sdp: this.write(local.address, sections), media };
  }

  /** Builds an offer (dial-out, late offer, re-INVITE) with every codec in our preference order. */
  offer(
    local: LocalMedia,
    prefs: readonly CodecPref[] = DEFAULT_CODEC_PREFS,
  ): { sdp: string; offered: OfferedMedia } {
    const main = (local.codecs ?? prefs).map(codecFor);
    const rates = [...new Set(main.map((c) => (c.name === 'G722' ? 8000 : c.rate)))];
    // One telephone-event per clock rate in use, so each codec has its DTMF partner (RFC 4733 2.1).
    const te = rates.map((rate, i) => ({
      payloadType: 101 + i,
      name: 'telephone-event',
      rate,
      channels: 1,
      fmtp: '0-16',
    }));
    const direction = local.direction ?? 'sendrecv';
    const rtcpMux = local.rtcpMux !== false;
    const codecs = [...main, ...te];
    return {
      sdp: this.write(local.address, [this.section(local, codecs, direction, rtcpMux)]),
      offered: { codecs, direction, rtcpMux },
    };
  }

  /** The last description we sent, for retransmissions and for a re-INVITE without changes. */
  get last(): string | undefined {
    return this.lastBody;
  }

  private teCodec(te: TelephoneEvent): Codec {
    return { payloadType: te.payloadType, name: 'telephone-event', rate: te.rate, channels: 1, fmtp: '0-16' };
  }

  private section(
    local: LocalMedia,
    codecs: Codec[],
    direction: Direction,
    rtcpMux: boolean,
  ): SdpMediaSection {
    return {
      type: 'audio',
      port: local.port,
      protocol: 'RTP/AVP',
      payloads: codecs.map((c) => c.payloadType).join(' '),
      rtp: rtpEntries(codecs),
      fmtp: fmtpEntries(codecs),
      ptime: local.ptime ?? 20,
      direction,
      ...(rtcpMux ? { rtcpMux: 'rtcp-mux' } : {}),
    };
  }

  private write(address: string, media: SdpMediaSection[]): string {
    const ipVer = ipVersion(address);
    const render = (version: number): string =>
      writeSdpText({
        version: 0,
        origin: {
          username: 'parley',
          sessionId: this.sessionId,
          sessionVersion: version,
          netType: 'IN',
          ipVer,
          address,
        },
        name: 'parley',
        connection: { version: ipVer, ip: address },
        timing: { start: 0, stop: 0 },
        media,
      });
    // An unchanged description keeps its version (RFC 3264 8: a refresh, or the 200 repeating
    // the answer of a 183); any change bumps it by one.
    if (this.lastBody !== undefined && render(this.version) === this.lastBody) return this.lastBody;
    this.version += 1;
    this.lastBody = render(this.version);
    return this.lastBody;
  }
}
