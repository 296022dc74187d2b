// Energy voice activity detector with an adaptive noise floor and hysteresis: talking
// starts when a frame is well above the floor for a few frames and stops only after a
// hangover below a lower threshold, so events do not flap between syllables.
#pragma once
#include <cstddef>
#include <cstdint>

namespace parley {

struct VadResult {
  /** Frame level in dBov (0 = full-scale square wave; a full-scale sine is about -3). */
  double level;
  bool talking;
  /** talking changed with this frame (a start or stop event). */
  bool changed;
};

class Vad {
 public:
  VadResult process(const int16_t* pcm, size_t n);

 private:
  static constexpr double kStartAboveFloor = 12.0;  // dB
  static constexpr double kStopAboveFloor = 6.0;    // dB
  static constexpr double kMinSpeech = -55.0;       // dBov: quieter is never speech
  static constexpr int kStartFrames = 2;            // 40 ms above start threshold
  static constexpr int kHangoverFrames = 15;        // 300 ms below stop threshold
  double floor_ = -70.0;
  bool talking_ = false;
  int above_ = 0;
  int below_ = 0;
};

}  // namespace parley
