#include "mixer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace parley {

namespace {
constexpr int32_t kKnee = 24576;  // 0.75 of full scale
constexpr int32_t kHeadroom = 32767 - kKnee;
constexpr uint64_t kHoldTicks = 10;  // 200 ms
constexpr double kHoldBonus = 4.0;   // energy ×4 = +6 dB

bool allows(const std::optional<std::set<uint32_t>>& set, uint32_t id) { return !set || set->count(id) > 0; }

uint64_t fnv(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; i++) {
    h ^= (v >> (i * 8)) & 0xff;
    h *= 1099511628211ULL;
  }
  return h;
}
}  // namespace

int16_t soft_limit(int32_t v) {
  int32_t a = v < 0 ? -v : v;
  if (a <= kKnee) return static_cast<int16_t>(v);
  // Above the knee, compress the excess smoothly into the remaining headroom.
  double over = static_cast<double>(a - kKnee) / kHeadroom;
  auto limited = static_cast<int32_t>(kKnee + kHeadroom * std::tanh(over));
  limited = std::min(limited, 32767);
  return static_cast<int16_t>(v < 0 ? -limited : limited);
}

Mixer::Mixer(int rate, size_t loudest) : rate_(rate), frame_(static_cast<size_t>(rate / 50)), loudest_(loudest) {
  if (rate != 8000 && rate != 16000 && rate != 48000)
    throw std::invalid_argument("mixer rate must be 8000, 16000 or 48000");
  if (loudest == 0) throw std::invalid_argument("the mixer must mix at least one talker");
  acc_.resize(frame_);
}

void Mixer::set(uint32_t id, const MixMember& m) {
  auto it = index_.find(id);
  if (it != index_.end()) {
    members_[it->second].m = m;
    return;
  }
  index_[id] = members_.size();
  members_.push_back(Slot{id, m});
}

void Mixer::remove(uint32_t id) {
  auto it = index_.find(id);
  if (it == index_.end()) return;
  size_t i = it->second;
  index_.erase(it);
  if (i != members_.size() - 1) {
    members_[i] = std::move(members_.back());
    index_[members_[i].id] = i;
  }
  members_.pop_back();
  // Group slot indexes refer to the old layout; the next tick rebuilds them.
  for (auto& s : members_) s.group = -1;
}

void Mixer::input(uint32_t id, const int16_t* pcm, double energy) {
  auto it = index_.find(id);
  if (it == index_.end()) return;
  members_[it->second].pcm = pcm;
  members_[it->second].energy = energy;
}

const MixGroup* Mixer::group_of(uint32_t id) const {
  auto it = index_.find(id);
  if (it == index_.end()) return nullptr;
  int g = members_[it->second].group;
  return g < 0 ? nullptr : &groups_[static_cast<size_t>(g)].out;
}

void Mixer::tick() {
  rank();
  mix_ranked();
}

void Mixer::rank() {
  // 1. Sources: broadcast members always; talkers (not muted, not silent) ranked by energy, loudest N kept.
  ticks_++;
  ranked_.clear();
  sources_.clear();
  for (uint32_t i = 0; i < members_.size(); i++) {
    const Slot& s = members_[i];
    if (s.pcm == nullptr) continue;
    if (s.m.broadcast) {
      sources_.push_back(i);
      continue;
    }
    if (s.m.muted) continue;
    double energy = s.energy;
    if (energy < 0) {
      energy = 0;
      for (size_t k = 0; k < frame_; k++) energy += static_cast<double>(s.pcm[k]) * s.pcm[k];
    }
    if (energy <= 0) continue;
    double score = energy * s.m.in_gain * s.m.in_gain;
    if (s.last_mixed != 0 && ticks_ - s.last_mixed <= kHoldTicks) score *= kHoldBonus;
    ranked_.emplace_back(score, i);
  }
  if (ranked_.size() > loudest_) {
    std::nth_element(ranked_.begin(), ranked_.begin() + static_cast<std::ptrdiff_t>(loudest_), ranked_.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    ranked_.resize(loudest_);
  }
  for (const auto& r : ranked_) {
    sources_.push_back(r.second);
    members_[r.second].last_mixed = ticks_;
  }
  std::sort(sources_.begin(), sources_.end());
  mixed_.clear();
  for (uint32_t s : sources_) mixed_.push_back(members_[s].id);
  std::sort(mixed_.begin(), mixed_.end());
}

void Mixer::mix_ranked() {
  // 2. Each listener's contributors; identical sets (and output gains) share one group.
  group_count_ = 0;
  for (uint32_t li = 0; li < members_.size(); li++) {
    Slot& l = members_[li];
    l.group = -1;
    if (l.m.deaf) continue;
    scratch_from_.clear();
    for (uint32_t si : sources_) {
      if (si == li) continue;
      const Slot& t = members_[si];
      if (!t.m.broadcast && (!allows(l.m.hear_from, t.id) || !allows(t.m.speak_to, l.id))) continue;
      scratch_from_.push_back(si);
    }
    size_t g = 0;
    for (; g < group_count_; g++)
      if (groups_[g].gain == l.m.out_gain && groups_[g].from == scratch_from_) break;
    if (g == group_count_) {
      if (groups_.size() == group_count_) groups_.emplace_back();
      groups_[g].from.assign(scratch_from_.begin(), scratch_from_.end());
      groups_[g].gain = l.m.out_gain;
      group_count_++;
    }
    l.group = static_cast<int>(g);
  }

  // 3. One mix per group.
  if (group_pcm_.size() < group_count_) group_pcm_.resize(group_count_, std::vector<int16_t>(frame_));
  for (size_t g = 0; g < group_count_; g++) {
    Group& grp = groups_[g];
    std::vector<int16_t>& out = group_pcm_[g];
    uint32_t gain_bits;
    std::memcpy(&gain_bits, &grp.gain, sizeof gain_bits);
    uint64_t sig = fnv(1469598103934665603ULL, gain_bits);
    if (grp.from.empty()) {
      std::fill(out.begin(), out.end(), 0);
    } else {
      std::fill(acc_.begin(), acc_.end(), 0);
      for (uint32_t si : grp.from) {
        const Slot& t = members_[si];
        sig = fnv(sig, t.id);
        float ig = t.m.in_gain;
        if (ig == 1.0f) {
          for (size_t i = 0; i < frame_; i++) acc_[i] += t.pcm[i];
        } else {
          for (size_t i = 0; i < frame_; i++) acc_[i] += static_cast<int32_t>(std::lround(t.pcm[i] * ig));
        }
      }
      if (grp.gain == 1.0f) {
        for (size_t i = 0; i < frame_; i++) out[i] = soft_limit(acc_[i]);
      } else {
        for (size_t i = 0; i < frame_; i++) out[i] = soft_limit(static_cast<int32_t>(std::lround(acc_[i] * grp.gain)));
      }
    }
    grp.out = MixGroup{sig, out.data(), grp.from.size()};
  }
  for (auto& s : members_) {
    s.pcm = nullptr;
    s.energy = -1;
  }
}

MixResult Mixer::mix(const std::map<uint32_t, const int16_t*>& in) {
  for (const auto& [id, pcm] : in) input(id, pcm);
  tick();
  MixResult result;
  for (size_t g = 0; g < group_count_; g++)
    result.mixes.emplace_back(groups_[g].out.pcm, groups_[g].out.pcm + frame_);
  for (const auto& s : members_)
    if (s.group >= 0) result.group_of[s.id] = static_cast<size_t>(s.group);
  result.mixed = mixed_;
  return result;
}

}  // namespace parley
