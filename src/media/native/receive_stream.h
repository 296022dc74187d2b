// One endpoint's inbound audio: RTP datagrams in (already past the endpoint's
// source-address check), exactly one 20 ms PCM frame per tick out, plus the keys
// pressed (RFC 4733), reception statistics (RFC 3550 A.3 loss, A.8 jitter) and the
// report block our RTCP sends about this source.
//
// Bad input is counted, never thrown: invalid RTP, unknown payload types, late,
// duplicate and overflowing packets each have a discard reason in stats().
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "codec.h"
#include "dtmf.h"
#include "jitter_buffer.h"
#include "rtcp.h"
#include "rtp_packet.h"

namespace parley {

/** `rate`: the codec's PCM rate (G.722: 16000 though its RTP clock is 8000; Opus: 48000). */
struct PayloadSpec {
  Codec codec;
  int rate;
};

struct ReceiveConfig {
  std::map<uint8_t, PayloadSpec> payload_types;  // dynamic payload types per endpoint, from SDP
  int telephone_event_pt = -1;                   // RFC 4733; -1: none negotiated
  int telephone_event_rate = 8000;
  /** RFC 3389 comfort noise (static type 13 by RFC 3551); its packets mark a pause, played as silence. -1: none. */
  int comfort_noise_pt = 13;
  JitterConfig jitter;
};

struct DiscardCounts {
  uint64_t invalid = 0;
  uint64_t unknown_pt = 0;
  uint64_t late = 0;
  uint64_t duplicate = 0;
  uint64_t overflow = 0;
};

struct ReceiveStats {
  uint64_t packets = 0;  // RTP packets of the current source counted by RFC 3550 A.3 (no duplicates)
  uint64_t bytes = 0;    // their payload bytes
  int64_t lost = 0;      // expected − received, RFC 3550 A.3
  uint64_t duplicates = 0;
  uint64_t late = 0;
  uint64_t reordered = 0;  // arrived after a higher sequence number
  DiscardCounts discarded;
  double jitter_ms = 0;  // RFC 3550 A.8 interarrival jitter
  int target_delay_ms = 0;
  int current_delay_ms = 0;
  uint64_t ssrc_changes = 0;
  uint64_t timestamp_jumps = 0;
  uint64_t sequence_restarts = 0;  // RFC 3550 A.1: two packets in a row after a large sequence jump
  uint64_t resyncs = 0;            // playout re-anchored after a run of late packets
  uint64_t concealed_frames = 0;
  uint64_t fec_frames = 0;
  uint64_t dropped_frames = 0;
  uint64_t stretched_frames = 0;
  uint64_t dtmf_packets = 0;
  uint64_t comfort_noise_packets = 0;
  uint64_t decode_errors = 0;
  uint32_t ssrc = 0;
  uint32_t ext_highest_seq = 0;
};

class ReceiveStream {
 public:
  /** Throws std::invalid_argument for a payload type map the codecs cannot open. */
  explicit ReceiveStream(ReceiveConfig cfg);
  /** Re-INVITE: new payload types; keeps the stats and the source. */
  void reconfigure(ReceiveConfig cfg);

  void on_packet(const uint8_t* data, size_t len, int64_t arrival_ms);
  /** Writes rate()/50 samples into `out`. Never blocks; no allocation on the steady path. */
  FrameKind pull(int16_t* out, int64_t now_ms);
  /** PCM rate of the codec in use (of the first configured payload type until a packet arrives). */
  int rate() const { return jitter_.pcm_rate(); }
  /** Keys completed since the last call. */
  std::vector<DtmfEvent> take_dtmf();
  ReceiveStats stats() const;

  /** The RR block about this source; advances the "since last report" counters. */
  RtcpReportBlock report_block(int64_t now_ms);
  /** An SR from this source arrived: remember its NTP time for LSR/DLSR. */
  void on_sender_report(uint32_t ssrc, uint64_t ntp, int64_t arrival_ms);
  /** True once an RTP packet was accepted (there is a source to report on). */
  bool has_source() const { return have_source_; }

 private:
  struct Active {
    PayloadSpec spec;
    int clock_rate;
    std::unique_ptr<Decoder> decoder;
  };
  /** Everything after the payload-type and source checks: sequence, statistics, jitter buffer. */
  void accept(const RtpView& v, int64_t arrival_ms);
  /** A packet of an SSRC that is not the current source's: true once its run confirms it. */
  bool probe(const RtpView& v, const uint8_t* data, size_t len, int64_t arrival_ms);
  /** Forgets the candidate source's held packets (counted as discarded invalid). */
  void drop_candidate();
  void select_payload(uint8_t pt);
  void reset_source(uint32_t ssrc, uint16_t seq);
  enum class SeqVerdict { Ok, Drop, Restarted };
  /** RFC 3550 A.1 update_seq (no probation: the endpoint checked the source address). */
  SeqVerdict update_seq(uint16_t seq);
  void init_seq(uint16_t seq);
  static int clock_rate_of(const PayloadSpec& spec);

  ReceiveConfig cfg_;
  std::map<uint8_t, Active> decoders_;  // one decoder per payload type, made up front
  int current_pt_ = -1;
  JitterBuffer jitter_;
  DtmfReceiver dtmf_;
  std::vector<DtmfEvent> dtmf_out_;

  bool have_source_ = false;
  uint32_t ssrc_ = 0;
  // The source before the last change: its stragglers are late, not a change back,
  // unless it keeps sending.
  bool have_previous_ = false;
  uint32_t previous_ssrc_ = 0;
  int previous_run_ = 0;
  // A new SSRC on probation: its packets are held (preallocated) until kProbation arrive in
  // sequence with no packet of the current source between them; then they all go in.
  static constexpr int kProbation = 3;
  static constexpr size_t kHeldBytes = 1500;
  struct HeldPacket {
    std::array<uint8_t, kHeldBytes> data{};
    size_t len = 0;
    int64_t arrival_ms = 0;
  };
  std::array<HeldPacket, kProbation - 1> held_{};
  int candidate_run_ = 0;
  uint32_t candidate_ssrc_ = 0;
  uint16_t candidate_seq_ = 0;
  // RFC 3550 A.1 source state.
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;
  uint32_t base_seq_ = 0;
  uint32_t bad_seq_ = 0x10001;
  uint64_t received_ = 0;
  uint64_t expected_prior_ = 0;
  uint64_t received_prior_ = 0;
  // RFC 3550 A.8 jitter, in timestamp units of the payload's clock, scaled by 16.
  double jitter_ts_ = 0;
  int jitter_clock_ = 8000;
  bool have_transit_ = false;
  double last_transit_ = 0;
  // Timestamp unwrapping.
  int64_t ext_ts_ = 0;
  bool have_ts_ = false;
  uint32_t last_ts_ = 0;
  // Duplicate detection: received sequence numbers in a window behind the highest.
  static constexpr int kWindow = 1024;
  std::vector<uint64_t> seen_;  // bitmap over extended sequence number mod kWindow
  int64_t seen_high_ = -1;
  // Last SR from the source.
  uint32_t lsr_ = 0;
  int64_t lsr_arrival_ms_ = 0;

  ReceiveStats stats_;
};

}  // namespace parley
