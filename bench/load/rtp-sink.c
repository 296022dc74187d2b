// The load benchmark's RTP peer: owns the UDP ports that sipp writes into its SDP offers
// ([auto_media_port]), so it receives what the server sends to every call, and measures the
// interval between consecutive packets of each stream from kernel receive timestamps
// (SO_TIMESTAMPNS), not from when this process happens to be scheduled: on a busy machine
// the receiver's own delays must not count against the server.
//
// With a payload file it also sends each call's audio: once the server's first packet on a
// port shows where that call's RTP goes, a 20 ms PCMU stream is sent back from the same port
// (so the server's strict source check holds). Streams are spread over twenty 1 ms slots, as
// independent phones would be, rather than all sent at once. This replaces sipp's
// play_pcap_audio, whose raw sockets each receive a copy of every UDP packet on the
// address (see bench/load/README.md).
//
// Built by bench/load/run.ts with the system C compiler (not part of the addon).
// Usage: rtp-sink IP BASE_PORT STEP COUNT [PAYLOAD_FILE]
//   binds IP:BASE_PORT+i*STEP and the next port (RTCP) for i < COUNT; PAYLOAD_FILE holds
//   160-byte PCMU frames, sent in a loop.
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
#include <sys/timerfd.h>
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
  // Sending: where the server's packets came from, and when the last one arrived.
  struct sockaddr_in remote;
  int64_t heard_ns;  // CLOCK_REALTIME of the last packet from the server, 0 = never
  uint16_t seq;
  uint32_t ts;
  uint64_t sent;
} Stream;

#define FRAME 160
static unsigned char* payload;
static size_t frames;
static uint64_t sent_total, send_errors;

static uint64_t hist[BUCKETS];
static uint64_t intervals, packets_total, gaps, rtcp_packets;
static int64_t max_interval_ns;

static void reset_stats(Stream* s, int n) {
  memset(hist, 0, sizeof hist);
  intervals = packets_total = gaps = rtcp_packets = sent_total = send_errors = 0;
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
      "\"p999\":%.2f,\"max\":%.2f,\"gaps\":%llu,\"rtcp\":%llu,\"sent\":%llu,\"sendErrors\":%llu}\n",
      n, active, (unsigned long long)packets_total, (unsigned long long)intervals, percentile_ms(0.5),
      percentile_ms(0.99), percentile_ms(0.999), (double)max_interval_ns / 1e6, (unsigned long long)gaps,
      (unsigned long long)rtcp_packets, (unsigned long long)sent_total, (unsigned long long)send_errors);
  fflush(stdout);
}

static int64_t realtime_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

// Sends one 20 ms PCMU packet to the server for every stream in this 1 ms slot whose server
// was heard from in the last second (a call that ended stops being fed).
static void send_slot(Stream* s, int n, int slot, int64_t now) {
  unsigned char pkt[12 + FRAME];
  for (int i = slot; i < n; i += 20) {
    Stream* st = &s[i];
    if (st->heard_ns == 0 || now - st->heard_ns > 1000000000LL) continue;
    pkt[0] = 0x80;
    pkt[1] = st->sent == 0 ? 0x80 : 0x00;  // marker on the first packet, payload type 0
    pkt[2] = (unsigned char)(st->seq >> 8);
    pkt[3] = (unsigned char)st->seq;
    pkt[4] = (unsigned char)(st->ts >> 24);
    pkt[5] = (unsigned char)(st->ts >> 16);
    pkt[6] = (unsigned char)(st->ts >> 8);
    pkt[7] = (unsigned char)st->ts;
    uint32_t ssrc = 0x4c000000u + (uint32_t)i;
    pkt[8] = (unsigned char)(ssrc >> 24);
    pkt[9] = (unsigned char)(ssrc >> 16);
    pkt[10] = (unsigned char)(ssrc >> 8);
    pkt[11] = (unsigned char)ssrc;
    memcpy(pkt + 12, payload + (st->sent % frames) * FRAME, FRAME);
    if (sendto(st->fd, pkt, sizeof pkt, MSG_DONTWAIT, (struct sockaddr*)&st->remote, sizeof st->remote) < 0)
      send_errors++;
    else
      sent_total++;
    st->seq++;
    st->ts += FRAME;
    st->sent++;
  }
}

static int load_payload(const char* file) {
  FILE* f = fopen(file, "rb");
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (size < FRAME) {
    fclose(f);
    return -1;
  }
  frames = (size_t)size / FRAME;
  payload = malloc(frames * FRAME);
  if (!payload || fread(payload, FRAME, frames, f) != frames) {
    fclose(f);
    return -1;
  }
  fclose(f);
  return 0;
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
  if (argc != 5 && argc != 6) {
    fprintf(stderr, "usage: rtp-sink IP BASE_PORT STEP COUNT [PAYLOAD_FILE]\n");
    return 2;
  }
  if (argc == 6 && load_payload(argv[5]) != 0) {
    fprintf(stderr, "rtp-sink: cannot read 160-byte PCMU frames from %s\n", argv[5]);
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
  // The send clock: one expiry per millisecond, each serving one of twenty slots.
  int timer = -1;
  uint64_t slot_no = 0;
  if (payload) {
    timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_nsec = 1000000;
    its.it_interval.tv_nsec = 1000000;
    if (timer < 0 || timerfd_settime(timer, 0, &its, NULL) != 0) return 1;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u64 = UINT64_MAX - 1;
    epoll_ctl(ep, EPOLL_CTL_ADD, timer, &ev);
  }
  printf("{\"ready\":true,\"streams\":%d}\n", count);
  fflush(stdout);

  static char bufs[BATCH][1500];
  static char ctrl[BATCH][256];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in from[BATCH];
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
      if (tag == UINT64_MAX - 1) {
        uint64_t expirations = 0;
        if (read(timer, &expirations, sizeof expirations) != sizeof expirations) continue;
        // Late wake-ups catch up on the slots they missed (at most one period's worth).
        if (expirations > 20) {
          slot_no += expirations - 20;
          expirations = 20;
        }
        int64_t now = realtime_ns();
        for (uint64_t x = 0; x < expirations; x++) send_slot(streams, count, (int)(slot_no++ % 20), now);
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
          msgs[k].msg_hdr.msg_name = &from[k];
          msgs[k].msg_hdr.msg_namelen = sizeof from[k];
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
          int64_t t = packet_time_ns(&msgs[k].msg_hdr);
          on_packet(st, t);
          st->remote = from[k];
          st->heard_ns = t;
        }
        if (got < BATCH) break;
      }
    }
  }
}
