// Sends a tick's RTP packets, many sockets at once. One sendto per packet costs a system call
// each, and on virtual machines a system call is dear (about 5.5 µs per packet here, against
// 2.9 µs through io_uring: bench/platform/send-batch.c). So packets are queued and handed to
// the kernel together through an io_uring submission queue (liburing). Where io_uring is not
// allowed (old kernels, seccomp profiles of some container runtimes), every packet goes out by
// sendto as it is queued, and `batched()` says so.
#pragma once
#include <liburing.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace parley {

/** One datagram by sendto, retried on EINTR; false when the kernel refused it. */
bool send_datagram(int fd, const sockaddr_in& to, const uint8_t* data, size_t len);

class UdpSender {
 public:
  UdpSender() = default;
  ~UdpSender();
  UdpSender(const UdpSender&) = delete;
  UdpSender& operator=(const UdpSender&) = delete;

  /** Sets up the io_uring; without it (or when it is refused) every datagram goes out by sendto. */
  void open_ring();
  bool batched() const { return ring_ok_; }
  /** Queues one datagram; `data` and `to` must stay valid until flush(). */
  void send(int fd, const sockaddr_in& to, const uint8_t* data, size_t len);
  /** Datagrams queued and not yet handed to the kernel. */
  unsigned queued() const { return queued_; }
  /** Sends what is queued and waits until the kernel took it. */
  void flush();
  /** Datagrams the kernel refused (full socket buffer, unreachable peer): each costs that packet only. */
  uint64_t errors() const { return errors_; }

 private:
  static constexpr unsigned kDepth = 256;
  io_uring ring_{};
  bool ring_open_ = false;  // set up, and so to be torn down
  bool ring_ok_ = false;    // set up and still working
  unsigned queued_ = 0;
  std::array<msghdr, kDepth> msgs_{};
  std::array<iovec, kDepth> iovs_{};
  uint64_t errors_ = 0;
};

}  // namespace parley
