/** Shared set-up for the engine tests: an engine on a random loopback port range and RTP peers joined to it. */
import {
  type EndpointConfig,
  MediaEngine,
  type MediaEngineOptions,
  type MediaEvent,
  type Routing,
} from '../../src/media/engine.js';
import type { CodecName } from '../../src/media/native.js';
import { goertzel } from './goertzel.js';
import { RtpPeer } from './rtp-peer.js';

export const RATES: Record<CodecName, number> = {
  pcmu: 8000,
  pcma: 8000,
  g722: 16000,
  opus: 48000,
  l16: 16000,
};
export const PTS: Record<CodecName, number> = { pcmu: 0, pcma: 8, g722: 9, opus: 111, l16: 96 };
export const TE_PT = 101;

export interface Harness {
  engine: MediaEngine;
  events: MediaEvent[];
  peers: RtpPeer[];
}

export function openEngine(
  options: Omit<Partial<MediaEngineOptions>, 'address' | 'portMin' | 'portMax' | 'onEvent'> = {},
): Harness {
  const events: MediaEvent[] = [];
  // A random window of the ephemeral range; the engine skips ports another test holds.
  const portMin = 40000 + 2 * Math.floor(Math.random() * 8000);
  const engine = MediaEngine.open({
    address: '127.0.0.1',
    portMin,
    portMax: portMin + 400,
    ...options,
    onEvent: (e) => events.push(e),
  });
  return { engine, events, peers: [] };
}

export function endpointConfig(
  codec: CodecName,
  port: number,
  direction: EndpointConfig['direction'] = 'sendrecv',
) {
  const pt = PTS[codec];
  return {
    remote: { address: '127.0.0.1', port },
    send: { codec, payloadType: pt },
    receive: {
      payloadTypes: { [pt]: { codec, rate: RATES[codec] } },
      telephoneEvent: { payloadType: TE_PT, rate: 8000 },
    },
    direction,
  } satisfies EndpointConfig;
}

export interface Party {
  id: number;
  port: number;
  peer: RtpPeer;
}

/** An endpoint with a peer sending `freq` (or nothing), optionally joined to `conference`. */
export async function party(
  h: Harness,
  codec: CodecName,
  freq: number | undefined,
  conference?: string,
  routing: Routing = {},
): Promise<Party> {
  const ep = h.engine.createEndpoint({ rtcpMux: false });
  const peer = await RtpPeer.open({ codec, payloadType: PTS[codec], freq, telephoneEventPayloadType: TE_PT });
  h.peers.push(peer);
  h.engine.configureEndpoint(ep.id, endpointConfig(codec, peer.port));
  peer.target('127.0.0.1', ep.port);
  if (conference) h.engine.join(conference, ep.id, routing);
  peer.start();
  return { id: ep.id, port: ep.port, peer };
}

export async function teardown(h: Harness): Promise<void> {
  h.engine.close();
  await Promise.all(h.peers.map((p) => p.close()));
}

/** Share of the received audio's power at `freq` over the window. */
export function share(p: Party, freq: number, fromMs: number, toMs = Number.POSITIVE_INFINITY): number {
  return goertzel(p.peer.heard(fromMs, toMs), freq, p.peer.rate);
}

export const HEARD = 0.05;
export const ABSENT = 0.005;
