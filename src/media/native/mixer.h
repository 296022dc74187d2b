// The conference mixer for one 20 ms tick, at the conference rate.
//
// Each listener hears the sum of its contributors: the loudest N talkers that are
// not muted, that speak to it (everyone, or a speak-to set: whisper), and that it
// hears (everyone, or a hear-from set), never itself; plus every broadcast source
// (a prompt played into the conference), which bypasses ranking and hear-from.
// Listeners whose contributor set and output gain are the same form one group whose
// mix is computed (and later encoded) once: in a conference where few talk, almost
// everyone is in one group.
//
// Loudest-N has hysteresis: a talker mixed within the last 200 ms ranks as if 6 dB
// louder, so similar voices do not swap places every tick (each swap changes who
// hears which mix, and so which shared encoder a listener's stream comes from).
//
// The tick path (`tick`) does not allocate once the member count and group count
// have been seen before: every buffer is owned by the mixer and reused.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

namespace parley {

struct MixMember {
  bool muted = false;
  bool deaf = false;
  /** Always mixed for every non-deaf listener, outside the loudest-N ranking (prompts). */
  bool broadcast = false;
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

/** One shared mix of the last tick. */
struct MixGroup {
  /** Stable identity of the contributor set and gain, so encoders can follow a group across ticks. */
  uint64_t signature;
  const int16_t* pcm;
  /** Number of contributors; 0 means the mix is silence. */
  size_t contributors;
};

class Mixer {
 public:
  Mixer(int rate, size_t loudest);
  size_t frame_samples() const { return frame_; }
  int rate() const { return rate_; }
  void set(uint32_t id, const MixMember& m);
  void remove(uint32_t id);
  bool has(uint32_t id) const { return index_.count(id) > 0; }
  size_t size() const { return members_.size(); }

  /**
   * Fast path. Sets one member's frame for the coming tick (nullptr = silence); cleared by tick().
   * `energy` (sum of squares over one frame at the mixer's rate), when the caller knows it, lets
   * rank() run before `pcm` holds the audio: it is read only by mix_ranked(), so a caller that
   * resamples its input can do so for the few members ranked in, not for every talker.
   */
  void input(uint32_t id, const int16_t* pcm, double energy = -1);
  /** Mixes the inputs given since the last tick: rank() then mix_ranked(). */
  void tick();
  /** First half of tick(): picks this tick's sources; afterwards mixed() lists them. */
  void rank();
  /** Second half of tick(): groups the listeners and mixes each group once. */
  void mix_ranked();
  /** After tick(): the group a listener hears, or nullptr (deaf or unknown). */
  const MixGroup* group_of(uint32_t id) const;
  size_t group_count() const { return group_count_; }
  /** After tick(): ids mixed this tick (talkers and broadcast sources), ascending. */
  const std::vector<uint32_t>& mixed() const { return mixed_; }

  /** Convenience for tests and tools: `input` id → one frame; allocates its result. */
  MixResult mix(const std::map<uint32_t, const int16_t*>& input);

 private:
  struct Slot {
    uint32_t id;
    MixMember m;
    const int16_t* pcm = nullptr;
    double energy = -1;  // given with the input; < 0: computed from pcm
    int group = -1;
    /** Tick at which this member was last among the mixed talkers. */
    uint64_t last_mixed = 0;
  };
  struct Group {
    std::vector<uint32_t> from;  // contributor slot indexes, ascending
    float gain;
    MixGroup out;
  };
  void reindex();

  int rate_;
  size_t frame_;
  size_t loudest_;
  std::vector<Slot> members_;
  std::unordered_map<uint32_t, size_t> index_;
  // Scratch, reused every tick.
  std::vector<std::pair<double, uint32_t>> ranked_;
  std::vector<uint32_t> sources_;  // slot indexes mixed this tick
  std::vector<uint32_t> scratch_from_;
  std::vector<uint32_t> mixed_;
  std::vector<Group> groups_;
  std::vector<std::vector<int16_t>> group_pcm_;
  size_t group_count_ = 0;
  std::vector<int32_t> acc_;
  uint64_t ticks_ = 0;
};

/** Soft limiter: linear below ~0.75 full scale, then a smooth knee that never exceeds int16. */
int16_t soft_limit(int32_t v);

}  // namespace parley
