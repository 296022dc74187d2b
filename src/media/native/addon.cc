// Node-API surface of the media engine. For now: the codecs, so that tests and
// tools can encode and decode every payload the engine speaks.
#include <napi.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "codec.h"
#include "dtmf.h"
#include "mixer.h"
#include "resampler.h"
#include "vad.h"
#include "wav_writer.h"

namespace parley {
namespace {

bool is_int16_array(const Napi::Value& v) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_int16_array;
}

// 120 ms at 48 kHz: the longest frame any supported codec carries.
constexpr size_t kMaxSamples = 5760;
constexpr size_t kMaxPayload = 4000;

struct CodecArgs {
  Codec codec;
  int rate;
};

CodecArgs codec_args(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(info.Env(), "expected a codec name: pcmu, pcma, g722, opus or l16");
  try {
    Codec codec = codec_from_name(info[0].As<Napi::String>().Utf8Value());
    int rate = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : default_rate(codec);
    return {codec, rate};
  } catch (const std::invalid_argument& e) {
    throw Napi::TypeError::New(info.Env(), e.what());
  }
}

class EncoderWrap : public Napi::ObjectWrap<EncoderWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Encoder",
                       {InstanceMethod("encode", &EncoderWrap::Encode), InstanceAccessor("rate", &EncoderWrap::Rate, nullptr)});
  }
  explicit EncoderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EncoderWrap>(info) {
    auto args = codec_args(info);
    try {
      encoder_ = make_encoder(args.codec, args.rate);
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
  }

 private:
  Napi::Value Rate(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), encoder_->rate()); }
  Napi::Value Encode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !is_int16_array(info[0]))
      throw Napi::TypeError::New(env, "encode expects an Int16Array of PCM samples");
    auto pcm = info[0].As<Napi::Int16Array>();
    if (pcm.ElementLength() > kMaxSamples) throw Napi::RangeError::New(env, "frame longer than 120 ms at 48 kHz");
    uint8_t out[kMaxPayload];
    size_t n;
    try {
      n = encoder_->encode(pcm.Data(), pcm.ElementLength(), out, sizeof out);
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    return Napi::Buffer<uint8_t>::Copy(env, out, n);
  }
  std::unique_ptr<Encoder> encoder_;
};

class DecoderWrap : public Napi::ObjectWrap<DecoderWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Decoder",
                       {InstanceMethod("decode", &DecoderWrap::Decode), InstanceMethod("conceal", &DecoderWrap::Conceal),
                        InstanceAccessor("rate", &DecoderWrap::Rate, nullptr)});
  }
  explicit DecoderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DecoderWrap>(info) {
    auto args = codec_args(info);
    try {
      decoder_ = make_decoder(args.codec, args.rate);
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
  }

 private:
  Napi::Value Rate(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), decoder_->rate()); }
  Napi::Value Decode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsBuffer()) throw Napi::TypeError::New(env, "decode expects a Buffer payload");
    auto payload = info[0].As<Napi::Buffer<uint8_t>>();
    if (payload.Length() > kMaxPayload) throw Napi::RangeError::New(env, "payload larger than 4000 bytes");
    std::vector<int16_t> out(kMaxSamples);
    size_t n;
    try {
      n = decoder_->decode(payload.Data(), payload.Length(), out.data(), out.size());
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    auto result = Napi::Int16Array::New(env, n);
    std::copy(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), result.Data());
    return result;
  }
  Napi::Value Conceal(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "conceal expects a sample count");
    int64_t samples = info[0].As<Napi::Number>().Int64Value();
    if (samples <= 0 || static_cast<size_t>(samples) > kMaxSamples)
      throw Napi::RangeError::New(env, "sample count must be between 1 and 5760");
    auto result = Napi::Int16Array::New(env, static_cast<size_t>(samples));
    size_t n = decoder_->conceal(result.Data(), static_cast<size_t>(samples));
    if (n < static_cast<size_t>(samples)) std::fill(result.Data() + n, result.Data() + samples, 0);
    return result;
  }
  std::unique_ptr<Decoder> decoder_;
};


std::optional<std::set<uint32_t>> id_set(Napi::Env env, Napi::Value v, const char* what) {
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string(what) + " must be an array of participant ids or null");
  auto arr = v.As<Napi::Array>();
  std::set<uint32_t> out;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value e = arr.Get(i);
    if (!e.IsNumber()) throw Napi::TypeError::New(env, std::string(what) + " must hold numeric ids");
    out.insert(e.As<Napi::Number>().Uint32Value());
  }
  return out;
}

