/**
 * Typed loader of the native media engine (`build/Release/parley_media.node`,
 * built by node-gyp on `npm ci` / `npm run build:native`).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type CodecName = 'pcmu' | 'pcma' | 'g722' | 'opus' | 'l16';

export interface NativeEncoder {
  readonly rate: number;
  /** One frame of mono PCM16 at `rate` → RTP payload. */
  encode(pcm: Int16Array): Buffer;
}

export interface NativeDecoder {
  readonly rate: number;
  /** RTP payload → mono PCM16 at `rate`; throws on a corrupt payload. */
  decode(payload: Buffer): Int16Array;
  /** Samples standing in for a lost packet. */
  conceal(samples: number): Int16Array;
}

export interface MixMemberOptions {
  muted?: boolean;
  deaf?: boolean;
  inGain?: number;
  outGain?: number;
  /** Ids this member is heard by; null/absent = everyone (whisper when set). */
  speakTo?: number[] | null;
  /** Ids this member hears; null/absent = everyone. */
  hearFrom?: number[] | null;
}

export interface MixTick {
  /** One mix per group of listeners who hear the same thing. */
  mixes: Int16Array[];
  /** Listener id → index into `mixes`; deaf members are absent. */
  groupOf: Record<string, number>;
  /** Talkers mixed this tick (the loudest, not muted). */
  mixed: number[];
}

export interface NativeMixer {
  set(id: number, options: MixMemberOptions): void;
  remove(id: number): void;
  /** One 20 ms frame per talking member at the mixer's rate. */
  mix(frames: Array<[number, Int16Array]>): MixTick;
}

export interface NativeWavWriter {
  /** Frames (samples per channel) written so far. */
  readonly frames: number;
  /** Interleaved PCM16; the header is fixed and the file synced about every second of audio. */
  write(pcm: Int16Array): void;
  close(): void;
}

export interface DtmfKey {
  digit: string;
  /** In RTP timestamp units of the telephone-event clock (usually 8000 Hz). */
  duration: number;
}

export interface NativeDtmfReceiver {
  /** One RFC 4733 payload with its RTP timestamp → the keys it completes (each key once). */
  feed(timestamp: number, payload: Buffer): DtmfKey[];
}

export interface NativeResampler {
  /** Converts one chunk at the input rate; the filter carries state between calls. */
  process(pcm: Int16Array): Int16Array;
}

export interface VadFrame {
  /** dBov; a full-scale sine is about -3. */
  level: number;
  talking: boolean;
  /** A talking start or stop happened on this frame. */
  changed: boolean;
}

export interface NativeVad {
  /** One 20 ms frame → its level and the hysteresis-filtered talking state. */
  process(pcm: Int16Array): VadFrame;
}

export interface NativeEngine extends NativeRtpBindings {
  Encoder: new (codec: CodecName, rate?: number) => NativeEncoder;
  Decoder: new (codec: CodecName, rate?: number) => NativeDecoder;
  Mixer: new (rate: 8000 | 16000 | 48000, loudest: number) => NativeMixer;
  WavWriter: new (path: string, rate: number, channels: 1 | 2) => NativeWavWriter;
  DtmfReceiver: new () => NativeDtmfReceiver;
  Resampler: new (inRate: number, outRate: number) => NativeResampler;
  Vad: new () => NativeVad;
}

/** The native addon could not be loaded: not built, or built for another Node. */
export class NativeEngineMissingError extends Error {
  override readonly name = 'NativeEngineMissingError';
}

const ADDON = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'build',
  'Release',
  'parley_media.node',
);

let engine: NativeEngine | undefined;

export function loadNativeEngine(): NativeEngine {
  if (engine) return engine;
  try {
    engine = createRequire(import.meta.url)(ADDON) as NativeEngine;
  } catch (err) {
    throw new NativeEngineMissingError(
      `cannot load the native media engine at ${ADDON} (${err instanceof Error ? err.message : String(err)}); ` +
        'build it with `npm run build:native` after scripts/install-debian-deps.sh',
    );
  }
  return engine;
}

// ---------------------------------------------------------------------------
// RTP receive pipeline (addon_rtp.cc): parser, RTCP, ReceiveStream, DtmfSender.
// ---------------------------------------------------------------------------

export type RtpParseResult =
  | {
      pt: number;
      marker: boolean;
      seq: number;
      ts: number;
      ssrc: number;
      payload: Buffer;
      csrcs: number[];
      /** 0 when the packet has no header extension. */
      extProfile: number;
      ext: Buffer | null;
      /** Padding bytes removed, including the count byte. */
      padding: number;
      error?: undefined;
    }
  | { error: 'too-short' | 'bad-version' | 'bad-padding' | 'bad-csrc' | 'bad-extension' | 'rtcp' };

