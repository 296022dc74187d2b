#include "event_queue.h"

#include <utility>

namespace parley {

bool EventQueue::push(EngineEvent e) {
  std::lock_guard<std::mutex> lock(mu_);
  bool was_empty = events_.empty();
  if (events_.size() >= kMaxQueued) {
    dropped_++;
    return false;
  }
  events_.push_back(std::move(e));
  return was_empty;
}

std::vector<EngineEvent> EventQueue::drain() {
  std::vector<EngineEvent> out;
  std::lock_guard<std::mutex> lock(mu_);
  out.swap(events_);
  return out;
}

uint64_t EventQueue::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

}  // namespace parley
