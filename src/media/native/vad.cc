#include "vad.h"

#include <algorithm>
#include <cmath>

namespace parley {

VadResult Vad::process(const int16_t* pcm, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += static_cast<double>(pcm[i]) * pcm[i];
  double ms = n ? sum / static_cast<double>(n) : 0;
  double level = ms > 0 ? 10.0 * std::log10(ms / (32768.0 * 32768.0)) : -96.0;
  level = std::max(level, -96.0);

  // The floor falls at once to quieter frames and rises slowly (0.1 dB a frame, 5 dB/s):
  // speech has pauses that pull it back down, while a steady noise (hum, fan) is
  // absorbed within seconds and so stops counting as talking.
  if (level < floor_) floor_ = level;
  else floor_ = std::min(floor_ + 0.1, level);
  floor_ = std::max(floor_, -90.0);

  bool changed = false;
  if (!talking_) {
    above_ = (level > floor_ + kStartAboveFloor && level > kMinSpeech) ? above_ + 1 : 0;
    if (above_ >= kStartFrames) {
      talking_ = true;
      changed = true;
      below_ = 0;
    }
  } else {
    below_ = (level < floor_ + kStopAboveFloor || level < kMinSpeech) ? below_ + 1 : 0;
    if (below_ >= kHangoverFrames) {
      talking_ = false;
      changed = true;
      above_ = 0;
    }
  }
  return {level, talking_, changed};
}

}  // namespace parley
