// What one UDP datagram costs to send from many sockets, one sendto each against one io_uring
// submission for all (the media engine's two ways, src/media/native/udp_sender.h). N sender
// sockets each send one 172-byte datagram (a PCMU RTP packet) to their own receiver socket on
// 127.0.0.1 per round, as the engine does per tick; a second thread drains the receivers. The
// two ways alternate round by round, so a busy host slows both alike. Prints one JSON object.
//
//   send-batch [sockets=500] [rounds=1000]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int n_sockets;
static int *senders, *receivers;
static struct sockaddr_in* targets;
static volatile int stopping;

static long long mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void* drain(void* arg) {
  (void)arg;
  char buf[2048];
  int ep = epoll_create1(0);
  for (int i = 0; i < n_sockets; i++) {
    struct epoll_event e = {.events = EPOLLIN, .data.u32 = (unsigned)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, receivers[i], &e);
  }
  struct epoll_event ev[256];
  while (!stopping) {
    int n = epoll_wait(ep, ev, 256, 10);
    for (int k = 0; k < n; k++)
      while (recv(receivers[ev[k].data.u32], buf, sizeof buf, MSG_DONTWAIT) > 0) {
      }
    usleep(1000);
  }
  return NULL;
}

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static double median(double* v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return v[n / 2];
}

int main(int argc, char** argv) {
  n_sockets = argc > 1 ? atoi(argv[1]) : 500;
  int rounds = argc > 2 ? atoi(argv[2]) : 1000;
  if (n_sockets < 1 || n_sockets > 4000 || rounds < 2) {
    fprintf(stderr, "usage: send-batch [sockets 1-4000] [rounds >= 2]\n");
    return 2;
  }
  senders = calloc((size_t)n_sockets, sizeof *senders);
  receivers = calloc((size_t)n_sockets, sizeof *receivers);
  targets = calloc((size_t)n_sockets, sizeof *targets);
  for (int i = 0; i < n_sockets; i++) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    senders[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    receivers[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (senders[i] < 0 || receivers[i] < 0 || bind(senders[i], (struct sockaddr*)&a, sizeof a) ||
        bind(receivers[i], (struct sockaddr*)&a, sizeof a)) {
      perror("socket");
      return 1;
    }
    socklen_t len = sizeof targets[i];
    getsockname(receivers[i], (struct sockaddr*)&targets[i], &len);
  }
  struct io_uring ring;
  int rc = io_uring_queue_init(256, &ring, 0);
  if (rc < 0) {
    fprintf(stderr, "io_uring refused: %s\n", strerror(-rc));
    return 1;
  }
  pthread_t thread;
  pthread_create(&thread, NULL, drain, NULL);
  char packet[172];
  memset(packet, 0x55, sizeof packet);
  struct msghdr* msgs = calloc((size_t)n_sockets, sizeof *msgs);
  struct iovec* iovs = calloc((size_t)n_sockets, sizeof *iovs);
  for (int i = 0; i < n_sockets; i++) {
    iovs[i].iov_base = packet;
    iovs[i].iov_len = sizeof packet;
    msgs[i].msg_name = &targets[i];
    msgs[i].msg_namelen = sizeof targets[i];
    msgs[i].msg_iov = &iovs[i];
    msgs[i].msg_iovlen = 1;
  }
  double* per_sendto = calloc((size_t)rounds, sizeof(double));
  double* per_uring = calloc((size_t)rounds, sizeof(double));
  int errors = 0;
  for (int r = 0; r < 2 * rounds; r++) {
    usleep(5000);
    long long t0 = mono_ns();
    if (r % 2 == 0) {
      for (int i = 0; i < n_sockets; i++)
        if (sendto(senders[i], packet, sizeof packet, MSG_DONTWAIT, (struct sockaddr*)&targets[i], sizeof targets[i]) < 0)
          errors++;
      per_sendto[r / 2] = (double)(mono_ns() - t0) / 1000.0 / n_sockets;
    } else {
      for (int i = 0; i < n_sockets;) {
        int batch = 0;
        for (; i < n_sockets && batch < 256; i++, batch++)
          io_uring_prep_sendmsg(io_uring_get_sqe(&ring), senders[i], &msgs[i], MSG_DONTWAIT);
        io_uring_submit_and_wait(&ring, (unsigned)batch);
        int seen = 0;
        while (seen < batch) {
          struct io_uring_cqe* cqe;
          io_uring_wait_cqe(&ring, &cqe);
          unsigned head, n = 0;
          io_uring_for_each_cqe(&ring, head, cqe) {
            if (cqe->res < 0) errors++;
            n++;
          }
          io_uring_cq_advance(&ring, n);
          seen += (int)n;
        }
      }
      per_uring[r / 2] = (double)(mono_ns() - t0) / 1000.0 / n_sockets;
    }
  }
  stopping = 1;
  pthread_join(thread, NULL);
  double s = median(per_sendto, rounds), u = median(per_uring, rounds);
  printf("{\"bench\":\"udp-send-batch\",\"sockets\":%d,\"rounds\":%d,\"usPerPacket\":{\"sendto\":%.2f,\"ioUring\":%.2f},"
         "\"ioUringToSendto\":%.2f,\"errors\":%d}\n",
         n_sockets, rounds, s, u, u / s, errors);
  return 0;
}
