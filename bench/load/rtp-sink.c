// The load benchmark's RTP receiver: owns the UDP ports that sipp writes into its SDP
// offers ([auto_media_port]; sipp itself sends RTP from raw sockets and never binds them),
// so it receives what the server sends to every call, and measures the interval between
// consecutive packets of each stream from kernel receive timestamps (SO_TIMESTAMPNS), not
// from when this process happens to be scheduled: on a busy machine the receiver's own
// delays must not count against the server.
//
// Built by bench/load/run.ts with the system C compiler (not part of the addon).
// Usage: rtp-sink IP BASE_PORT STEP COUNT
//   binds IP:BASE_PORT+i*STEP and the next port (RTCP) for i < COUNT.
// Commands on stdin, one per line:
//   reset   forget the intervals seen so far (the measurement window starts)
//   report  print one JSON line: streams, packets, interval p50/p99/max in ms, gaps
//   quit    exit
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// Interval histogram: 50 µs buckets up to 500 ms; longer intervals land in the last one
// (and in max).
#define BUCKET_US 50
#define BUCKETS 10000
#define BATCH 64

typedef struct {
  int fd;
  int rtcp_fd;
  int64_t last_ns;  // kernel time of the previous packet, 0 = none since reset
  uint64_t packets;
} Stream;

static uint64_t hist[BUCKETS];
static uint64_t intervals, packets_total, gaps, rtcp_packets;
static int64_t max_interval_ns;

static void reset_stats(Stream* s, int n) {
  memset(hist, 0, sizeof hist);
  intervals = packets_total = gaps = rtcp_packets = 0;
  max_interval_ns = 0;
  for (int i = 0; i < n; i++) {
    s[i].last_ns = 0;
    s[i].packets = 0;
  }
}

static double percentile_ms(double q) {
  if (intervals == 0) return 0;
  uint64_t want = (uint64_t)(q * (double)intervals);
  if (want >= intervals) want = intervals - 1;
  uint64_t seen = 0;
  for (int b = 0; b < BUCKETS; b++) {
    seen += hist[b];
    // The bucket's upper edge: a p99 never reads lower than the truth.
    if (seen > want) return (double)((b + 1) * BUCKET_US) / 1000.0;
  }
  return (double)max_interval_ns / 1e6;
}

static void report(Stream* s, int n) {
  int active = 0;
  for (int i = 0; i < n; i++)
    if (s[i].packets > 0) active++;
  printf(
      "{\"streams\":%d,\"activeStreams\":%d,\"packets\":%llu,\"intervals\":%llu,\"p50\":%.2f,\"p99\":%.2f,"
      "\"p999\":%.2f,\"max\":%.2f,\"gaps\":%llu,\"rtcp\":%llu}\n",
      n, active, (unsigned long long)packets_total, (unsigned long long)intervals, percentile_ms(0.5),
      percentile_ms(0.99), percentile_ms(0.999), (double)max_interval_ns / 1e6, (unsigned long long)gaps,
      (unsigned long long)rtcp_packets);
  fflush(stdout);
}

