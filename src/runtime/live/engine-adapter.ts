/** Opens the native media engine (src/media/engine.ts) behind the interface the live runtime uses. */
import { MediaEngine } from '../../media/engine.js';
import type { EngineEvent, EngineRouting, MediaEngineApi } from './media-api.js';

export interface EngineSettings {
  address: string;
  portMin: number;
  portMax: number;
  rtpTimeoutMs: number;
  realtimePriority: number;
  sendSpreadMs: number;
  tickSpinUs: number;
}

function routing(r: EngineRouting) {
  return {
    muted: r.muted,
    deaf: r.deaf,
    speakTo: r.speakTo ?? 'all',
    hearFrom: r.hearFrom ?? 'all',
    ...(r.gain !== undefined ? { gain: r.gain } : {}),
  } as const;
}

export function openMediaEngine(
  settings: EngineSettings,
  onEvent: (event: EngineEvent) => void,
): MediaEngineApi {
  const engine = MediaEngine.open({ ...settings, onEvent: (e) => onEvent(e) });
  return {
    createEndpoint: (o) => engine.createEndpoint(o),
    configureEndpoint: (id, c) => engine.configureEndpoint(id, c),
    destroyEndpoint: (id) => engine.destroyEndpoint(id),
    createConference: (name, o) =>
      engine.createConference(name, { rate: o.rate as 8000 | 16000 | 48000, loudest: o.loudest }),
    destroyConference: (name) => engine.destroyConference(name),
    join: (conf, ep, r) => engine.join(conf, ep, routing(r)),
    updateRouting: (conf, ep, r) => engine.updateRouting(conf, ep, routing(r)),
    leave: (conf, ep) => engine.leave(conf, ep),
    play: (t, pcm, rate, o) => engine.play(t, pcm, rate, o),
    stopPlayer: (id) => engine.stopPlayer(id),
    record: (t, path) =>
      'endpoint' in t
        ? engine.record({ endpoint: t.endpoint }, path, { direction: t.direction })
        : engine.record(t, path),
    stopRecorder: (id) => engine.stopRecorder(id),
    link: (a, b, d) => engine.link(a, b, d),
    unlink: (a, b) => engine.unlink(a, b),
    sendDtmf: (ep, digit, ms) => engine.sendDtmf(ep, digit, ms),
    endpointStats: (ep) => engine.endpointStats(ep),
    stats: () => engine.engineStats(),
    close: () => engine.close(),
  };
}
