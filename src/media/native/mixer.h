// The conference mixer for one 20 ms tick, at the conference rate.
//
// Each listener hears the sum of its contributors: the loudest N talkers that are
// not muted, that speak to it (everyone, or a speak-to set: whisper), and that it
// hears (everyone, or a hear-from set), never itself. Listeners whose contributor
// set and output gain are the same form one group whose mix is computed (and later
// encoded) once: in a conference where few talk, almost everyone is in one group.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace parley {

struct MixMember {
  bool muted = false;
  bool deaf = false;
  float in_gain = 1.0f;
  float out_gain = 1.0f;
  /** Absent: speaks to everyone. */
  std::optional<std::set<uint32_t>> speak_to;
  /** Absent: hears everyone. */
  std::optional<std::set<uint32_t>> hear_from;
};

struct MixResult {
  /** Listener id → index into `mixes`; deaf members are absent. */
  std::map<uint32_t, size_t> group_of;
  std::vector<std::vector<int16_t>> mixes;
  /** Talkers that made it into the mix this tick. */
  std::vector<uint32_t> mixed;
};

class Mixer {
 public:
  Mixer(int rate, size_t loudest);
  size_t frame_samples() const { return frame_; }
  void set(uint32_t id, const MixMember& m) { members_[id] = m; }
  void remove(uint32_t id) { members_.erase(id); }
  /** `input`: id → one frame (frame_samples()) of PCM; absent = silence. */
  MixResult mix(const std::map<uint32_t, const int16_t*>& input);

 private:
  size_t frame_;
  size_t loudest_;
  std::map<uint32_t, MixMember> members_;
  std::vector<int32_t> acc_;
};

/** Soft limiter: linear below ~0.75 full scale, then a smooth knee that never exceeds int16. */
int16_t soft_limit(int32_t v);

}  // namespace parley
