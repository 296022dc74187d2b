#include "media_clock.h"

#include <cerrno>
#include <ctime>

namespace parley {

int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

MediaClock::MediaClock(int64_t period_ns, int64_t late_threshold_ns)
    : period_(period_ns), late_threshold_(late_threshold_ns) {}

void MediaClock::start() {
  first_ = monotonic_ns() + period_;
  next_ = first_;
}

void MediaClock::sleep_until_deadline() const {
  int64_t at = next_ - spin_;
  timespec ts{static_cast<time_t>(at / 1'000'000'000), static_cast<long>(at % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
  while (spin_ > 0 && monotonic_ns() < next_) {
  }
}

void MediaClock::begin_tick(int64_t busy_ns, int64_t woke_ns) {
  tick_start_ = monotonic_ns();
  cpu_start_ = thread_cpu_ns();
  int64_t late = tick_start_ - next_;
  if (late > max_late_) max_late_ = late;
  last_late_ = late > late_threshold_;
  if (last_late_) {
    late_++;
    int64_t lock = tick_start_ - woke_ns;
    int64_t wake = late - lock - busy_ns;
    if (busy_ns >= wake && busy_ns >= lock)
      late_overrun_++;
    else if (wake >= lock)
      late_wake_++;
    else
      late_lock_++;
  }
  ticks_++;
  next_ += period_;
}

void MediaClock::end_tick() {
  work_last_ = monotonic_ns() - tick_start_;
  cpu_last_ = thread_cpu_ns() - cpu_start_;
  cpu_total_ += cpu_last_;
  if (cpu_last_ > cpu_max_) cpu_max_ = cpu_last_;
  if (work_last_ > work_max_) work_max_ = work_last_;
  int64_t bucket = work_last_ / 1000 / kBucketUs;
  histogram_[static_cast<size_t>(bucket < kBuckets - 1 ? bucket : kBuckets - 1)]++;
}

ClockStats MediaClock::stats() const {
  ClockStats s{};
  s.ticks = ticks_;
  s.late_ticks = late_;
  s.max_late_us = max_late_ / 1000;
  s.late_overrun = late_overrun_;
  s.late_wake = late_wake_;
  s.late_lock = late_lock_;
  s.work_last_us = work_last_ / 1000;
  s.work_max_us = work_max_ / 1000;
  s.cpu_last_us = cpu_last_ / 1000;
  s.cpu_max_us = cpu_max_ / 1000;
  s.cpu_mean_us = ticks_ == 0 ? 0 : cpu_total_ / static_cast<int64_t>(ticks_) / 1000;
  uint64_t total = 0;
  for (uint64_t n : histogram_) total += n;
  // p99 is the upper edge of the bucket where the cumulative count reaches 99 %.
  uint64_t want = total - total / 100, seen = 0;
  for (int b = 0; b < kBuckets && total > 0; b++) {
    seen += histogram_[static_cast<size_t>(b)];
    if (seen >= want) {
      s.work_p99_us = b == kBuckets - 1 ? s.work_max_us : static_cast<int64_t>(b + 1) * kBucketUs;
      break;
    }
  }
  s.elapsed_ns = first_ == 0 ? 0 : monotonic_ns() - first_;
  return s;
}

}  // namespace parley
