/*
 * How late does this machine wake a thread that sleeps to an absolute 20 ms deadline?
 * The media engine's tick loop does exactly this (clock_nanosleep, TIMER_ABSTIME); this
 * program does nothing else, so whatever lateness it sees belongs to the platform (kernel,
 * hypervisor, other load), not to the engine. Prints one JSON object.
 *
 *   cc -O2 -o timer-lateness timer-lateness.c && ./timer-lateness [seconds] [fifo-priority]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  int seconds = argc > 1 ? atoi(argv[1]) : 60;
  int priority = argc > 2 ? atoi(argv[2]) : 0;
  if (seconds < 1 || seconds > 3600 || priority < 0 || priority > 99) {
    fprintf(stderr, "usage: timer-lateness [seconds 1-3600] [fifo-priority 0-99]\n");
    return 2;
  }
  int realtime = 0;
  if (priority > 0) {
    struct sched_param sp = {.sched_priority = priority};
    realtime = sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
    if (!realtime) fprintf(stderr, "SCHED_FIFO %d refused: %s\n", priority, strerror(errno));
  }
  const int64_t period = 20000000LL;
  const int ticks = seconds * 50;
  int64_t* late = malloc(sizeof(int64_t) * (size_t)ticks);
  if (!late) return 1;
  int64_t deadline = now_ns() + period;
  int over_2ms = 0, over_5ms = 0;
  for (int i = 0; i < ticks; i++) {
    struct timespec ts = {(time_t)(deadline / 1000000000LL), (long)(deadline % 1000000000LL)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
    late[i] = now_ns() - deadline;
    if (late[i] > 2000000) over_2ms++;
    if (late[i] > 5000000) over_5ms++;
    deadline += period;
  }
  qsort(late, (size_t)ticks, sizeof(int64_t), cmp);
  printf(
      "{\"bench\":\"timer-lateness\",\"seconds\":%d,\"ticks\":%d,\"realtime\":{\"asked\":%d,\"got\":%s},"
      "\"lateUs\":{\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f},\"over2ms\":%d,\"over5ms\":%d}\n",
      seconds, ticks, priority, realtime ? "true" : "false", late[ticks / 2] / 1e3, late[ticks * 99 / 100] / 1e3,
      late[ticks * 999 / 1000] / 1e3, late[ticks - 1] / 1e3, over_2ms, over_5ms);
  free(late);
  return 0;
}
