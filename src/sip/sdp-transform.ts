/**
 * Typed adapter over the untyped npm `sdp-transform`: only the fields Parley reads or writes.
 * Loaded through createRequire because the package is CommonJS without type declarations.
 */
import { createRequire } from 'node:module';

export interface SdpRtpMap {
  payload: number;
  codec: string;
  rate?: number;
  encoding?: number | string;
}

export interface SdpFmtp {
  payload: number;
  config: string;
}

export interface SdpConnection {
  version: number;
  ip: string;
}

export interface SdpMediaSection {
  type: string;
  port: number;
  protocol: string;
  payloads?: string | number;
  rtp: SdpRtpMap[];
  fmtp: SdpFmtp[];
  connection?: SdpConnection;
  direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  ptime?: number;
  maxptime?: number;
  rtcp?: { port: number; netType?: string; ipVer?: number; address?: string };
  rtcpMux?: string;
}

export interface SdpSessionDescription {
  version: number;
  origin: {
    username: string;
    sessionId: number | string;
    sessionVersion: number;
    netType: string;
    ipVer: number;
    address: string;
  };
  name: string;
  connection?: SdpConnection;
  timing: { start: number; stop: number };
  direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  media: SdpMediaSection[];
}

interface SdpTransformModule {
  parse(sdp: string): SdpSessionDescription;
  write(session: SdpSessionDescription): string;
}

const lib = createRequire(import.meta.url)('sdp-transform') as SdpTransformModule;

export const parseSdpText = (text: string): SdpSessionDescription => lib.parse(text);
export const writeSdpText = (session: SdpSessionDescription): string => lib.write(session);
