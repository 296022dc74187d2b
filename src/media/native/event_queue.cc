#include "event_queue.h"

#include <utility>

namespace parley {

bool EventQueue::push(EngineEvent e) {
  std::lock_guard<std::mutex> lock(mu_);
  bool was_empty = events_.empty();
  events_.push_back(std::move(e));
  return was_empty;
}

std::vector<EngineEvent> EventQueue::drain() {
  std::vector<EngineEvent> out;
  std::lock_guard<std::mutex> lock(mu_);
  out.swap(events_);
  return out;
}

}  // namespace parley
