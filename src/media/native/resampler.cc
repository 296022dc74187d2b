#include "resampler.h"

#include <speex/speex_resampler.h>

#include <stdexcept>
#include <string>

namespace parley {

Resampler::Resampler(int in_rate, int out_rate) : in_rate_(in_rate), out_rate_(out_rate) {
  if (in_rate < 8000 || in_rate > 192000 || out_rate < 8000 || out_rate > 192000)
    throw std::invalid_argument("resampler rates must be between 8000 and 192000 Hz");
  int err = 0;
  state_ = speex_resampler_init(1, static_cast<spx_uint32_t>(in_rate), static_cast<spx_uint32_t>(out_rate), 3, &err);
  if (!state_ || err != RESAMPLER_ERR_SUCCESS)
    throw std::runtime_error(std::string("speex_resampler_init: ") + speex_resampler_strerror(err));
  speex_resampler_skip_zeros(state_);
}

Resampler::~Resampler() { speex_resampler_destroy(state_); }

size_t Resampler::process(const int16_t* in, size_t in_len, int16_t* out, size_t out_cap) {
  spx_uint32_t in_n = static_cast<spx_uint32_t>(in_len);
  spx_uint32_t out_n = static_cast<spx_uint32_t>(out_cap);
  int err = speex_resampler_process_int(state_, 0, in, &in_n, out, &out_n);
  if (err != RESAMPLER_ERR_SUCCESS) throw std::runtime_error(speex_resampler_strerror(err));
  return out_n;
}

}  // namespace parley
