// The package ships no types; what the TTS worker uses of its Emscripten module.
declare module '@echogarden/espeak-ng-emscripten' {
  interface EspeakNgWorker {
    /** Output sample rate (22050). */
    readonly samplerate: number;
    /** 0 on success. */
    set_voice(name: string, lang: string, gender: number, age: number, variant: number): number;
    /** Calls `onAudio` with PCM16 chunks as they are produced, synchronously. */
    synthesize(text: string, onAudio: (samples: Int16Array | undefined) => number): void;
  }
  interface EspeakNgModule {
    eSpeakNGWorker: new () => EspeakNgWorker;
  }
  const createModule: () => Promise<EspeakNgModule>;
  export default createModule;
}
