// The engine's 20 ms tick clock. Deadlines are absolute (start + n × period on
// CLOCK_MONOTONIC), so a late tick never shifts the ones after it: the clock cannot
// drift. A tick that starts more than `late_threshold` after its deadline is counted
// as late, and the time each tick's work takes is measured (last, max, p99 from a
// histogram), so overload is visible instead of silently absorbed.
#pragma once
#include <array>
#include <cstdint>

namespace parley {

/** Nanoseconds on CLOCK_MONOTONIC. */
int64_t monotonic_ns();
/** CPU time of the calling thread, in ns. */
int64_t thread_cpu_ns();

struct ClockStats {
  uint64_t ticks;
  uint64_t late_ticks;
  /** Largest lateness of a tick start seen, in µs. */
  int64_t max_late_us;
  /** Late ticks by what held them up most: the engine's own work ran past the deadline (a socket pass
      or the previous tick, including any preemption while it ran), the OS woke the thread late from
      a sleep (timer, scheduler, hypervisor), or an API call held the engine lock. They add up to
      late_ticks. */
  uint64_t late_overrun;
  uint64_t late_wake;
  uint64_t late_lock;
  int64_t work_last_us;
  int64_t work_max_us;
  int64_t work_p99_us;
  /** CPU time the engine thread spent in the ticks (wall time minus preemption): last, max, mean. */
  int64_t cpu_last_us;
  int64_t cpu_max_us;
  int64_t cpu_mean_us;
  /** Time since the first deadline, in ns. */
  int64_t elapsed_ns;
};

class MediaClock {
 public:
  explicit MediaClock(int64_t period_ns = 20'000'000, int64_t late_threshold_ns = 2'000'000);
  /** Sets the first deadline to one period from now. */
  void start();
  int64_t next_deadline() const { return next_; }
  /** The deadline of the tick begun last. */
  int64_t tick_deadline() const { return next_ - period_; }
  /** Sleeps (clock_nanosleep, TIMER_ABSTIME) until the next deadline; returns early only on signals. */
  void sleep_until_deadline() const;
  /** Makes sleep_until_deadline() sleep only until this long before the deadline and spin the rest: a
      thread whose CPU is idle can be woken late (on a busy virtual machine host, by milliseconds), a
      running one is already there. Costs this much CPU per tick. */
  void set_spin(int64_t spin_ns) { spin_ = spin_ns > 0 ? spin_ns : 0; }
  /** Call when the tick's work starts: counts lateness, advances the deadline. `busy_ns` is how long
      the engine's own work ran past the deadline, `woke_ns` when the sleep for the deadline returned
      (monotonic); they say what a late tick waited for. */
  void begin_tick(int64_t busy_ns, int64_t woke_ns);
  /** Monotonic time the last tick's work started. */
  int64_t tick_started() const { return tick_start_; }
  /** Call when the tick's work ends: records its duration. */
  void end_tick();
  ClockStats stats() const;
  /** The tick begun last started late. */
  bool last_late() const { return last_late_; }

 private:
  static constexpr int kBucketUs = 50;
  static constexpr int kBuckets = 401;  // 0..20 ms in 50 µs steps, then one overflow bucket
  int64_t period_;
  int64_t late_threshold_;
  int64_t spin_ = 0;
  int64_t first_ = 0;
  int64_t next_ = 0;
  int64_t tick_start_ = 0;
  int64_t cpu_start_ = 0;
  int64_t cpu_last_ = 0;
  int64_t cpu_max_ = 0;
  int64_t cpu_total_ = 0;
  uint64_t ticks_ = 0;
  uint64_t late_ = 0;
  uint64_t late_overrun_ = 0;
  uint64_t late_wake_ = 0;
  uint64_t late_lock_ = 0;
  bool last_late_ = false;
  int64_t max_late_ = 0;
  int64_t work_last_ = 0;
  int64_t work_max_ = 0;
  std::array<uint64_t, kBuckets> histogram_{};
};

}  // namespace parley