class MixerWrap : public Napi::ObjectWrap<MixerWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Mixer",
                       {InstanceMethod("set", &MixerWrap::Set), InstanceMethod("remove", &MixerWrap::Remove),
                        InstanceMethod("mix", &MixerWrap::Mix)});
  }
  explicit MixerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MixerWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
      throw Napi::TypeError::New(env, "new Mixer(rate, loudest)");
    try {
      mixer_ = std::make_unique<Mixer>(info[0].As<Napi::Number>().Int32Value(),
                                       static_cast<size_t>(info[1].As<Napi::Number>().Uint32Value()));
    } catch (const std::exception& e) {
      throw Napi::RangeError::New(env, e.what());
    }
  }

 private:
  Napi::Value Set(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsObject())
      throw Napi::TypeError::New(env, "set(id, { muted, deaf, inGain, outGain, speakTo, hearFrom })");
    auto o = info[1].As<Napi::Object>();
    MixMember m;
    m.muted = o.Get("muted").ToBoolean();
    m.deaf = o.Get("deaf").ToBoolean();
    if (o.Get("inGain").IsNumber()) m.in_gain = o.Get("inGain").As<Napi::Number>().FloatValue();
    if (o.Get("outGain").IsNumber()) m.out_gain = o.Get("outGain").As<Napi::Number>().FloatValue();
    if (!(m.in_gain >= 0 && m.in_gain <= 16 && m.out_gain >= 0 && m.out_gain <= 16))
      throw Napi::RangeError::New(env, "gains must be between 0 and 16");
    m.speak_to = id_set(env, o.Get("speakTo"), "speakTo");
    m.hear_from = id_set(env, o.Get("hearFrom"), "hearFrom");
    mixer_->set(info[0].As<Napi::Number>().Uint32Value(), m);
    return env.Undefined();
  }
  Napi::Value Remove(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "remove(id)");
    mixer_->remove(info[0].As<Napi::Number>().Uint32Value());
    return info.Env().Undefined();
  }
  // mix([[id, Int16Array], ...]) → { mixes: Int16Array[], groupOf: { id: index }, mixed: id[] }
  Napi::Value Mix(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "mix expects [[id, Int16Array], ...]");
    auto arr = info[0].As<Napi::Array>();
    std::map<uint32_t, const int16_t*> input;
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value e = arr.Get(i);
      if (!e.IsArray()) throw Napi::TypeError::New(env, "mix expects [[id, Int16Array], ...]");
      auto pair = e.As<Napi::Array>();
      Napi::Value id = pair.Get(0u);
      Napi::Value pcm = pair.Get(1u);
      if (!id.IsNumber() || !is_int16_array(pcm))
        throw Napi::TypeError::New(env, "mix expects [[id, Int16Array], ...]");
      auto frame = pcm.As<Napi::Int16Array>();
      if (frame.ElementLength() != mixer_->frame_samples())
        throw Napi::RangeError::New(env, "every frame must hold " + std::to_string(mixer_->frame_samples()) + " samples");
      input[id.As<Napi::Number>().Uint32Value()] = frame.Data();
    }
    MixResult r = mixer_->mix(input);
    auto result = Napi::Object::New(env);
    auto mixes = Napi::Array::New(env, r.mixes.size());
    for (size_t i = 0; i < r.mixes.size(); i++) {
      auto a = Napi::Int16Array::New(env, r.mixes[i].size());
      std::copy(r.mixes[i].begin(), r.mixes[i].end(), a.Data());
      mixes.Set(static_cast<uint32_t>(i), a);
    }
    auto group_of = Napi::Object::New(env);
    for (const auto& [id, g] : r.group_of) group_of.Set(std::to_string(id), Napi::Number::New(env, static_cast<double>(g)));
    auto mixed = Napi::Array::New(env, r.mixed.size());
    for (size_t i = 0; i < r.mixed.size(); i++) mixed.Set(static_cast<uint32_t>(i), Napi::Number::New(env, r.mixed[i]));
    result.Set("mixes", mixes);
    result.Set("groupOf", group_of);
    result.Set("mixed", mixed);
    return result;
  }
  std::unique_ptr<Mixer> mixer_;
};


class WavWriterWrap : public Napi::ObjectWrap<WavWriterWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "WavWriter",
                       {InstanceMethod("write", &WavWriterWrap::Write), InstanceMethod("close", &WavWriterWrap::Close),
                        InstanceAccessor("frames", &WavWriterWrap::Frames, nullptr)});
  }
  explicit WavWriterWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<WavWriterWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber())
      throw Napi::TypeError::New(env, "new WavWriter(path, rate, channels)");
    try {
      writer_ = std::make_unique<WavWriter>(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Number>().Int32Value(),
                                            info[2].As<Napi::Number>().Int32Value());
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

 private:
  Napi::Value Frames(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(writer_->frames()));
  }
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !is_int16_array(info[0]))
      throw Napi::TypeError::New(env, "write expects an Int16Array");
    auto pcm = info[0].As<Napi::Int16Array>();
    try {
      writer_->write(pcm.Data(), pcm.ElementLength());
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    return env.Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    try {
      writer_->close();
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
    return info.Env().Undefined();
  }
  std::unique_ptr<WavWriter> writer_;
};

