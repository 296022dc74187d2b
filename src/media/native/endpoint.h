// One RTP endpoint: its UDP socket(s), the far end's address, the inbound pipeline
// (source check and latching in front of a ReceiveStream), and the outbound side
// (packetizing encoded frames with our own SSRC, sequence and timestamp, RFC 4733
// keys through a DtmfSender, RTCP SR/RR every ~5 s). The engine thread drives it;
// nothing here allocates per packet.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec.h"
#include "dtmf_sender.h"
#include "receive_stream.h"
#include "udp_sender.h"

namespace parley {

enum class Direction { SendRecv, SendOnly, RecvOnly, Inactive };

struct SendConfig {
  Codec codec = Codec::PCMU;
  uint8_t payload_type = 0;
  /** The codec's PCM rate (G.722: 16000, Opus: 48000). */
  int rate = 8000;
};

struct EndpointConfig {
  sockaddr_in remote_rtp{};
  /** Ignored with rtcp-mux. */
  sockaddr_in remote_rtcp{};
  SendConfig send;
  ReceiveConfig receive;
  Direction direction = Direction::SendRecv;
};

/** Spacing of the RTP packets that reached the endpoint, from ArrivalHistogram. */
struct ArrivalStats {
  /** Intervals measured since the last reset (one per packet after the first ever). */
  uint64_t count = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  /** The last packet carried the kernel's receive time (SO_TIMESTAMPNS); false: the engine's clock. */
  bool kernel_timestamps = false;
};

/**
 * Inter-arrival intervals of one endpoint's RTP packets in a fixed histogram: 0.1 ms bins up to
 * 100 ms, one overflow bin, and the exact maximum. Fixed size, so the packet path never allocates;
 * quantiles are read to the bin (the middle of it), never above the maximum.
 */
class ArrivalHistogram {
 public:
  static constexpr int64_t kBinNs = 100'000;
  static constexpr int kBins = 1000;
  /** A packet received at `arrival_ns` (CLOCK_MONOTONIC); `kernel`: the time is the kernel's. */
  void add(int64_t arrival_ns, bool kernel);
  /** Forgets the intervals; keeps the last arrival, so the next packet's interval is still measured. */
  void reset();
  ArrivalStats stats() const;

 private:
  double quantile_ms(double q) const;
  std::array<uint32_t, kBins + 1> bins_{};
  uint64_t count_ = 0;
  int64_t max_ns_ = 0;
  int64_t last_ns_ = 0;
  bool have_last_ = false;
  bool kernel_ = false;
};

struct EndpointStats {
  uint64_t packets_in = 0, bytes_in = 0;
  uint64_t packets_out = 0, bytes_out = 0;
  uint64_t rtcp_in = 0, rtcp_out = 0;
  /** Dropped before the receive stream: unexpected source, wrong direction, RTCP that does not parse. */
  uint64_t discarded_source = 0, discarded_direction = 0, discarded_rtcp = 0;
  uint64_t dtmf_out = 0;
  double rtt_ms = -1;
  bool latched = false;
  ReceiveStats receive;
  ArrivalStats arrival;
};

class Endpoint {
 public:
  static constexpr int kLatchRun = 3;

  /** Takes ownership of the sockets (rtcp_fd is -1 with rtcp-mux). */
  Endpoint(uint32_t id, int rtp_fd, int rtcp_fd, int port, bool latching);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  uint32_t id() const { return id_; }
  int port() const { return port_; }
  int rtp_fd() const { return rtp_fd_; }
  int rtcp_fd() const { return rtcp_fd_; }
  bool rtcp_mux() const { return rtcp_fd_ < 0; }

  /** Throws std::invalid_argument for codecs or payload types that cannot be opened. */
  void configure(const EndpointConfig& cfg, int64_t now_ms);
  bool configured() const { return configured_; }
  bool receives() const {
    return configured_ && (cfg_.direction == Direction::SendRecv || cfg_.direction == Direction::RecvOnly);
  }
  bool sends() const {
    return configured_ && (cfg_.direction == Direction::SendRecv || cfg_.direction == Direction::SendOnly);
  }
  const SendConfig& send_config() const { return cfg_.send; }
  int telephone_event_rate() const { return cfg_.receive.telephone_event_rate > 0 ? cfg_.receive.telephone_event_rate : 8000; }

