#include "conference.h"

#include <algorithm>

namespace parley {

namespace {
constexpr size_t kMaxInputFrame = 960;  // 20 ms at 48 kHz, the highest codec rate
}  // namespace

Conference::Conference(std::string name, uint64_t uid, int rate, size_t loudest)
    : name_(std::move(name)), uid_(uid), mixer_(rate, loudest) {}

MixMember Conference::mix_member(const MemberRouting& r) const {
  MixMember m;
  m.muted = r.muted;
  m.deaf = r.deaf;
  m.in_gain = r.gain;
  m.speak_to = r.speak_to;
  m.hear_from = r.hear_from;
  return m;
}

void Conference::add_member(uint32_t id, const MemberRouting& r) {
  MemberState& s = members_[id];
  s.routing = r;
  s.frame.assign(frame(), 0);
  s.raw.assign(kMaxInputFrame, 0);
  s.prev_raw.assign(kMaxInputFrame, 0);
  if (prime_.empty()) prime_.assign(frame(), 0);
  mixer_.set(id, mix_member(r));
}

void Conference::update_member(uint32_t id, const MemberRouting& r) {
  auto it = members_.find(id);
  if (it == members_.end()) return;
  it->second.routing = r;
  mixer_.set(id, mix_member(r));
}

void Conference::remove_member(uint32_t id) {
  members_.erase(id);
  mixer_.remove(id);
}

VadResult Conference::feed(uint32_t id, const int16_t* pcm, int rate, FrameKind kind) {
  auto it = members_.find(id);
  if (it == members_.end()) return VadResult{-100, false, false};
  MemberState& s = it->second;
  auto n = static_cast<size_t>(rate / 50);
  // The detector measures energy, so it runs at the codec's rate: no resampling needed for it.
  VadResult v = s.vad.process(pcm, n);
  s.level = v.level;
  s.talking = v.talking;
  bool had = s.has_raw && s.raw_rate == rate;  // last tick's frame is usable history for this rate
  s.has_raw = false;
  // Muted and silent members cost no resampling and nothing in the mixer (most of a large conference).
  if (kind == FrameKind::Silence || s.routing.muted || n == 0 || n > kMaxInputFrame) return v;
  if (rate == this->rate()) {
    std::copy(pcm, pcm + n, s.frame.begin());
    s.pending = false;
    mixer_.input(id, s.frame.data());
    return v;
  }
  // Another rate: keep the frame; the mixer ranks it by its energy, scaled to a frame at the
  // conference rate (resampling keeps the mean square), and convert_input runs if it is mixed.
  std::swap(s.raw, s.prev_raw);
  std::copy(pcm, pcm + n, s.raw.begin());
  s.raw_rate = rate;
  s.has_raw = true;
  s.had_raw = had;
  s.pending = true;
  double energy = 0;
  for (size_t k = 0; k < n; k++) energy += static_cast<double>(pcm[k]) * pcm[k];
  mixer_.input(id, s.frame.data(), energy * static_cast<double>(frame()) / static_cast<double>(n));
  return v;
}

void Conference::convert_input(MemberState& s) {
  s.pending = false;
  if (s.converted + 1 != mix_ticks_ && s.had_raw) {
    // Not converted last tick: run last tick's frame through first, so the filter holds the audio
    // that came right before this frame, not whatever it held when this member was last mixed.
    s.in_conv.convert(s.raw_rate, rate(), s.prev_raw.data(), prime_.data());
  }
  s.in_conv.convert(s.raw_rate, rate(), s.raw.data(), s.frame.data());
  s.converted = mix_ticks_;
}

void Conference::add_player(uint32_t id, std::shared_ptr<Player> p) {
  players_[id] = std::move(p);
  MixMember m;
  m.broadcast = true;
  m.deaf = true;
  mixer_.set(id, m);
}

bool Conference::remove_player(uint32_t id) {
  mixer_.remove(id);
  return players_.erase(id) > 0;
}

void Conference::add_recorder(uint32_t id, std::shared_ptr<Recorder> r) {
  recorders_[id] = std::move(r);
  MixMember m;
  m.muted = true;  // a listener that hears everything and says nothing
  mixer_.set(id, m);
}

bool Conference::remove_recorder(uint32_t id) {
  mixer_.remove(id);
  return recorders_.erase(id) > 0;
}

void Conference::add_link(const std::string& other, LinkEnd end) {
  MixMember m;
  m.muted = !end.hears;
  m.deaf = !end.speaks;
  mixer_.set(end.member, m);
  end.inbox.assign(frame(), 0);
  links_[other] = std::move(end);
}

void Conference::remove_link(const std::string& other) {
  auto it = links_.find(other);
  if (it == links_.end()) return;
  mixer_.remove(it->second.member);
  links_.erase(it);
}

void Conference::tick(std::vector<uint32_t>& finished) {
  if (player_frames_.size() < players_.size()) player_frames_.resize(players_.size(), std::vector<int16_t>(frame()));
  size_t i = 0;
  for (auto& [id, p] : players_) {
    std::vector<int16_t>& buf = player_frames_[i++];
    if (p->read(buf.data(), rate())) mixer_.input(id, buf.data());
    if (p->finished()) finished.push_back(id);
  }
  for (auto& [other, l] : links_) {
    if (l.hears && l.have_inbox) mixer_.input(l.member, l.inbox.data());
    l.have_inbox = false;
  }
  mix_ticks_++;
  mixer_.rank();
  for (uint32_t mid : mixer_.mixed()) {
    auto m = members_.find(mid);
    if (m != members_.end() && m->second.pending) convert_input(m->second);
  }
  mixer_.mix_ranked();
}

void Conference::record_tick_time(int64_t us, bool late) {
  mix_last_us_ = us;
  mix_max_us_ = std::max(mix_max_us_, us);
  ticks_++;
  if (late) late_ticks_++;
}

ConferenceStats Conference::stats() const {
  return ConferenceStats{members_.size(), players_.size(), recorders_.size(), links_.size(), mixer_.group_count(),
                         mix_last_us_,    mix_max_us_,     ticks_,            late_ticks_};
}

}  // namespace parley
