// The media plane's public surface for the rest of Parley; the native addon is loaded lazily by
// loadNativeEngine() so that code importing types alone does not need a built engine.

export {
  type ConferenceStats,
  type Direction,
  type EndpointConfig,
  type EndpointStats,
  type EngineStats,
  type LinkDirection,
  MediaEngine,
  MediaEngineError,
  type MediaEngineErrorCode,
  type MediaEngineOptions,
  type MediaEvent,
  type PcmBuffer,
  type PlayTarget,
  type RecordTarget,
  type Routing,
} from './engine.js';
export {
  type CodecName,
  type DtmfKey,
  loadNativeEngine,
  type MixMemberOptions,
  type MixTick,
  type NativeDecoder,
  type NativeDtmfReceiver,
  type NativeEncoder,
  type NativeEngine,
  NativeEngineMissingError,
  type NativeMixer,
  type NativeResampler,
  type NativeVad,
  type NativeWavWriter,
  type VadFrame,
} from './native.js';
