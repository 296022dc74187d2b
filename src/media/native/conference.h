// One conference inside the engine: its mixer at the conference rate, the members'
// per-participant input stage (resample to the conference rate, VAD, level), the
// players mixed into it (broadcast sources everyone hears), the recorders of its mix
// (listeners that hear everything), and its links to other conferences (each link is
// a member on both sides whose input is the other side's mix for it, so neither side
// hears its own audio back).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "jitter_buffer.h"
#include "mixer.h"
#include "player.h"
#include "recorder.h"
#include "vad.h"

namespace parley {

struct MemberRouting {
  bool muted = false;
  bool deaf = false;
  float gain = 1.0f;
  /** Absent: everyone. */
  std::optional<std::set<uint32_t>> speak_to;
  std::optional<std::set<uint32_t>> hear_from;
};

struct MemberState {
  MemberRouting routing;
  ConverterSlot in_conv;
  std::vector<int16_t> frame;  // this tick's input at the conference rate (filled only when mixed)
  // This tick's and the last tick's input at the codec's rate: resampling waits until the mixer
  // has ranked the talkers, so only the few it mixes are converted (and a resampler skipped for a
  // while first takes the last frame, so its filter history is the audio right before).
  std::vector<int16_t> raw, prev_raw;
  int raw_rate = 0;
  bool has_raw = false, had_raw = false;
  bool pending = false;      // raw holds input not yet converted into frame
  uint64_t converted = 0;    // conference tick of the last conversion (0: never)
  Vad vad;
  double level = -100;
  bool talking = false;
};

struct LinkEnd {
  /** The mixer member standing for the other conference. */
  uint32_t member = 0;
  /** We hear the other side (its mix is our member's input). */
  bool hears = false;
  /** The other side hears us (our member's mix is exported to it). */
  bool speaks = false;
  std::vector<int16_t> inbox;  // the other side's export, at our rate
  bool have_inbox = false;
  /** Converts the other side's export to our rate (used by the other side's tick). */
  ConverterSlot export_conv;
};

struct ConferenceStats {
  size_t members;
  size_t players;
  size_t recorders;
  size_t links;
  size_t groups;
  int64_t mix_last_us;
  int64_t mix_max_us;
  uint64_t ticks;
  uint64_t late_ticks;
};

class Conference {
 public:
  Conference(std::string name, uint64_t uid, int rate, size_t loudest);
  const std::string& name() const { return name_; }
  /** Never reused, unlike names: keys shared encoders. */
  uint64_t uid() const { return uid_; }
  int rate() const { return mixer_.rate(); }
  size_t frame() const { return mixer_.frame_samples(); }

  void add_member(uint32_t id, const MemberRouting& r);
  void update_member(uint32_t id, const MemberRouting& r);
  void remove_member(uint32_t id);
  bool has_member(uint32_t id) const { return members_.count(id) > 0; }
  const std::map<uint32_t, MemberState>& members() const { return members_; }

  /** One member's pulled frame at `rate`; returns the VAD result (changed → a talking event). */
  VadResult feed(uint32_t id, const int16_t* pcm, int rate, FrameKind kind);

  void add_player(uint32_t id, std::shared_ptr<Player> p);
  bool remove_player(uint32_t id);
  void add_recorder(uint32_t id, std::shared_ptr<Recorder> r);
  bool remove_recorder(uint32_t id);
  std::map<uint32_t, std::shared_ptr<Recorder>>& recorders() { return recorders_; }

  void add_link(const std::string& other, LinkEnd end);
  void remove_link(const std::string& other);
  bool has_link(const std::string& other) const { return links_.count(other) > 0; }
  std::map<std::string, LinkEnd>& links() { return links_; }

  /**
   * Mixes one tick. `finished` receives the players that ended. Afterwards `mix_for`
   * gives what each member, link and recorder hears.
   */
  void tick(std::vector<uint32_t>& finished);
  const MixGroup* mix_for(uint32_t member) const { return mixer_.group_of(member); }

  void record_tick_time(int64_t us, bool late);
  ConferenceStats stats() const;

 private:
  MixMember mix_member(const MemberRouting& r) const;
  /** Resamples a ranked member's pending input into its frame. */
  void convert_input(MemberState& s);
  std::string name_;
  uint64_t uid_;
  Mixer mixer_;
  std::map<uint32_t, MemberState> members_;
  std::map<uint32_t, std::shared_ptr<Player>> players_;
  std::vector<std::vector<int16_t>> player_frames_;
  std::map<uint32_t, std::shared_ptr<Recorder>> recorders_;
  std::map<std::string, LinkEnd> links_;
  int64_t mix_last_us_ = 0, mix_max_us_ = 0;
  uint64_t ticks_ = 0, late_ticks_ = 0;
  uint64_t mix_ticks_ = 0;  // tick() calls (ticks_ counts only the timed ones)
  std::vector<int16_t> prime_;  // output of the priming conversion, thrown away
};

}  // namespace parley