class DtmfReceiverWrap : public Napi::ObjectWrap<DtmfReceiverWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "DtmfReceiver", {InstanceMethod("feed", &DtmfReceiverWrap::Feed)});
  }
  explicit DtmfReceiverWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DtmfReceiverWrap>(info) {}

 private:
  // feed(timestamp, payload) → [{ digit, duration }]
  Napi::Value Feed(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBuffer())
      throw Napi::TypeError::New(env, "feed(timestamp, payload: Buffer)");
    auto payload = info[1].As<Napi::Buffer<uint8_t>>();
    auto events = receiver_.feed(info[0].As<Napi::Number>().Uint32Value(), payload.Data(), payload.Length());
    auto out = Napi::Array::New(env, events.size());
    for (size_t i = 0; i < events.size(); i++) {
      auto e = Napi::Object::New(env);
      e.Set("digit", Napi::String::New(env, std::string(1, events[i].digit)));
      e.Set("duration", Napi::Number::New(env, events[i].duration));
      out.Set(static_cast<uint32_t>(i), e);
    }
    return out;
  }
  DtmfReceiver receiver_;
};

class ResamplerWrap : public Napi::ObjectWrap<ResamplerWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Resampler", {InstanceMethod("process", &ResamplerWrap::Process)});
  }
  explicit ResamplerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ResamplerWrap>(info) {
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
      throw Napi::TypeError::New(info.Env(), "Resampler(inRate, outRate)");
    try {
      resampler_ = std::make_unique<Resampler>(info[0].As<Napi::Number>().Int32Value(),
                                               info[1].As<Napi::Number>().Int32Value());
    } catch (const std::exception& e) {
      throw Napi::RangeError::New(info.Env(), e.what());
    }
  }

 private:
  // process(Int16Array) → Int16Array at the output rate
  Napi::Value Process(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !is_int16_array(info[0]))
      throw Napi::TypeError::New(env, "process expects an Int16Array of PCM samples");
    auto pcm = info[0].As<Napi::Int16Array>();
    if (pcm.ElementLength() > kMaxSamples) throw Napi::RangeError::New(env, "frame longer than 120 ms at 48 kHz");
    // Room for the rate ratio plus the filter's carry-over from the previous call.
    size_t cap = pcm.ElementLength() * static_cast<size_t>(resampler_->out_rate()) /
                     static_cast<size_t>(resampler_->in_rate()) + 64;
    auto out = Napi::Int16Array::New(env, cap);
    size_t n;
    try {
      n = resampler_->process(pcm.Data(), pcm.ElementLength(), out.Data(), cap);
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    return Napi::Int16Array::New(env, n, out.ArrayBuffer(), 0);
  }
  std::unique_ptr<Resampler> resampler_;
};

class VadWrap : public Napi::ObjectWrap<VadWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Vad", {InstanceMethod("process", &VadWrap::Process)});
  }
  explicit VadWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VadWrap>(info) {}

 private:
  // process(Int16Array) → { level, talking, changed }
  Napi::Value Process(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !is_int16_array(info[0]))
      throw Napi::TypeError::New(env, "process expects an Int16Array of PCM samples");
    auto pcm = info[0].As<Napi::Int16Array>();
    auto r = vad_.process(pcm.Data(), pcm.ElementLength());
    auto out = Napi::Object::New(env);
    out.Set("level", Napi::Number::New(env, r.level));
    out.Set("talking", Napi::Boolean::New(env, r.talking));
    out.Set("changed", Napi::Boolean::New(env, r.changed));
    return out;
  }
  Vad vad_;
};

}  // namespace
}  // namespace parley

namespace parley { void InitEngineBindings(Napi::Env env, Napi::Object exports); }
namespace parley { void InitRtpBindings(Napi::Env env, Napi::Object exports); }  // addon_rtp.cc
static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  parley::InitEngineBindings(env, exports);
  exports.Set("Encoder", parley::EncoderWrap::Init(env));
  exports.Set("Decoder", parley::DecoderWrap::Init(env));
  exports.Set("Mixer", parley::MixerWrap::Init(env));
  exports.Set("WavWriter", parley::WavWriterWrap::Init(env));
  exports.Set("DtmfReceiver", parley::DtmfReceiverWrap::Init(env));
  exports.Set("Resampler", parley::ResamplerWrap::Init(env));
  exports.Set("Vad", parley::VadWrap::Init(env));
  parley::InitRtpBindings(env, exports);
  return exports;
}

NODE_API_MODULE(parley_media, InitAddon)
