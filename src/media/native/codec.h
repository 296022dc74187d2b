// Audio codecs behind one interface: 20 ms frames of mono PCM16 in, RTP payload
// out, and back. G.711 is ours (g711.h); G.722 comes from spandsp, Opus from libopus.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace parley {

enum class Codec { PCMU, PCMA, G722, OPUS, L16 };

/** Parses `pcmu`, `pcma`, `g722`, `opus`, `l16`; throws std::invalid_argument otherwise. */
Codec codec_from_name(const std::string& name);

/** The codec's PCM sample rate (L16: the rate it was opened with). */
int default_rate(Codec codec);

class Encoder {
 public:
  virtual ~Encoder() = default;
  virtual int rate() const = 0;
  /** Encodes `samples` PCM samples; returns payload bytes written (≤ cap). */
  virtual size_t encode(const int16_t* pcm, size_t samples, uint8_t* out, size_t cap) = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual int rate() const = 0;
  /** Decodes one payload; returns samples written (≤ cap). Throws std::runtime_error on corrupt input. */
  virtual size_t decode(const uint8_t* payload, size_t len, int16_t* out, size_t cap) = 0;
  /** Fills `samples` samples for a lost packet (packet loss concealment). */
  virtual size_t conceal(int16_t* out, size_t samples) = 0;
  /** True when decode_fec can recover a lost frame from the packet after it (Opus in-band FEC). */
  virtual bool has_fec() const { return false; }
  /**
   * Recovers the `samples` samples lost just before `next_payload` from the redundancy it
   * carries (Opus LBRR); where it carries none, the codec's concealment. Returns samples
   * written, 0 when unsupported or the payload is corrupt (then call conceal instead).
   */
  virtual size_t decode_fec(const uint8_t* next_payload, size_t len, int16_t* out, size_t samples) {
    (void)next_payload;
    (void)len;
    (void)out;
    (void)samples;
    return 0;
  }
};

/** `rate` matters for L16 (8000, 16000 or 48000); the others have a fixed rate. */
std::unique_ptr<Encoder> make_encoder(Codec codec, int rate);
std::unique_ptr<Decoder> make_decoder(Codec codec, int rate);

}  // namespace parley
