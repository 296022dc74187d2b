#include "codec.h"

#include <opus.h>

#include <algorithm>
#include <cstring>
#include <vector>

extern "C" {
#include <spandsp.h>
}

#include "g711.h"

namespace parley {

Codec codec_from_name(const std::string& name) {
  if (name == "pcmu") return Codec::PCMU;
  if (name == "pcma") return Codec::PCMA;
  if (name == "g722") return Codec::G722;
  if (name == "opus") return Codec::OPUS;
  if (name == "l16") return Codec::L16;
  throw std::invalid_argument("unknown codec \"" + name + "\" (expected pcmu, pcma, g722, opus or l16)");
}

int default_rate(Codec codec) {
  switch (codec) {
    case Codec::PCMU:
    case Codec::PCMA:
      return 8000;
    case Codec::G722:
      return 16000;
    case Codec::OPUS:
      return 48000;
    case Codec::L16:
      return 16000;
  }
  return 8000;
}

namespace {

// Repeats the last frame, fading it out, for the codecs without a PLC of their own.
class FadePlc {
 public:
  void remember(const int16_t* pcm, size_t n) { last_.assign(pcm, pcm + n); gain_ = 1.0f; }
  size_t fill(int16_t* out, size_t n) {
    gain_ *= 0.5f;
    for (size_t i = 0; i < n; i++) {
      int16_t v = last_.empty() ? 0 : last_[i % last_.size()];
      out[i] = static_cast<int16_t>(v * gain_);
    }
    return n;
  }

 private:
  std::vector<int16_t> last_;
  float gain_ = 0.0f;
};

class G711Encoder final : public Encoder {
 public:
  explicit G711Encoder(bool ulaw) : ulaw_(ulaw) {}
  int rate() const override { return 8000; }
  size_t encode(const int16_t* pcm, size_t samples, uint8_t* out, size_t cap) override {
    size_t n = std::min(samples, cap);
    for (size_t i = 0; i < n; i++) out[i] = ulaw_ ? g711::linear_to_ulaw(pcm[i]) : g711::linear_to_alaw(pcm[i]);
    return n;
  }

 private:
  bool ulaw_;
};

class G711Decoder final : public Decoder {
 public:
  explicit G711Decoder(bool ulaw) : ulaw_(ulaw) {}
  int rate() const override { return 8000; }
  size_t decode(const uint8_t* payload, size_t len, int16_t* out, size_t cap) override {
    size_t n = std::min(len, cap);
    for (size_t i = 0; i < n; i++) out[i] = ulaw_ ? g711::ulaw_to_linear(payload[i]) : g711::alaw_to_linear(payload[i]);
    plc_.remember(out, n);
    return n;
  }
  size_t conceal(int16_t* out, size_t samples) override { return plc_.fill(out, samples); }

 private:
  bool ulaw_;
  FadePlc plc_;
};

class G722Encoder final : public Encoder {
 public:
  G722Encoder() : state_(g722_encode_init(nullptr, 64000, 0)) {
    if (!state_) throw std::runtime_error("g722_encode_init failed");
  }
  ~G722Encoder() override { g722_encode_free(state_); }
  int rate() const override { return 16000; }
  size_t encode(const int16_t* pcm, size_t samples, uint8_t* out, size_t cap) override {
    // 64 kbit/s: one byte per two samples.
    size_t n = std::min(samples, cap * 2);
    return static_cast<size_t>(g722_encode(state_, out, pcm, static_cast<int>(n)));
  }

 private:
  g722_encode_state_t* state_;
};

class G722Decoder final : public Decoder {
 public:
  G722Decoder() : state_(g722_decode_init(nullptr, 64000, 0)) {
    if (!state_) throw std::runtime_error("g722_decode_init failed");
  }
  ~G722Decoder() override { g722_decode_free(state_); }
  int rate() const override { return 16000; }
  size_t decode(const uint8_t* payload, size_t len, int16_t* out, size_t cap) override {
    size_t n = std::min(len, cap / 2);
    auto written = static_cast<size_t>(g722_decode(state_, out, payload, static_cast<int>(n)));
    plc_.remember(out, written);
    return written;
  }
  size_t conceal(int16_t* out, size_t samples) override { return plc_.fill(out, samples); }

 private:
  g722_decode_state_t* state_;
  FadePlc plc_;
};

class OpusEncoderImpl final : public Encoder {
 public:
  OpusEncoderImpl() {
    int err = 0;
    enc_ = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
    if (err != OPUS_OK || !enc_) throw std::runtime_error(std::string("opus_encoder_create: ") + opus_strerror(err));
    opus_encoder_ctl(enc_, OPUS_SET_INBAND_FEC(1));
    opus_encoder_ctl(enc_, OPUS_SET_PACKET_LOSS_PERC(5));
  }
  ~OpusEncoderImpl() override { opus_encoder_destroy(enc_); }
  int rate() const override { return 48000; }
  size_t encode(const int16_t* pcm, size_t samples, uint8_t* out, size_t cap) override {
    int n = opus_encode(enc_, pcm, static_cast<int>(samples), out, static_cast<opus_int32>(cap));
    if (n < 0) throw std::runtime_error(std::string("opus_encode: ") + opus_strerror(n));
    return static_cast<size_t>(n);
  }

