/** Mono PCM16 audio with its sample rate: what prompts, TTS and files become before the engine plays them. */
export interface Pcm {
  samples: Int16Array;
  rate: number;
}

/** Duration of `pcm` in milliseconds. */
export function durationMs(pcm: Pcm): number {
  return (pcm.samples.length * 1000) / pcm.rate;
}
