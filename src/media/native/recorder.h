// Recorders: a conference mix or one endpoint's incoming audio, outgoing audio, or
// both (stereo: left = in, right = out) to a crash-safe PCM16 WAV file (WavWriter).
//
// The engine thread never touches the disk: each tick it hands the recorder one
// frame per side (`in`, `out`, then `commit`), which lands in a memory buffer; the
// engine's disk thread calls `flush` to write it (WavWriter fsyncs about once per
// second, which must not delay a tick).
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "player.h"
#include "wav_writer.h"

namespace parley {

enum class RecordSides { In, Out, Both };

class Recorder {
 public:
  /** Creates the file now, so a bad path fails the request instead of a later tick. */
  Recorder(const std::string& path, int rate, RecordSides sides);
  int rate() const { return rate_; }
  /** Engine thread: this tick's incoming (or mix) frame at `rate`, 20 ms long. */
  void in(const int16_t* pcm, int rate);
  /** Engine thread: this tick's outgoing frame. */
  void out(const int16_t* pcm, int rate);
  /** Engine thread: ends the tick; a side that got no frame is silence. */
  void commit();
  /** Disk thread or closer: writes what was committed. Returns false after a write error. */
  bool flush();
  /** Flushes and closes the file; returns the recorded duration in ms. Idempotent. */
  int64_t close();
  int64_t duration_ms() const;
  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }

 private:
  int rate_;
  RecordSides sides_;
  size_t frame_;
  std::vector<int16_t> in_, out_;
  bool have_in_ = false, have_out_ = false;
  ConverterSlot in_conv_, out_conv_;
  mutable std::mutex mu_;  // guards everything below
  std::vector<int16_t> pending_;
  std::vector<int16_t> writing_;
  uint64_t frames_ = 0;
  std::unique_ptr<WavWriter> writer_;
  bool failed_ = false;
  std::string error_;
};

}  // namespace parley