  /**
   * One datagram from `from`, received at `arrival_ns` (CLOCK_MONOTONIC; the kernel's receive time
   * when `kernel_time`, else the engine's); returns true when it made the endpoint latch onto that source.
   */
  bool on_datagram(const uint8_t* data, size_t len, const sockaddr_in& from, bool rtcp_socket, int64_t arrival_ns,
                   bool kernel_time);

  /** This tick's incoming frame (rx_rate()/50 samples); silence when not receiving. */
  FrameKind pull(int16_t* out, int64_t now_ms);
  int rx_rate() const { return stream_ ? stream_->rate() : 8000; }
  std::vector<DtmfEvent> take_dtmf();

  /** Builds this tick's packet: a 20 ms encoded frame, or the RFC 4733 packet while a key is being sent.
      It leaves when transmit() is called; a packet not yet transmitted is replaced by the next one. */
  void send_frame(const uint8_t* payload, size_t len);
  /** Hands the packet send_frame() built, if any, to `out` (which sends it by its next flush). */
  void transmit(UdpSender& out);
  bool has_pending() const { return pending_len_ != 0; }
  /** Starts sending a key; throws std::invalid_argument without telephone-event or for a bad key. */
  void send_dtmf(char digit, int duration_ms);
  /** Sends the RTCP report when it is due. */
  void maybe_send_rtcp(int64_t now_ms);
  /** True exactly once when no RTP arrived for `timeout_ms` while receiving; re-armed by the next packet. */
  bool timed_out(int64_t now_ms, int64_t timeout_ms);

  EndpointStats stats() const;
  /** Starts a new measuring window of the arrival intervals. */
  void reset_arrival() { arrival_.reset(); }
  const sockaddr_in& remote() const { return cfg_.remote_rtp; }

 private:
  bool source_ok(const sockaddr_in& from, bool rtcp) const;
  void on_rtcp(const uint8_t* data, size_t len, int64_t now_ms);
  bool latch_candidate(const uint8_t* data, size_t len, const sockaddr_in& from);
  /** Sends the report built in rtcp_buf_. */
  void send_rtcp(int fd, const sockaddr_in& to, size_t len);

  uint32_t id_;
  int rtp_fd_, rtcp_fd_, port_;
  bool latching_;
  bool latched_ = false;
  bool configured_ = false;
  EndpointConfig cfg_;
  std::unique_ptr<ReceiveStream> stream_;

  // Latching: the run of in-sequence packets from each of a few candidate sources. One slot
  // per source address, so packets sprayed from elsewhere cannot break the real peer's run; a
  // new source takes a free slot or the one heard from longest ago.
  struct LatchCandidate {
    sockaddr_in from{};
    uint32_t ssrc = 0;
    uint16_t seq = 0;
    int run = 0;  // 0: free
    uint64_t seen = 0;
  };
  static constexpr int kLatchSlots = 8;
  LatchCandidate candidates_[kLatchSlots];
  uint64_t candidate_clock_ = 0;

  // Outbound RTP state.
  uint32_t ssrc_;
  uint16_t seq_;
  uint32_t ts_;
  bool first_packet_ = true;
  int clock_rate_ = 8000;
  std::unique_ptr<DtmfSender> dtmf_;
  uint32_t dtmf_ts_ = 0;
  uint8_t packet_[1500];
  size_t pending_len_ = 0;

  // RTCP.
  int64_t next_rtcp_ms_ = 0;
  uint32_t sent_packets_ = 0, sent_octets_ = 0;
  bool sent_since_report_ = false;
  uint8_t rtcp_buf_[512];
  char cname_[32];
  size_t cname_len_ = 0;

  int64_t last_rx_ms_ = 0;
  bool timeout_reported_ = false;
  ArrivalHistogram arrival_;
  EndpointStats stats_;
};

/** RTP timestamp clock of a codec at its PCM rate (G.722 keeps 8000 for historical reasons; RFC 3551). */
int rtp_clock_rate(Codec codec, int rate);

}  // namespace parley