export interface RtpHeaderFields {
  pt: number;
  marker?: boolean;
  seq: number;
  ts: number;
  ssrc: number;
}

export interface RtcpReportBlock {
  ssrc: number;
  fractionLost: number;
  cumulativeLost: number;
  extHighestSeq: number;
  jitter: number;
  lsr: number;
  dlsr: number;
}

export interface RtcpSenderInfo {
  ntp: bigint;
  rtpTs: number;
  packets: number;
  octets: number;
}

export interface RtcpParseResult {
  error: 'too-short' | 'bad-version' | 'bad-length' | 'bad-padding' | 'bad-count' | 'bad-sdes' | null;
  packets: number;
  skipped: number;
  sr?: RtcpSenderInfo & { ssrc: number };
  rr?: { ssrc: number };
  blocks: RtcpReportBlock[];
  cname?: { ssrc: number; name: string };
  byes: number[];
}

export interface ReceivePayloadSpec {
  codec: CodecName;
  rate?: number;
}

export interface ReceiveStreamConfig {
  payloadTypes: Record<number, ReceivePayloadSpec>;
  telephoneEventPt?: number;
  telephoneEventRate?: number;
  /** RFC 3389 comfort noise payload type (default 13); its packets mark a pause. -1: none. */
  comfortNoisePt?: number;
  jitter?: {
    minDelayMs?: number;
    maxDelayMs?: number;
    initialDelayMs?: number;
    slots?: number;
    maxConcealedFrames?: number;
  };
}

export type FrameKindName = 'audio' | 'concealed' | 'silence';

export interface ReceiveStreamStats {
  packets: number;
  bytes: number;
  lost: number;
  duplicates: number;
  late: number;
  reordered: number;
  discarded: { invalid: number; unknownPt: number; late: number; duplicate: number; overflow: number };
  jitterMs: number;
  targetDelayMs: number;
  currentDelayMs: number;
  ssrcChanges: number;
  timestampJumps: number;
  sequenceRestarts: number;
  resyncs: number;
  concealedFrames: number;
  fecFrames: number;
  droppedFrames: number;
  stretchedFrames: number;
  dtmfPackets: number;
  comfortNoisePackets: number;
  decodeErrors: number;
  ssrc: number;
  extHighestSeq: number;
}

export interface NativeReceiveStream {
  /** PCM rate of the codec in use. */
  readonly rate: number;
  push(datagram: Buffer, arrivalMs: number): void;
  pull(nowMs: number): { kind: FrameKindName; pcm: Int16Array };
  /** pull into a caller's buffer (no allocation). */
  pullInto(nowMs: number, out: Int16Array): FrameKindName;
  stats(): ReceiveStreamStats;
  takeDtmf(): DtmfKey[];
  reconfigure(config: ReceiveStreamConfig): void;
  reportBlock(nowMs: number): RtcpReportBlock;
  onSenderReport(ssrc: number, ntp: bigint, arrivalMs: number): void;
}

export interface DtmfSenderPacket {
  payload: Buffer;
  marker: boolean;
  /** Added to the RTP timestamp at which the key started. */
  tsOffset: number;
  end: boolean;
}

export interface NativeDtmfSender {
  readonly active: boolean;
  start(digit: string, durationMs: number): void;
  next(): DtmfSenderPacket | null;
}

export interface NativeRtpBindings {
  rtp: {
    parse(packet: Buffer): RtpParseResult;
    /** RFC 8285 element `id`, or null. */
    extension(packet: Buffer, id: number): Buffer | null;
    isRtcp(packet: Buffer): boolean;
    header(fields: RtpHeaderFields): Buffer;
  };
  rtcp: {
    parse(packet: Buffer): RtcpParseResult;
    buildReport(report: {
      ssrc: number;
      sender?: RtcpSenderInfo;
      blocks?: RtcpReportBlock[];
      cname: string;
    }): Buffer;
    buildBye(ssrc: number): Buffer;
    ntpFromUnixMs(ms: number): bigint;
    middle32(ntp: bigint): number;
    rttMs(lsr: number, dlsr: number, arrivalMiddle32: number): number;
  };
  ReceiveStream: new (config: ReceiveStreamConfig) => NativeReceiveStream;
  DtmfSender: new (clockRate?: number, packetMs?: number) => NativeDtmfSender;
}
