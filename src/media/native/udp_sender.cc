#include "udp_sender.h"

#include <cerrno>

namespace parley {

bool send_datagram(int fd, const sockaddr_in& to, const uint8_t* data, size_t len) {
  ssize_t n;
  do {
    n = ::sendto(fd, data, len, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  } while (n < 0 && errno == EINTR);
  return n >= 0;
}

void UdpSender::open_ring() {
  if (ring_open_) return;
  io_uring_params p{};
  ring_open_ = ring_ok_ = io_uring_queue_init_params(kDepth, &ring_, &p) == 0;
}

UdpSender::~UdpSender() {
  if (ring_open_) io_uring_queue_exit(&ring_);
}

void UdpSender::send(int fd, const sockaddr_in& to, const uint8_t* data, size_t len) {
  if (!ring_ok_) {
    if (!send_datagram(fd, to, data, len)) errors_++;
    return;
  }
  if (queued_ == kDepth) flush();
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {  // cannot happen after a flush; the packet is dropped rather than the tick stalled
    errors_++;
    return;
  }
  iovec& iov = iovs_[queued_];
  iov.iov_base = const_cast<uint8_t*>(data);
  iov.iov_len = len;
  msghdr& m = msgs_[queued_];
  m = msghdr{};
  m.msg_name = const_cast<sockaddr_in*>(&to);
  m.msg_namelen = sizeof to;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  io_uring_prep_sendmsg(sqe, fd, &m, MSG_DONTWAIT);
  queued_++;
}

void UdpSender::flush() {
  if (!ring_ok_ || queued_ == 0) return;
  unsigned want = queued_;
  int submitted;
  do {
    submitted = io_uring_submit_and_wait(&ring_, want);
  } while (submitted == -EINTR);
  // Reap every completion of this batch; the message headers are reused by the next one.
  unsigned seen = 0;
  while (seen < want) {
    io_uring_cqe* cqe = nullptr;
    int rc = io_uring_wait_cqe(&ring_, &cqe);
    if (rc == -EINTR) continue;
    if (rc < 0) {
      ring_ok_ = false;  // the ring is unusable: from now on, sendto
      break;
    }
    unsigned head, n = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      if (cqe->res < 0) errors_++;
      n++;
    }
    io_uring_cq_advance(&ring_, n);
    seen += n;
  }
  queued_ = 0;
}

}  // namespace parley