static int bind_port(struct in_addr ip, int port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr = ip;
  sa.sin_port = htons((uint16_t)port);
  if (bind(fd, (struct sockaddr*)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int64_t packet_time_ns(struct msghdr* h) {
  for (struct cmsghdr* c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    }
  }
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static void on_packet(Stream* st, int64_t t) {
  packets_total++;
  st->packets++;
  if (st->last_ns != 0) {
    int64_t d = t - st->last_ns;
    if (d < 0) d = 0;
    int64_t b = d / 1000 / BUCKET_US;
    if (b >= BUCKETS) b = BUCKETS - 1;
    hist[b]++;
    intervals++;
    if (d > max_interval_ns) max_interval_ns = d;
    if (d > 40000000) gaps++;  // two or more packets missing at 20 ms
  }
  st->last_ns = t;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: rtp-sink IP BASE_PORT STEP COUNT\n");
    return 2;
  }
  struct in_addr ip;
  if (inet_pton(AF_INET, argv[1], &ip) != 1) {
    fprintf(stderr, "rtp-sink: bad address %s\n", argv[1]);
    return 2;
  }
  int base = atoi(argv[2]), step = atoi(argv[3]), count = atoi(argv[4]);
  if (base < 1024 || step < 2 || count < 1 || base + (count - 1) * step + 1 > 65535) {
    fprintf(stderr, "rtp-sink: bad port layout\n");
    return 2;
  }
  Stream* streams = calloc((size_t)count, sizeof(Stream));
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (!streams || ep < 0) return 1;
  for (int i = 0; i < count; i++) {
    for (int k = 0; k < 2; k++) {
      int port = base + i * step + k;
      int fd = bind_port(ip, port);
      if (fd < 0) {
        fprintf(stderr, "rtp-sink: cannot bind %s:%d: %s\n", argv[1], port, strerror(errno));
        return 1;
      }
      if (k == 0)
        streams[i].fd = fd;
      else
        streams[i].rtcp_fd = fd;
      struct epoll_event ev;
      memset(&ev, 0, sizeof ev);
      ev.events = EPOLLIN;
      ev.data.u64 = ((uint64_t)i << 1) | (uint64_t)k;
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
  }
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.u64 = UINT64_MAX;
  epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev);
  printf("{\"ready\":true,\"streams\":%d}\n", count);
  fflush(stdout);

  static char bufs[BATCH][1500];
  static char ctrl[BATCH][256];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  char line[256];
  size_t line_len = 0;
  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, 1000);
    if (n < 0 && errno != EINTR) return 1;
    for (int e = 0; e < n; e++) {
      uint64_t tag = evs[e].data.u64;
      if (tag == UINT64_MAX) {
        ssize_t got = read(STDIN_FILENO, line + line_len, sizeof line - 1 - line_len);
        if (got <= 0) return 0;  // the benchmark went away
        line_len += (size_t)got;
        line[line_len] = 0;
        char* nl;
        while ((nl = strchr(line, '\n')) != NULL) {
          *nl = 0;
          if (strcmp(line, "reset") == 0) reset_stats(streams, count);
          else if (strcmp(line, "report") == 0) report(streams, count);
          else if (strcmp(line, "quit") == 0) return 0;
          size_t rest = line_len - (size_t)(nl + 1 - line);
          memmove(line, nl + 1, rest);
          line_len = rest;
          line[line_len] = 0;
        }
        if (line_len >= sizeof line - 1) line_len = 0;  // a line too long: drop it
        continue;
      }
      Stream* st = &streams[tag >> 1];
      int is_rtcp = (int)(tag & 1);
      int fd = is_rtcp ? st->rtcp_fd : st->fd;
      for (int rounds = 0; rounds < 16; rounds++) {
        for (int k = 0; k < BATCH; k++) {
          iov[k].iov_base = bufs[k];
          iov[k].iov_len = sizeof bufs[k];
          memset(&msgs[k].msg_hdr, 0, sizeof msgs[k].msg_hdr);
          msgs[k].msg_hdr.msg_iov = &iov[k];
          msgs[k].msg_hdr.msg_iovlen = 1;
          msgs[k].msg_hdr.msg_control = ctrl[k];
          msgs[k].msg_hdr.msg_controllen = sizeof ctrl[k];
        }
        int got = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (got <= 0) break;
        for (int k = 0; k < got; k++) {
          if (is_rtcp) {
            rtcp_packets++;
            continue;
          }
          // RTCP multiplexed on the RTP port (payload types 200-204 in the second byte) is not audio.
          uint8_t pt = (uint8_t)bufs[k][1];
          if (msgs[k].msg_len >= 2 && pt >= 200 && pt <= 204) {
            rtcp_packets++;
            continue;
          }
          on_packet(st, packet_time_ns(&msgs[k].msg_hdr));
        }
        if (got < BATCH) break;
      }
    }
  }
}
