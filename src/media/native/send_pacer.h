// Spreads one tick's outgoing RTP packets over a window after the tick's deadline instead of sending
// them in one burst. In a burst the last endpoint's packet leaves only after every send before it,
// so any tick-to-tick change in the cost of those sends (other traffic, the kernel, the hypervisor)
// moves its packet: with hundreds of endpoints the late ones' intervals swing by milliseconds. With
// a spread, endpoints go in groups, each at a fixed offset from the deadline (one group per ms), and a
// group waits only for the sends of its own group. It also smooths the egress of a large conference.
// The window opens once the tick's mix is surely done (SendLead): the first groups would otherwise
// inherit the changes in the mix's duration. The price is latency: a group at offset k ms leaves
// about k ms later than a burst would have sent it.
#pragma once
#include <cstdint>
#include <limits>
#include <vector>

namespace parley {

class SendPacer {
 public:
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

  /** Starts a tick's sends: `ids` leave in order, in groups, over [start, start + spread_ns). */
  void start(int64_t start_ns, int64_t spread_ns, std::vector<uint32_t>& ids) {
    ids_.swap(ids);
    ids.clear();
    next_ = 0;
    start_ = start_ns;
    spread_ = spread_ns > 0 ? spread_ns : 0;
    groups_ = spread_ / 1'000'000;
    if (groups_ < 1) groups_ = 1;
  }

  /** Packets not yet sent. */
  size_t waiting() const { return ids_.size() - next_; }

  /** When the next send is due (monotonic ns), or kNever. */
  int64_t next_due() const { return next_ < ids_.size() ? slot(next_) : kNever; }

  /** Calls send(id) for every packet due by `now_ns`. */
  template <typename Send>
  void send_due(int64_t now_ns, Send&& send) {
    while (next_ < ids_.size() && slot(next_) <= now_ns) send(ids_[next_++]);
  }

  /** Calls send(id) for every packet still waiting, due or not. Returns how many there were. */
  template <typename Send>
  size_t flush(Send&& send) {
    size_t n = ids_.size() - next_;
    while (next_ < ids_.size()) send(ids_[next_++]);
    return n;
  }

 private:
  int64_t slot(size_t i) const {
    if (spread_ == 0) return start_;
    // Group g of G leaves at start + g × spread / G.
    int64_t g = static_cast<int64_t>(i) * groups_ / static_cast<int64_t>(ids_.size());
    return start_ + g * spread_ / groups_;
  }

  std::vector<uint32_t> ids_;
  size_t next_ = 0;
  int64_t start_ = 0, spread_ = 0, groups_ = 1;
};

// How long after its deadline a tick's mix is done, as the largest of the last 5 to 10 s of ticks
// that started on time (a late tick says nothing about the mix), plus a margin. Two windows make it
// a sliding maximum that forgets an old peak within two windows.
class SendLead {
 public:
  static constexpr uint64_t kWindowTicks = 250;
  static constexpr int64_t kMarginNs = 200'000;

  void record(int64_t mixed_after_deadline_ns, bool tick_was_late) {
    if (!tick_was_late && mixed_after_deadline_ns > current_) current_ = mixed_after_deadline_ns;
    if (++ticks_ % kWindowTicks == 0) {
      previous_ = current_;
      current_ = 0;
    }
  }
  /** The offset from the deadline at which sends may start, at most `cap_ns`. */
  int64_t lead(int64_t cap_ns) const {
    int64_t l = (previous_ > current_ ? previous_ : current_) + kMarginNs;
    return l < cap_ns ? l : cap_ns;
  }

 private:
  uint64_t ticks_ = 0;
  int64_t current_ = 0, previous_ = 0;
};

}  // namespace parley
