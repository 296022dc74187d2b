// A WAV (PCM16) file that survives a crash: the RIFF and data sizes in the header
// are rewritten and the file flushed to disk about once per second of audio, so a
// process killed with SIGKILL leaves a file standard readers open, missing at most
// the last second.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace parley {

class WavWriter {
 public:
  WavWriter(const std::string& path, int rate, int channels);
  ~WavWriter();
  WavWriter(const WavWriter&) = delete;
  WavWriter& operator=(const WavWriter&) = delete;

  /** Appends interleaved samples (a multiple of `channels`). */
  void write(const int16_t* samples, size_t count);
  /** Fixes the header, flushes and closes; further writes throw. */
  void close();
  uint64_t frames() const { return bytes_ / (2 * static_cast<uint64_t>(channels_)); }

 private:
  void fix_header();
  int fd_ = -1;
  int rate_;
  int channels_;
  uint64_t bytes_ = 0;
  uint64_t since_sync_ = 0;
  std::string path_;
};

}  // namespace parley
