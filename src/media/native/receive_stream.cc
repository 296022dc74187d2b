#include "receive_stream.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "rtp_packet.h"

namespace parley {

namespace {
constexpr uint32_t kMaxDropout = 3000;  // RFC 3550 A.1
constexpr uint32_t kMaxMisorder = 100;
constexpr uint32_t kSeqMod = 1u << 16;
// Extended sequence numbers handed to the jitter buffer start here, so a packet from
// just before the first one (reordered across a wrap) still has a positive number.
constexpr int64_t kSeqOffset = int64_t{1} << 20;
constexpr size_t kMaxPendingKeys = 64;
constexpr int kPreviousRunSwitch = 3;  // packets in a row from the previous source that make it current again
}  // namespace

int ReceiveStream::clock_rate_of(const PayloadSpec& spec) {
  switch (spec.codec) {
    case Codec::G722:
      return 8000;  // RFC 3551 4.5.2: the clock stays at 8000 for historical reasons
    case Codec::OPUS:
      return 48000;  // RFC 7587: always 48000
    case Codec::PCMU:
    case Codec::PCMA:
      return 8000;
    case Codec::L16:
      return spec.rate;
  }
  return 8000;
}

ReceiveStream::ReceiveStream(ReceiveConfig cfg) : jitter_(cfg.jitter), seen_(kWindow / 64, 0) {
  dtmf_out_.reserve(kMaxPendingKeys);
  reconfigure(std::move(cfg));
}

void ReceiveStream::reconfigure(ReceiveConfig cfg) {
  std::map<uint8_t, Active> next;
  for (const auto& [pt, spec] : cfg.payload_types) {
    if (pt > 127) throw std::invalid_argument("payload type above 127");
    auto old = decoders_.find(pt);
    if (old != decoders_.end() && old->second.spec.codec == spec.codec && old->second.spec.rate == spec.rate) {
      next.emplace(pt, std::move(old->second));  // unchanged: keep the decoder and what it buffers
      continue;
    }
    Active a{spec, clock_rate_of(spec), make_decoder(spec.codec, spec.rate)};
    a.spec.rate = a.decoder->rate();
    a.clock_rate = clock_rate_of(a.spec);
    next.emplace(pt, std::move(a));
  }
  bool keep_current = current_pt_ >= 0 && decoders_.count(static_cast<uint8_t>(current_pt_)) &&
                      next.count(static_cast<uint8_t>(current_pt_)) &&
                      next.at(static_cast<uint8_t>(current_pt_)).decoder.get() ==
                          decoders_.at(static_cast<uint8_t>(current_pt_)).decoder.get();
  // jitter_ may point at a decoder about to be destroyed: switch first, destroy after.
  std::map<uint8_t, Active> retired = std::move(decoders_);
  decoders_ = std::move(next);
  cfg_ = std::move(cfg);
  if (!keep_current) {
    current_pt_ = -1;
    if (!decoders_.empty()) {
      select_payload(decoders_.begin()->first);
    } else {
      jitter_.set_decoder(nullptr, Codec::PCMU, 8000, 8000);
    }
  }
  retired.clear();
}

void ReceiveStream::select_payload(uint8_t pt) {
  if (current_pt_ == pt) return;
  auto it = decoders_.find(pt);
  if (it == decoders_.end()) return;
  current_pt_ = pt;
  Active& a = it->second;
  jitter_.set_decoder(a.decoder.get(), a.spec.codec, a.spec.rate, a.clock_rate);
  jitter_clock_ = a.clock_rate;
  have_transit_ = false;
}

void ReceiveStream::init_seq(uint16_t seq) {
  base_seq_ = seq;
  max_seq_ = seq;
  bad_seq_ = kSeqMod + 1;
  cycles_ = 0;
  received_ = 0;
  received_prior_ = 0;
  expected_prior_ = 0;
  std::fill(seen_.begin(), seen_.end(), 0);
  seen_high_ = -1;
  have_ts_ = false;
}

void ReceiveStream::reset_source(uint32_t ssrc, uint16_t seq) {
  have_source_ = true;
  ssrc_ = ssrc;
  init_seq(seq);
  jitter_ts_ = 0;
  have_transit_ = false;
  lsr_ = 0;
  // A new stream: fresh decoder state, empty buffer.
  if (current_pt_ >= 0) {
    auto pt = static_cast<uint8_t>(current_pt_);
    auto& a = decoders_.at(pt);
    a.decoder = make_decoder(a.spec.codec, a.spec.rate);
    current_pt_ = -1;
    select_payload(pt);  // hands the new decoder to the jitter buffer, which starts empty
  }
  jitter_.reset();
}

ReceiveStream::SeqVerdict ReceiveStream::update_seq(uint16_t seq) {
  auto udelta = static_cast<uint16_t>(seq - max_seq_);
  if (udelta < kMaxDropout) {
    if (seq < max_seq_) cycles_ += kSeqMod;  // wrapped
    max_seq_ = seq;
  } else if (udelta <= kSeqMod - kMaxMisorder) {
    if (seq == bad_seq_) {
      // Two packets in sequence after a jump: the sender restarted without changing SSRC.
      init_seq(seq);
      return SeqVerdict::Restarted;
    }
    bad_seq_ = (static_cast<uint32_t>(seq) + 1) & (kSeqMod - 1);
    return SeqVerdict::Drop;
  }
  // else: duplicate or reordered, within MAX_MISORDER
  return SeqVerdict::Ok;
}

void ReceiveStream::on_packet(const uint8_t* data, size_t len, int64_t arrival_ms) {
  RtpView v{};
  if (parse_rtp(data, len, v) != RtpError::None) {
    stats_.discarded.invalid++;
    return;
  }
  bool is_event = cfg_.telephone_event_pt >= 0 && v.pt == cfg_.telephone_event_pt;
  bool is_cn = !is_event && cfg_.comfort_noise_pt >= 0 && v.pt == cfg_.comfort_noise_pt &&
               decoders_.find(v.pt) == decoders_.end();
  if (!is_event && !is_cn && decoders_.find(v.pt) == decoders_.end()) {
    stats_.discarded.unknown_pt++;
    return;
  }
  if (have_source_ && v.ssrc == ssrc_) {
    previous_run_ = 0;
    // The current source is still sending: whatever claimed to replace it was not a real change.
    drop_candidate();
  } else if (have_previous_ && v.ssrc == previous_ssrc_) {
    if (++previous_run_ < kPreviousRunSwitch) {
      stats_.late++;  // a reordered packet of the source we just left
      stats_.discarded.late++;
      return;
    }
  } else if (have_source_) {
    // A new SSRC replaces the current source only after a run of in-sequence packets (RFC 3550
    // A.1 probation), so a single forged packet from the right address cannot reset the stream.
    if (!probe(v, data, len, arrival_ms)) return;
    // Confirmed: the held packets go in first, as they arrived, then this one.
    int held = candidate_run_;
    candidate_run_ = 0;
    for (int i = 0; i < held; i++) {
      HeldPacket& h = held_[static_cast<size_t>(i)];
      RtpView hv{};
      if (parse_rtp(h.data.data(), h.len, hv) == RtpError::None) accept(hv, h.arrival_ms);
    }
  }
  accept(v, arrival_ms);
}

void ReceiveStream::drop_candidate() {
  stats_.discarded.invalid += static_cast<uint64_t>(candidate_run_);
  candidate_run_ = 0;
}

bool ReceiveStream::probe(const RtpView& v, const uint8_t* data, size_t len, int64_t arrival_ms) {
  bool continues = candidate_run_ > 0 && v.ssrc == candidate_ssrc_ &&
                   v.seq == static_cast<uint16_t>(candidate_seq_ + 1);
  if (!continues) {
    drop_candidate();
    candidate_ssrc_ = v.ssrc;
  }
  candidate_seq_ = v.seq;
  if (candidate_run_ + 1 >= kProbation) return true;
  if (len > kHeldBytes) {
    // Cannot be held (no datagram the engine reads is this large): the run starts over.
    stats_.discarded.invalid++;
    drop_candidate();
    return false;
  }
  HeldPacket& h = held_[static_cast<size_t>(candidate_run_)];
  std::memcpy(h.data.data(), data, len);
  h.len = len;
  h.arrival_ms = arrival_ms;
  candidate_run_++;
  return false;
}

void ReceiveStream::accept(const RtpView& v, int64_t arrival_ms) {
  bool is_event = cfg_.telephone_event_pt >= 0 && v.pt == cfg_.telephone_event_pt;
  bool is_cn = !is_event && cfg_.comfort_noise_pt >= 0 && v.pt == cfg_.comfort_noise_pt &&
               decoders_.find(v.pt) == decoders_.end();
  if (!have_source_ || v.ssrc != ssrc_) {
    if (have_source_) {
      stats_.ssrc_changes++;
      have_previous_ = true;
      previous_ssrc_ = ssrc_;
      previous_run_ = 0;
    }
    drop_candidate();
    reset_source(v.ssrc, v.seq);
  } else {
    auto verdict = update_seq(v.seq);
    if (verdict == SeqVerdict::Drop) {
      stats_.discarded.invalid++;
      return;
    }
    if (verdict == SeqVerdict::Restarted) {
      stats_.sequence_restarts++;
      jitter_.reset();
    }
  }
  // Extended number of this packet, relative to the highest so far (it may be older).
  int64_t ext_max = static_cast<int64_t>(cycles_) + max_seq_;
  int64_t ext = ext_max + static_cast<int16_t>(static_cast<uint16_t>(v.seq - max_seq_));

  // Duplicates: a bitmap of the sequence numbers seen in a window behind the highest.
  if (seen_high_ >= 0 && ext <= seen_high_ - kWindow) {
    stats_.discarded.late++;  // older than anything we still track
    stats_.late++;
    return;
  }
  auto bit = static_cast<size_t>((ext + kSeqOffset) % kWindow);
  if (seen_high_ >= 0 && ext <= seen_high_) {
    if (seen_[bit / 64] & (uint64_t{1} << (bit % 64))) {
      stats_.duplicates++;
      stats_.discarded.duplicate++;
      return;
    }
    stats_.reordered++;
  } else {
    // Forget the bits the window slides over.
    int64_t from = seen_high_ < 0 ? ext : std::max(seen_high_ + 1, ext - kWindow + 1);
    for (int64_t e = from; e < ext; e++) {
      auto b = static_cast<size_t>((e + kSeqOffset) % kWindow);
      seen_[b / 64] &= ~(uint64_t{1} << (b % 64));
    }
    seen_high_ = ext;
  }
  seen_[bit / 64] |= uint64_t{1} << (bit % 64);
  received_++;
  stats_.packets++;
  stats_.bytes += v.payload_len;

  // Extended timestamp, relative to the newest packet's.
  int64_t ext_ts;
  if (!have_ts_) {
    have_ts_ = true;
    ext_ts_ = v.ts;
    last_ts_ = v.ts;
    ext_ts = ext_ts_;
  } else {
    ext_ts = ext_ts_ + static_cast<int32_t>(v.ts - last_ts_);
    if (ext_ts > ext_ts_) {
      ext_ts_ = ext_ts;
      last_ts_ = v.ts;
    }
  }

  if (is_cn) {
    stats_.comfort_noise_packets++;
    jitter_.mark_non_audio(ext + kSeqOffset);
    return;
  }
  if (is_event) {
    // Events share the sequence space (loss statistics) but not the audio timing.
    stats_.dtmf_packets++;
    jitter_.mark_non_audio(ext + kSeqOffset);
    for (const auto& key : dtmf_.feed(v.ts, v.payload, v.payload_len))
      if (dtmf_out_.size() < kMaxPendingKeys) dtmf_out_.push_back(key);
    return;
  }

  select_payload(v.pt);
  // RFC 3550 A.8 interarrival jitter, in timestamp units of the payload's clock.
  double arrival_ts = static_cast<double>(arrival_ms) * jitter_clock_ / 1000.0;
  double transit = arrival_ts - static_cast<double>(ext_ts);
  if (have_transit_) {
    double d = std::fabs(transit - last_transit_);
    jitter_ts_ += (d - jitter_ts_) / 16.0;
  }
  have_transit_ = true;
  last_transit_ = transit;

  switch (jitter_.insert(ext + kSeqOffset, ext_ts, v.payload, v.payload_len, arrival_ms)) {
    case InsertResult::Ok:
      break;
    case InsertResult::Duplicate:
      stats_.duplicates++;
      stats_.discarded.duplicate++;
      break;
    case InsertResult::Late:
      stats_.discarded.late++;
      break;
    case InsertResult::Overflow:
    case InsertResult::TooLarge:
      break;  // counted by the jitter buffer, with the packets it evicts
  }
}

FrameKind ReceiveStream::pull(int16_t* out, int64_t now_ms) { return jitter_.pull(out, now_ms); }

std::vector<DtmfEvent> ReceiveStream::take_dtmf() {
  // Called every tick: no allocation unless there is a key to hand over.
  if (dtmf_out_.empty()) return {};
  std::vector<DtmfEvent> out(dtmf_out_.begin(), dtmf_out_.end());
  dtmf_out_.clear();
  return out;
}

ReceiveStats ReceiveStream::stats() const {
  ReceiveStats s = stats_;
  const JitterStats& j = jitter_.stats();
  if (have_source_) {
    int64_t expected = static_cast<int64_t>(cycles_) + max_seq_ - base_seq_ + 1;
    s.lost = expected - static_cast<int64_t>(received_);
    s.ext_highest_seq = cycles_ + max_seq_;
  }
  s.late += j.late;
  s.discarded.overflow = j.overflow;
  s.jitter_ms = jitter_ts_ * 1000.0 / jitter_clock_;
  s.target_delay_ms = j.target_delay_ms;
  s.current_delay_ms = j.current_delay_ms;
  s.timestamp_jumps = j.timestamp_jumps;
  s.resyncs = j.resyncs;
  s.concealed_frames = j.concealed_frames;
  s.fec_frames = j.fec_frames;
  s.dropped_frames = j.dropped_frames;
  s.stretched_frames = j.stretched_frames;
  s.decode_errors = j.decode_errors;
  s.ssrc = ssrc_;
  return s;
}

RtcpReportBlock ReceiveStream::report_block(int64_t now_ms) {
  RtcpReportBlock b;
  if (!have_source_) return b;
  b.ssrc = ssrc_;
  uint64_t ext_max = static_cast<uint64_t>(cycles_) + max_seq_;
  uint64_t expected = ext_max - base_seq_ + 1;
  int64_t lost = static_cast<int64_t>(expected) - static_cast<int64_t>(received_);
  b.cumulative_lost = static_cast<int32_t>(std::clamp<int64_t>(lost, -0x800000, 0x7FFFFF));
  // RFC 3550 A.3: fraction lost over the interval since the previous report.
  int64_t expected_interval = static_cast<int64_t>(expected - expected_prior_);
  int64_t received_interval = static_cast<int64_t>(received_ - received_prior_);
  int64_t lost_interval = expected_interval - received_interval;
  expected_prior_ = expected;
  received_prior_ = received_;
  b.fraction_lost =
      expected_interval == 0 || lost_interval <= 0 ? 0 : static_cast<uint8_t>((lost_interval << 8) / expected_interval);
  b.ext_highest_seq = static_cast<uint32_t>(ext_max);
  b.jitter = static_cast<uint32_t>(std::clamp(jitter_ts_, 0.0, 4294967295.0));  // bogus timestamps can inflate it
  b.lsr = lsr_;
  if (lsr_ != 0) b.dlsr = static_cast<uint32_t>(std::max<int64_t>(0, now_ms - lsr_arrival_ms_) * 65536 / 1000);
  return b;
}

void ReceiveStream::on_sender_report(uint32_t ssrc, uint64_t ntp, int64_t arrival_ms) {
  if (!have_source_ || ssrc != ssrc_) return;
  lsr_ = ntp_middle32(ntp);
  lsr_arrival_ms_ = arrival_ms;
}

}  // namespace parley