 private:
  OpusEncoder* enc_ = nullptr;
};

class OpusDecoderImpl final : public Decoder {
 public:
  OpusDecoderImpl() {
    int err = 0;
    dec_ = opus_decoder_create(48000, 1, &err);
    if (err != OPUS_OK || !dec_) throw std::runtime_error(std::string("opus_decoder_create: ") + opus_strerror(err));
  }
  ~OpusDecoderImpl() override { opus_decoder_destroy(dec_); }
  int rate() const override { return 48000; }
  size_t decode(const uint8_t* payload, size_t len, int16_t* out, size_t cap) override {
    int n = opus_decode(dec_, payload, static_cast<opus_int32>(len), out, static_cast<int>(cap), 0);
    if (n < 0) throw std::runtime_error(std::string("corrupt Opus packet: ") + opus_strerror(n));
    return static_cast<size_t>(n);
  }
  size_t conceal(int16_t* out, size_t samples) override {
    int n = opus_decode(dec_, nullptr, 0, out, static_cast<int>(samples), 0);
    return n < 0 ? 0 : static_cast<size_t>(n);
  }
  bool has_fec() const override { return true; }
  size_t decode_fec(const uint8_t* next_payload, size_t len, int16_t* out, size_t samples) override {
    // libopus wants exactly the missing duration, a multiple of 2.5 ms.
    if (samples == 0 || samples % 120 != 0) return 0;
    int n = opus_decode(dec_, next_payload, static_cast<opus_int32>(len), out, static_cast<int>(samples), 1);
    return n < 0 ? 0 : static_cast<size_t>(n);
  }

 private:
  OpusDecoder* dec_ = nullptr;
};

// L16 (RFC 3551): 16-bit big-endian samples.
class L16Encoder final : public Encoder {
 public:
  explicit L16Encoder(int rate) : rate_(rate) {}
  int rate() const override { return rate_; }
  size_t encode(const int16_t* pcm, size_t samples, uint8_t* out, size_t cap) override {
    size_t n = std::min(samples, cap / 2);
    for (size_t i = 0; i < n; i++) {
      auto v = static_cast<uint16_t>(pcm[i]);
      out[2 * i] = static_cast<uint8_t>(v >> 8);
      out[2 * i + 1] = static_cast<uint8_t>(v & 0xFF);
    }
    return n * 2;
  }

 private:
  int rate_;
};

class L16Decoder final : public Decoder {
 public:
  explicit L16Decoder(int rate) : rate_(rate) {}
  int rate() const override { return rate_; }
  size_t decode(const uint8_t* payload, size_t len, int16_t* out, size_t cap) override {
    size_t n = std::min(len / 2, cap);
    for (size_t i = 0; i < n; i++) out[i] = static_cast<int16_t>((payload[2 * i] << 8) | payload[2 * i + 1]);
    plc_.remember(out, n);
    return n;
  }
  size_t conceal(int16_t* out, size_t samples) override { return plc_.fill(out, samples); }

 private:
  int rate_;
  FadePlc plc_;
};

int checked_l16_rate(int rate) {
  if (rate != 8000 && rate != 16000 && rate != 48000)
    throw std::invalid_argument("L16 rate must be 8000, 16000 or 48000, got " + std::to_string(rate));
  return rate;
}

}  // namespace

std::unique_ptr<Encoder> make_encoder(Codec codec, int rate) {
  switch (codec) {
    case Codec::PCMU:
      return std::make_unique<G711Encoder>(true);
    case Codec::PCMA:
      return std::make_unique<G711Encoder>(false);
    case Codec::G722:
      return std::make_unique<G722Encoder>();
    case Codec::OPUS:
      return std::make_unique<OpusEncoderImpl>();
    case Codec::L16:
      return std::make_unique<L16Encoder>(checked_l16_rate(rate));
  }
  throw std::invalid_argument("unknown codec");
}

std::unique_ptr<Decoder> make_decoder(Codec codec, int rate) {
  switch (codec) {
    case Codec::PCMU:
      return std::make_unique<G711Decoder>(true);
    case Codec::PCMA:
      return std::make_unique<G711Decoder>(false);
    case Codec::G722:
      return std::make_unique<G722Decoder>();
    case Codec::OPUS:
      return std::make_unique<OpusDecoderImpl>();
    case Codec::L16:
      return std::make_unique<L16Decoder>(checked_l16_rate(rate));
  }
  throw std::invalid_argument("unknown codec");
}

}  // namespace parley
