// Players: a PCM buffer (copied in once) played 20 ms at a time into a conference
// mix or to one endpoint, at whatever rate the target runs, optionally looped.
// Also FrameConverter, the exact-length 20 ms frame resampler every tap uses.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "resampler.h"

namespace parley {

/** Converts 20 ms frames between two rates, always yielding exactly out_rate/50 samples. */
class FrameConverter {
 public:
  FrameConverter(int in_rate, int out_rate);
  int in_rate() const { return in_rate_; }
  int out_rate() const { return out_rate_; }
  /** `in`: in_rate/50 samples; `out`: room for out_rate/50. */
  void convert(const int16_t* in, int16_t* out);

 private:
  int in_rate_;
  int out_rate_;
  std::unique_ptr<Resampler> resampler_;
  // Resampler output not yet handed out; the filter delay makes the first frames short.
  std::vector<int16_t> pending_;
  std::vector<int16_t> scratch_;
};

/** Keeps a converter matching the rates asked for, recreating it only when they change. */
class ConverterSlot {
 public:
  void convert(int in_rate, int out_rate, const int16_t* in, int16_t* out);

 private:
  std::unique_ptr<FrameConverter> conv_;
};

/** PCM copied in once and shared, read-only, by every player of it (one prompt to 500 legs is one copy). */
struct PcmBuffer {
  /** Throws std::invalid_argument for an empty buffer or a rate that has no whole 20 ms frame. */
  PcmBuffer(std::vector<int16_t> samples, int rate);
  const std::vector<int16_t> samples;
  const int rate;
};

class Player {
 public:
  Player(std::shared_ptr<const PcmBuffer> pcm, bool loop);
  /** Writes the next 20 ms at `out_rate` into `out`; returns false (and writes silence) once finished. */
  bool read(int16_t* out, int out_rate);
  bool finished() const { return finished_; }

 private:
  std::shared_ptr<const PcmBuffer> buffer_;
  const std::vector<int16_t>& pcm_;
  int rate_;
  bool loop_;
  size_t pos_ = 0;
  bool finished_ = false;
  std::vector<int16_t> frame_;
  ConverterSlot conv_;
};

}  // namespace parley
