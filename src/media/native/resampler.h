// Sample-rate conversion between the codec rates (8/16/48 kHz) and the conference
// rate, with speexdsp's resampler (quality 3: the VoIP setting, a few µs per 20 ms).
#pragma once
#include <cstddef>
#include <cstdint>

struct SpeexResamplerState_;

namespace parley {

class Resampler {
 public:
  Resampler(int in_rate, int out_rate);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;
  /** Converts all of `in`; returns how many samples were written (at most `out_cap`). */
  size_t process(const int16_t* in, size_t in_len, int16_t* out, size_t out_cap);
  int in_rate() const { return in_rate_; }
  int out_rate() const { return out_rate_; }

 private:
  SpeexResamplerState_* state_;
  int in_rate_;
  int out_rate_;
};

}  // namespace parley
