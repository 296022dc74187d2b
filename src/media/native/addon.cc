// Node-API surface of the media engine. For now: the codecs, so that tests and
// tools can encode and decode every payload the engine speaks.
#include <napi.h>

#include <vector>

#include "codec.h"

namespace parley {
namespace {

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
    if (info.Length() < 1 || !info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int16_array)
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

}  // namespace
}  // namespace parley

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  exports.Set("Encoder", parley::EncoderWrap::Init(env));
  exports.Set("Decoder", parley::DecoderWrap::Init(env));
  return exports;
}

NODE_API_MODULE(parley_media, InitAddon)
