/*
 * Does this machine take the CPU away from a thread that never sleeps? The thread reads
 * CLOCK_MONOTONIC in a tight loop, at SCHED_FIFO above everything else in the guest when
 * allowed, and counts the gaps between consecutive readings: time it did not run. With a
 * real-time priority nothing in the guest but interrupts can preempt it, so gaps over a
 * millisecond are the hypervisor running something else on this virtual CPU.
 *
 * It spins 800 ms of every second and sleeps the rest, so that the kernel's real-time
 * throttling (950 ms per second by default) never stops it and no other thread starves.
 * Prints one JSON object.
 *
 *   cc -O2 -o cpu-gaps cpu-gaps.c && ./cpu-gaps [seconds] [fifo-priority]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char** argv) {
  int seconds = argc > 1 ? atoi(argv[1]) : 60;
  int priority = argc > 2 ? atoi(argv[2]) : 0;
  if (seconds < 1 || seconds > 3600 || priority < 0 || priority > 99) {
    fprintf(stderr, "usage: cpu-gaps [seconds 1-3600] [fifo-priority 0-99]\n");
    return 2;
  }
  int realtime = 0;
  if (priority > 0) {
    struct sched_param sp = {.sched_priority = priority};
    realtime = sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
    if (!realtime) fprintf(stderr, "SCHED_FIFO %d refused: %s\n", priority, strerror(errno));
  }
  struct rusage before, after;
  getrusage(RUSAGE_SELF, &before);
  int64_t spun = 0, max_gap = 0;
  int over_1ms = 0, over_2ms = 0, over_5ms = 0;
  for (int s = 0; s < seconds; s++) {
    const int64_t start = now_ns();
    const int64_t stop = start + 800000000LL;
    int64_t prev = start;
    while (prev < stop) {
      const int64_t t = now_ns();
      const int64_t gap = t - prev;
      if (gap > max_gap) max_gap = gap;
      if (gap > 1000000) over_1ms++;
      if (gap > 2000000) over_2ms++;
      if (gap > 5000000) over_5ms++;
      prev = t;
    }
    spun += prev - start;
    struct timespec rest = {0, 200000000L};
    while (nanosleep(&rest, &rest) == -1 && errno == EINTR) {
    }
  }
  getrusage(RUSAGE_SELF, &after);
  printf(
      "{\"bench\":\"cpu-gaps\",\"seconds\":%d,\"spunSeconds\":%.1f,\"realtime\":{\"asked\":%d,\"got\":%s},"
      "\"gapsOver1ms\":%d,\"gapsOver2ms\":%d,\"gapsOver5ms\":%d,\"maxGapUs\":%.1f,"
      "\"involuntarySwitches\":%ld}\n",
      seconds, (double)spun / 1e9, priority, realtime ? "true" : "false", over_1ms, over_2ms, over_5ms,
      (double)max_gap / 1000.0, after.ru_nivcsw - before.ru_nivcsw);
  return 0;
}
