// Events from the engine thread to JS. The engine thread only appends under a short
// lock; whoever drains (the JS thread, through one thread-safe-function call per
// batch) swaps the whole batch out. `push` tells the caller when the queue went from
// empty to non-empty, so exactly one JS call is scheduled per batch.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace parley {

enum class EventType { Dtmf, Talking, Player, RtpTimeout, Recorder, SourceLatched };

struct EngineEvent {
  explicit EngineEvent(EventType t) : type(t) {}
  EventType type;
  /** Endpoint, player or recorder id. */
  uint32_t id = 0;
  char digit = 0;
  bool talking = false;
  double level = 0;
  /** dtmf: key length; recorder: file length. */
  int64_t duration_ms = 0;
  /** player: finished | stopped | error; recorder: stopped | error. */
  std::string state;
  std::string address;
  int port = 0;
};

class EventQueue {
 public:
  /** A JS thread that stops draining must not make the engine grow without bound. */
  static constexpr size_t kMaxQueued = 100000;
  /** Returns true when the queue was empty before: the caller schedules one drain. */
  bool push(EngineEvent e);
  /** Takes every queued event. */
  std::vector<EngineEvent> drain();
  /** Events dropped because kMaxQueued were waiting. */
  uint64_t dropped() const;

 private:
  mutable std::mutex mu_;
  std::vector<EngineEvent> events_;
  uint64_t dropped_ = 0;
};

}  // namespace parley
