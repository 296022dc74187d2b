#include "mixer.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace parley {

namespace {
constexpr int32_t kKnee = 24576;  // 0.75 of full scale
constexpr int32_t kHeadroom = 32767 - kKnee;

bool allows(const std::optional<std::set<uint32_t>>& set, uint32_t id) { return !set || set->count(id) > 0; }
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

Mixer::Mixer(int rate, size_t loudest) : frame_(static_cast<size_t>(rate / 50)), loudest_(loudest) {
  if (rate != 8000 && rate != 16000 && rate != 48000)
    throw std::invalid_argument("mixer rate must be 8000, 16000 or 48000");
  if (loudest == 0) throw std::invalid_argument("the mixer must mix at least one talker");
  acc_.resize(frame_);
}

MixResult Mixer::mix(const std::map<uint32_t, const int16_t*>& input) {
  // 1. Talkers: members with audio this tick, not muted, ranked by energy.
  std::vector<std::pair<double, uint32_t>> talkers;
  for (const auto& [id, pcm] : input) {
    auto it = members_.find(id);
    if (it == members_.end() || it->second.muted || pcm == nullptr) continue;
    double energy = 0;
    for (size_t i = 0; i < frame_; i++) energy += static_cast<double>(pcm[i]) * pcm[i];
    if (energy > 0) talkers.emplace_back(energy * it->second.in_gain * it->second.in_gain, id);
  }
  std::sort(talkers.begin(), talkers.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (talkers.size() > loudest_) talkers.resize(loudest_);

  MixResult result;
  for (const auto& t : talkers) result.mixed.push_back(t.second);
  std::sort(result.mixed.begin(), result.mixed.end());

  // 2. Each listener's contributors; identical sets (and output gains) share one mix.
  std::map<std::pair<std::vector<uint32_t>, float>, size_t> groups;
  for (const auto& [listener, m] : members_) {
    if (m.deaf) continue;
    std::vector<uint32_t> from;
    for (uint32_t talker : result.mixed) {
      if (talker == listener || !allows(m.hear_from, talker)) continue;
      if (!allows(members_.at(talker).speak_to, listener)) continue;
      from.push_back(talker);
    }
    auto key = std::make_pair(std::move(from), m.out_gain);
    auto found = groups.find(key);
    if (found == groups.end()) {
      std::fill(acc_.begin(), acc_.end(), 0);
      for (uint32_t talker : key.first) {
        const int16_t* pcm = input.at(talker);
        float g = members_.at(talker).in_gain;
        for (size_t i = 0; i < frame_; i++) acc_[i] += static_cast<int32_t>(std::lround(pcm[i] * g));
      }
      std::vector<int16_t> out(frame_);
      for (size_t i = 0; i < frame_; i++) out[i] = soft_limit(static_cast<int32_t>(std::lround(acc_[i] * key.second)));
      result.mixes.push_back(std::move(out));
      found = groups.emplace(std::move(key), result.mixes.size() - 1).first;
    }
    result.group_of[listener] = found->second;
  }
  return result;
}

}  // namespace parley
