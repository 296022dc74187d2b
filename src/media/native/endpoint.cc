#include "endpoint.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>

#include "rtcp.h"
#include "rtp_packet.h"

namespace parley {

namespace {
constexpr int64_t kRtcpIntervalMs = 5000;

bool same_addr(const sockaddr_in& a, const sockaddr_in& b) {
  return a.sin_addr.s_addr == b.sin_addr.s_addr && a.sin_port == b.sin_port;
}

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

int rtp_clock_rate(Codec codec, int rate) {
  switch (codec) {
    case Codec::G722:
      return 8000;
    case Codec::OPUS:
      return 48000;
    default:
      return rate;
  }
}

Endpoint::Endpoint(uint32_t id, int rtp_fd, int rtcp_fd, int port, bool latching)
    : id_(id), rtp_fd_(rtp_fd), rtcp_fd_(rtcp_fd), port_(port), latching_(latching) {
  std::random_device rd;
  ssrc_ = rd();
  seq_ = static_cast<uint16_t>(rd());
  ts_ = rd();
  cname_len_ = static_cast<size_t>(std::snprintf(cname_, sizeof cname_, "parley-%08x", ssrc_));
}

Endpoint::~Endpoint() {
  if (rtp_fd_ >= 0) ::close(rtp_fd_);
  if (rtcp_fd_ >= 0) ::close(rtcp_fd_);
}

void Endpoint::configure(const EndpointConfig& cfg, int64_t now_ms) {
  // Build everything that can throw before touching the current state.
  std::unique_ptr<ReceiveStream> stream;
  if (!stream_) stream = std::make_unique<ReceiveStream>(cfg.receive);
  std::unique_ptr<DtmfSender> dtmf;
  if (cfg.receive.telephone_event_pt >= 0) dtmf = std::make_unique<DtmfSender>(cfg.receive.telephone_event_rate, 20);
  if (stream_) stream_->reconfigure(cfg.receive);
  else stream_ = std::move(stream);
  bool remote_changed = !configured_ || !same_addr(cfg.remote_rtp, cfg_.remote_rtp);
  cfg_ = cfg;
  if (latched_ && !remote_changed) {
    // A re-INVITE with the same SDP address keeps the learned source.
  } else if (remote_changed) {
    latched_ = false;
    for (auto& c : candidates_) c.run = 0;
  }
  clock_rate_ = rtp_clock_rate(cfg.send.codec, cfg.send.rate);
  dtmf_ = std::move(dtmf);
  if (!configured_) next_rtcp_ms_ = now_ms + kRtcpIntervalMs / 2;
  configured_ = true;
  last_rx_ms_ = now_ms;
  timeout_reported_ = false;
}

bool Endpoint::source_ok(const sockaddr_in& from, bool rtcp) const {
  if (!configured_) return false;
  if (rtcp && !rtcp_mux()) return from.sin_addr.s_addr == cfg_.remote_rtp.sin_addr.s_addr;
  return same_addr(from, cfg_.remote_rtp);
}

bool Endpoint::latch_candidate(const uint8_t* data, size_t len, const sockaddr_in& from) {
  RtpView v;
  if (parse_rtp(data, len, v) != RtpError::None) return false;
  LatchCandidate* slot = nullptr;
  for (auto& c : candidates_) {
    if (c.run > 0 && same_addr(c.from, from)) {
      slot = &c;
      break;
    }
  }
  if (slot && v.ssrc == slot->ssrc && v.seq == static_cast<uint16_t>(slot->seq + 1)) {
    slot->run++;
  } else {
    if (!slot) {
      slot = &candidates_[0];
      for (auto& c : candidates_) {
        if (c.run == 0) {
          slot = &c;
          break;
        }
        if (c.seen < slot->seen) slot = &c;
      }
    }
    slot->from = from;
    slot->ssrc = v.ssrc;
    slot->run = 1;
  }
  slot->seq = v.seq;
  slot->seen = ++candidate_clock_;
  return slot->run >= kLatchRun;
}

void ArrivalHistogram::add(int64_t arrival_ns, bool kernel) {
  kernel_ = kernel;
  if (have_last_) {
    // Kernel times of one socket only go forward; a step of the wall clock behind them could not.
    int64_t d = std::max<int64_t>(0, arrival_ns - last_ns_);
    int64_t bin = d / kBinNs;
    bins_[static_cast<size_t>(bin < kBins ? bin : kBins)]++;
    if (d > max_ns_) max_ns_ = d;
    count_++;
  }
  last_ns_ = arrival_ns;
  have_last_ = true;
}

void ArrivalHistogram::reset() {
  bins_.fill(0);
  count_ = 0;
  max_ns_ = 0;
}

double ArrivalHistogram::quantile_ms(double q) const {
  if (count_ == 0) return 0;
  // The smallest value with at least q of the intervals at or below it (nearest rank).
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  double max_ms = static_cast<double>(max_ns_) / 1e6;
  for (int i = 0; i < kBins; i++) {
    seen += bins_[static_cast<size_t>(i)];
    if (seen >= rank) return std::min(max_ms, (static_cast<double>(i) + 0.5) * kBinNs / 1e6);
  }
  return max_ms;  // in the overflow bin: only the maximum is known
}

ArrivalStats ArrivalHistogram::stats() const {
  ArrivalStats s;
  s.count = count_;
  s.p50_ms = quantile_ms(0.5);
  s.p99_ms = quantile_ms(0.99);
  s.max_ms = static_cast<double>(max_ns_) / 1e6;
  s.kernel_timestamps = kernel_;
  return s;
}

bool Endpoint::on_datagram(const uint8_t* data, size_t len, const sockaddr_in& from, bool rtcp_socket,
                           int64_t arrival_ns, bool kernel_time) {
  int64_t now_ms = arrival_ns / 1'000'000;
  bool rtcp = rtcp_socket || is_rtcp(data, len);
  if (rtcp && !rtcp_socket && !rtcp_mux()) {
    // RTCP on the RTP port without rtcp-mux negotiated: not ours to interpret.
    stats_.discarded_rtcp++;
    return false;
  }
  bool latched_now = false;
  if (!source_ok(from, rtcp)) {
    if (!latching_ || latched_ || !configured_ || rtcp || !latch_candidate(data, len, from)) {
      stats_.discarded_source++;
      return false;
    }
    // A run of valid in-sequence packets from one source: that is where the far end really is.
    cfg_.remote_rtp = from;
    if (!rtcp_mux()) {
      cfg_.remote_rtcp = from;
      cfg_.remote_rtcp.sin_port = htons(static_cast<uint16_t>(ntohs(from.sin_port) + 1));
    }
    latched_ = latched_now = true;
  } else if (latching_ && !latched_ && !rtcp) {
    // The SDP address itself sends valid RTP: it is the source, the one strict mode trusts, so
    // it is fixed at once and a sprayer gets no window in which its own run could win.
    RtpView v;
    if (parse_rtp(data, len, v) == RtpError::None) latched_ = latched_now = true;
  }
  if (rtcp) {
    on_rtcp(data, len, now_ms);
    return latched_now;
  }
  if (!receives()) {
    stats_.discarded_direction++;
    return latched_now;
  }
  stats_.packets_in++;
  stats_.bytes_in += len;
  arrival_.add(arrival_ns, kernel_time);
  last_rx_ms_ = now_ms;
  timeout_reported_ = false;
  stream_->on_packet(data, len, now_ms);
  return latched_now;
}

void Endpoint::on_rtcp(const uint8_t* data, size_t len, int64_t now_ms) {
  RtcpCompound c;
  if (parse_rtcp(data, len, c) != RtcpError::None && c.packets == 0) {
    stats_.discarded_rtcp++;
    return;
  }
  stats_.rtcp_in++;
  int64_t now_unix = unix_ms();
  if (c.has_sr && stream_) stream_->on_sender_report(c.sr_ssrc, c.sr.ntp, now_ms);
  for (size_t i = 0; i < c.block_count; i++) {
    if (c.blocks[i].ssrc != ssrc_) continue;
    double rtt = rtt_ms(c.blocks[i].lsr, c.blocks[i].dlsr, ntp_middle32(ntp_from_unix_ms(now_unix)));
    if (rtt >= 0) stats_.rtt_ms = rtt;
  }
}

FrameKind Endpoint::pull(int16_t* out, int64_t now_ms) {
  if (!stream_) {
    std::fill(out, out + 8000 / 50, 0);
    return FrameKind::Silence;
  }
  FrameKind k = stream_->pull(out, now_ms);
  if (!receives()) {
    std::fill(out, out + stream_->rate() / 50, 0);
    return FrameKind::Silence;
  }
  return k;
}

std::vector<DtmfEvent> Endpoint::take_dtmf() {
  if (!stream_) return {};
  return stream_->take_dtmf();
}

void Endpoint::send_rtcp(int fd, const sockaddr_in& to, size_t len) {
  // A full socket buffer or an unreachable peer costs this report only.
  if (send_datagram(fd, to, rtcp_buf_, len)) stats_.rtcp_out++;
}

void Endpoint::send_frame(const uint8_t* payload, size_t len) {
  uint32_t frame_ts = static_cast<uint32_t>(clock_rate_ / 50);
  if (!sends() || cfg_.remote_rtp.sin_port == 0) {
    ts_ += frame_ts;
    return;
  }
  DtmfPacket d;
  if (dtmf_ && dtmf_->active() && dtmf_->next(d)) {
    // While a key is sent, its RFC 4733 packets replace the audio (RFC 4733 2.5.1.1).
    size_t h = write_rtp_header(packet_, sizeof packet_, static_cast<uint8_t>(cfg_.receive.telephone_event_pt),
                                d.marker, seq_++, dtmf_ts_ + d.ts_offset, ssrc_);
    std::memcpy(packet_ + h, d.payload, sizeof d.payload);
    pending_len_ = h + sizeof d.payload;
    stats_.dtmf_out++;
  } else {
    if (len > sizeof packet_ - 12) len = sizeof packet_ - 12;
    size_t h = write_rtp_header(packet_, sizeof packet_, cfg_.send.payload_type, first_packet_, seq_++, ts_, ssrc_);
    std::memcpy(packet_ + h, payload, len);
    pending_len_ = h + len;
    first_packet_ = false;
    stats_.bytes_out += len;
    sent_octets_ += static_cast<uint32_t>(len);
  }
  stats_.packets_out++;
  sent_packets_++;
  sent_since_report_ = true;
  ts_ += frame_ts;
}

void Endpoint::transmit(UdpSender& out) {
  if (pending_len_ == 0) return;
  if (sends() && cfg_.remote_rtp.sin_port != 0) out.send(rtp_fd_, cfg_.remote_rtp, packet_, pending_len_);
  pending_len_ = 0;
}

void Endpoint::send_dtmf(char digit, int duration_ms) {
  if (!dtmf_) throw std::invalid_argument("no telephone-event payload type is configured on this endpoint");
  if (dtmf_->active()) throw std::invalid_argument("a key is still being sent on this endpoint");
  dtmf_->start(digit, duration_ms);
  dtmf_ts_ = ts_;
}

void Endpoint::maybe_send_rtcp(int64_t now_ms) {
  if (!configured_ || now_ms < next_rtcp_ms_ || cfg_.direction == Direction::Inactive) return;
  // RFC 3550 6.2: randomise the interval (0.5–1.5 ×) so that endpoints do not report in lockstep.
  next_rtcp_ms_ = now_ms + kRtcpIntervalMs / 2 + static_cast<int64_t>(ssrc_ ^ static_cast<uint32_t>(now_ms)) % kRtcpIntervalMs;
  RtcpReportBlock block;
  size_t blocks = 0;
  if (stream_ && stream_->has_source()) {
    block = stream_->report_block(now_ms);
    blocks = 1;
  }
  RtcpSenderInfo info;
  info.ntp = ntp_from_unix_ms(unix_ms());
  info.rtp_ts = ts_;
  info.packets = sent_packets_;
  info.octets = sent_octets_;
  size_t n = build_report(rtcp_buf_, sizeof rtcp_buf_, ssrc_, sent_since_report_ ? &info : nullptr, &block, blocks, cname_,
                          cname_len_);
  sent_since_report_ = false;
  if (n == 0) return;
  if (rtcp_mux()) {
    if (cfg_.remote_rtp.sin_port != 0) send_rtcp(rtp_fd_, cfg_.remote_rtp, n);
  }
  else if (cfg_.remote_rtcp.sin_port != 0) send_rtcp(rtcp_fd_, cfg_.remote_rtcp, n);
}

bool Endpoint::timed_out(int64_t now_ms, int64_t timeout_ms) {
  if (!receives() || timeout_reported_ || timeout_ms <= 0) return false;
  if (now_ms - last_rx_ms_ < timeout_ms) return false;
  timeout_reported_ = true;
  return true;
}

EndpointStats Endpoint::stats() const {
  EndpointStats s = stats_;
  s.latched = latched_;
  if (stream_) s.receive = stream_->stats();
  s.arrival = arrival_.stats();
  return s;
}

}  // namespace parley
