#include "jitter_buffer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>

namespace parley {

namespace {
constexpr size_t kFifoSamples = 16384;     // > one 120 ms packet at 48 kHz plus a 120 ms gap and a frame
constexpr size_t kScratchSamples = 5760;   // 120 ms at 48 kHz: the longest packet any codec carries
constexpr double kMarginMs = 20;           // target = peak delay variation + this
constexpr double kDecayMsPerSecond = 2;    // how fast the target shrinks once the jitter calms down
constexpr double kHysteresisMs = 15;       // steer only when the delay is this far from the target
constexpr int kSteerEveryPulls = 25;       // one drop or stretch per 500 ms at most (±4 % skew)
constexpr int kLateRunResync = 10;         // this many late packets in a row, over at least
constexpr int64_t kLateSpanMs = 200;       // this long: our playout is off
constexpr double kJumpMs = 1000;           // timestamp this far from the playout point: a new timeline
constexpr double kFrameMs = 20;
}  // namespace

JitterBuffer::JitterBuffer(JitterConfig cfg) : cfg_(cfg) {
  cfg_.min_delay_ms = std::clamp(cfg_.min_delay_ms, 0, 1000);
  cfg_.max_delay_ms = std::clamp(cfg_.max_delay_ms, cfg_.min_delay_ms, 2000);
  cfg_.initial_delay_ms = std::clamp(cfg_.initial_delay_ms, cfg_.min_delay_ms, cfg_.max_delay_ms);
  cfg_.slots = std::clamp<size_t>(cfg_.slots, 8, 512);
  cfg_.max_concealed_frames = std::clamp(cfg_.max_concealed_frames, 1, 50);
  slots_.resize(cfg_.slots);
  seqs_.assign(cfg_.slots, -1);
  fifo_.resize(kFifoSamples);
  kind_.resize(kFifoSamples);
  scratch_.resize(kScratchSamples);
  non_audio_.fill(-1);
  target_ms_ = cfg_.initial_delay_ms;
  peak_var_ms_ = std::max(0.0, target_ms_ - kMarginMs);
}

void JitterBuffer::set_decoder(Decoder* decoder, Codec codec, int pcm_rate, int clock_rate) {
  decoder_ = decoder;
  codec_ = codec;
  pcm_rate_ = pcm_rate > 0 ? pcm_rate : 8000;
  clock_rate_ = clock_rate > 0 ? clock_rate : pcm_rate_;
  spt_ = std::max(1, pcm_rate_ / clock_rate_);
  frame_ts_ = clock_rate_ / 50;
  reset();
}

void JitterBuffer::reset() {
  for (auto& s : slots_) s.seq = -1;
  std::fill(seqs_.begin(), seqs_.end(), -1);
  oldest_ = -1;
  non_audio_.fill(-1);
  max_non_audio_ = -1;
  count_ = 0;
  max_seq_ = -1;
  fifo_len_ = 0;
  playing_ = false;
  last_seq_ = -1;
  concealed_run_ = 0;
  late_run_ = 0;
  have_transit_ = false;
  window_has_lead_ = false;
  window_pulls_ = 0;
  stretch_pending_ = 0;
  drop_pending_ = false;
}

JitterBuffer::Slot* JitterBuffer::oldest() {
  if (count_ == 0) return nullptr;
  if (oldest_ < 0) {
    int64_t best = -1;
    for (size_t i = 0; i < seqs_.size(); i++) {
      int64_t q = seqs_[i];
      if (q >= 0 && (best < 0 || q < best)) {
        best = q;
        oldest_ = static_cast<int>(i);
      }
    }
  }
  return oldest_ < 0 ? nullptr : &slots_[static_cast<size_t>(oldest_)];
}

void JitterBuffer::store_seq(size_t index, int64_t seq) {
  slots_[index].seq = seq;
  seqs_[index] = seq;
  if (seq < 0) {
    if (oldest_ == static_cast<int>(index)) oldest_ = -1;  // found again by the next oldest()
  } else if (oldest_ >= 0 && seq < seqs_[static_cast<size_t>(oldest_)]) {
    oldest_ = static_cast<int>(index);
  } else if (count_ == 0) {
    oldest_ = static_cast<int>(index);  // the only packet (count_ is raised by the caller afterwards)
  }
}

void JitterBuffer::mark_non_audio(int64_t ext_seq) {
  if (ext_seq < 0) return;
  non_audio_[static_cast<size_t>(ext_seq) % non_audio_.size()] = ext_seq;
  max_non_audio_ = std::max(max_non_audio_, ext_seq);
}

bool JitterBuffer::gap_is_loss(int64_t from, int64_t to) const {
  if (to - from - 1 > static_cast<int64_t>(non_audio_.size())) return true;  // too long a gap to account for
  for (int64_t s = from + 1; s < to; s++)
    if (s < 0 || non_audio_[static_cast<size_t>(s) % non_audio_.size()] != s) return true;
  return false;
}

void JitterBuffer::drop_slot(Slot& s) {
  if (s.seq < 0) return;
  store_seq(static_cast<size_t>(&s - slots_.data()), -1);
  count_--;
}

void JitterBuffer::anchor(int64_t ts, int64_t seq) {
  playing_ = true;
  play_ts_ = decoded_ts_ = ts;
  fifo_len_ = 0;
  last_seq_ = seq - 1;
  concealed_run_ = 0;
  late_run_ = 0;
  window_has_lead_ = false;
  window_pulls_ = 0;
}

void JitterBuffer::note_transit(double transit_ms, int64_t arrival_ms) {
  // Delay variation against the smallest transit of the last one to two seconds: a
  // short window, so clock skew between the sender and us hardly inflates it.
  if (!have_transit_) {
    have_transit_ = true;
    min_transit_ms_[0] = min_transit_ms_[1] = transit_ms;
    min_bucket_start_ms_ = arrival_ms;
    last_decay_ms_ = arrival_ms;
  } else if (arrival_ms - min_bucket_start_ms_ >= 1000) {
    min_transit_ms_[1] = min_transit_ms_[0];
    min_transit_ms_[0] = transit_ms;
    min_bucket_start_ms_ = arrival_ms;
  } else {
    min_transit_ms_[0] = std::min(min_transit_ms_[0], transit_ms);
  }
  double variation = transit_ms - std::min(min_transit_ms_[0], min_transit_ms_[1]);
  if (arrival_ms > last_decay_ms_) {
    peak_var_ms_ -= kDecayMsPerSecond * static_cast<double>(arrival_ms - last_decay_ms_) / 1000.0;
    last_decay_ms_ = arrival_ms;
  }
  // Grow at once on a spike, shrink slowly.
  peak_var_ms_ = std::max({peak_var_ms_, variation, 0.0});
  target_ms_ = std::clamp(peak_var_ms_ + kMarginMs, static_cast<double>(cfg_.min_delay_ms),
                          static_cast<double>(cfg_.max_delay_ms));
  stats_.target_delay_ms = static_cast<int>(std::lround(target_ms_));
}

InsertResult JitterBuffer::insert(int64_t ext_seq, int64_t ext_ts, const uint8_t* payload, size_t len,
                                  int64_t arrival_ms) {
  if (len > kMaxPayload || decoder_ == nullptr) {
    stats_.overflow++;
    return InsertResult::TooLarge;
  }
  double transit_ms = static_cast<double>(arrival_ms) - ts_to_ms(ext_ts);

  // A new timeline: far ahead of where we play, or a sequence number that moves on
  // while the timestamp goes back. (Behind the play point alone is lateness: a burst
  // after a network stall is consistent in sequence and timestamp, just late.)
  bool newer = ext_seq > max_seq_;
  if (playing_) {
    double ahead_ms = ts_to_ms(ext_ts - play_ts_);
    bool backwards = newer && max_seq_ >= 0 && ext_ts < max_seq_ts_ - frame_ts_;
    bool jump = ahead_ms > kJumpMs + cfg_.max_delay_ms || backwards;
    if (jump) {
      stats_.timestamp_jumps++;
      reset();
    }
  } else if (Slot* o = oldest(); o && std::fabs(ts_to_ms(ext_ts - o->ts)) > kJumpMs) {
    stats_.timestamp_jumps++;
    reset();
  }
  if (!have_transit_ || playing_) note_transit(transit_ms, arrival_ms);

  size_t index = static_cast<size_t>(ext_seq % static_cast<int64_t>(slots_.size()));
  Slot& s = slots_[index];
  if (s.seq == ext_seq) {
    stats_.duplicates++;
    return InsertResult::Duplicate;
  }
  if (playing_ && (ext_ts < decoded_ts_ || ext_seq <= last_seq_)) {
    // The play point is too close to the arrivals: hold it back by the lateness now,
    // and after a run of late packets start over from this one.
    // Clamped before the conversion: a bogus timestamp may put it anywhere.
    double lateness = std::clamp(ts_to_ms(decoded_ts_ - ext_ts), 0.0, static_cast<double>(cfg_.max_delay_ms));
    int frames = static_cast<int>(std::ceil(lateness / kFrameMs));
    // No further than the maximum delay: what we hold back plus what we already wait.
    int room = static_cast<int>((cfg_.max_delay_ms - std::max(stats_.current_delay_ms, 0)) / kFrameMs);
    stretch_pending_ = std::max(stretch_pending_, std::min(frames, std::max(room, 0)));
    // A burst after a network stall is late all at once; only lateness that goes on
    // (a lasting shift in the path delay) re-anchors the playout.
    if (late_run_++ == 0) first_late_ms_ = arrival_ms;
    if (late_run_ < kLateRunResync || arrival_ms - first_late_ms_ < kLateSpanMs) {
      stats_.late++;
      return InsertResult::Late;
    }
    stats_.resyncs++;
    reset();
  }
  late_run_ = 0;
  if (s.seq >= 0) {
    // The ring is full this far ahead: the older packet goes (the playout would need it
    // more than slots_ packets ago).
    stats_.overflow++;
    if (s.seq > ext_seq) return InsertResult::Overflow;
    drop_slot(s);
  }
  store_seq(index, ext_seq);
  s.ts = ext_ts;
  s.arrival_ms = arrival_ms;
  s.len = len;
  if (len > 0) std::memcpy(s.data.data(), payload, len);
  count_++;
  if (count_ == 1 && !playing_) first_arrival_ms_ = arrival_ms;
  if (ext_seq > max_seq_) {
    max_seq_ = ext_seq;
    max_seq_ts_ = ext_ts;
  }

  if (playing_ && pulled_) {
    // How long this packet waits before its first sample plays.
    double lead = ts_to_ms(ext_ts - play_ts_) + std::max<double>(0, static_cast<double>(last_pull_ms_) + kFrameMs -
                                                                         static_cast<double>(arrival_ms));
    window_max_lead_ms_ = window_has_lead_ ? std::max(window_max_lead_ms_, lead) : lead;
    window_has_lead_ = true;
    // Far more buffered than the maximum delay (a burst): shed it a frame per tick, not per window.
    if (lead > cfg_.max_delay_ms + 2 * kFrameMs) drop_pending_ = true;
  }
  return InsertResult::Ok;
}

void JitterBuffer::append(const int16_t* pcm, size_t samples, uint8_t kind) {
  samples = std::min(samples, kFifoSamples - fifo_len_);
  if (pcm)
    std::memcpy(fifo_.data() + fifo_len_, pcm, samples * sizeof(int16_t));
  else
    std::memset(fifo_.data() + fifo_len_, 0, samples * sizeof(int16_t));
  std::memset(kind_.data() + fifo_len_, kind, samples);
  fifo_len_ += samples;
  decoded_ts_ += static_cast<int64_t>(samples) / spt_;
}

void JitterBuffer::append_silence(size_t samples) { append(nullptr, samples, kSilence); }

void JitterBuffer::append_conceal(size_t samples) {
  size_t limit = static_cast<size_t>(cfg_.max_concealed_frames) * static_cast<size_t>(frame_samples());
  while (samples > 0) {
    size_t n = std::min(samples, kScratchSamples);
    if (concealed_run_ >= limit) {
      // Long loss: fade out rather than repeat the last sound forever.
      append_silence(n);
    } else {
      n = std::min(n, limit - concealed_run_);
      // libopus conceals in whole 2.5 ms steps; what is left over is silence.
      size_t step = decoder_->has_fec() ? static_cast<size_t>(pcm_rate_ / 400) : 1;
      size_t k = n / step * step;
      size_t got = k > 0 ? decoder_->conceal(scratch_.data(), k) : 0;
      got = std::min(got, k);
      if (got < n) std::memset(scratch_.data() + got, 0, (n - got) * sizeof(int16_t));
      if (concealed_run_ + n >= limit) {
        // The last concealed stretch ramps down to the silence that follows.
        for (size_t i = 0; i < n; i++) scratch_[i] = static_cast<int16_t>(scratch_[i] * static_cast<float>(n - i) / n);
      }
      append(scratch_.data(), n, kConcealed);
      concealed_run_ += n;
      stats_.concealed_frames += (n + static_cast<size_t>(frame_samples()) / 2) / static_cast<size_t>(frame_samples());
    }
    samples -= n;
  }
}

bool JitterBuffer::decode_slot(Slot& s) {
  size_t n = 0;
  try {
    n = decoder_->decode(s.data.data(), s.len, scratch_.data(), kScratchSamples);
  } catch (const std::exception&) {
    stats_.decode_errors++;  // corrupt payload: counted, then concealed like a loss
    return false;
  }
  // A packet that starts before what we already hold overlaps it: keep only its tail.
  size_t skip = s.ts < decoded_ts_ ? static_cast<size_t>(decoded_ts_ - s.ts) * static_cast<size_t>(spt_) : 0;
  if (skip < n) {
    int64_t start = std::max(s.ts, decoded_ts_);
    decoded_ts_ = start;
    append(scratch_.data() + skip, n - skip, kAudio);
    concealed_run_ = 0;
  }
  return true;
}

void JitterBuffer::fill(size_t want) {
  while (fifo_len_ < want) {
    size_t need = want - fifo_len_;
    Slot* p = oldest();
    if (p == nullptr) {  // underrun: nothing to play yet (loss at the tail, a delay spike or DTX)
      // Everything after the last audio packet was a key or comfort noise: the sender
      // paused its audio, so silence; otherwise audio may be lost or late, so conceal.
      bool paused = playing_ && max_non_audio_ > last_seq_ && !gap_is_loss(last_seq_, max_non_audio_ + 1);
      if (paused)
        append_silence(need);
      else
        append_conceal(need);
      return;
    }
    if (p->ts + frame_ts_ * 6 <= decoded_ts_ && p->ts < decoded_ts_) {
      // Entirely in the past (can only be a bogus timestamp): not worth decoding.
      stats_.late++;
      drop_slot(*p);
      continue;
    }
    if (p->ts > decoded_ts_) {
      auto gap = static_cast<size_t>(p->ts - decoded_ts_) * static_cast<size_t>(spt_);
      bool lost = p->seq > last_seq_ + 1 && gap_is_loss(last_seq_, p->seq);
      if (!lost) {
        // Sequence numbers are contiguous, or the missing ones were telephone-event or
        // comfort-noise packets: the sender paused. Silence, not concealment.
        append_silence(std::min(gap, need));
        continue;
      }
      // Exactly one packet missing and its duration fits: Opus in-band FEC from this one.
      if (p->seq == last_seq_ + 2 && decoder_->has_fec() && gap <= kScratchSamples && concealed_run_ == 0) {
        size_t got = decoder_->decode_fec(p->data.data(), p->len, scratch_.data(), gap);
        if (got == gap) {
          append(scratch_.data(), got, kAudio);
          stats_.fec_frames++;
          last_seq_ = p->seq - 1;
          continue;
        }
      }
      append_conceal(std::min(gap, need));
      if (decoded_ts_ >= p->ts) last_seq_ = p->seq - 1;
      continue;
    }
    Slot& s = *p;
    bool ok = decode_slot(s);
    last_seq_ = s.seq;
    drop_slot(s);
    if (!ok) last_seq_ = s.seq - 1;  // treat a corrupt packet as lost (no FEC from it either)
  }
}

void JitterBuffer::consume(int16_t* out, size_t samples, FrameKind& kind) {
  uint8_t best = kSilence;
  for (size_t i = 0; i < samples; i++) best = std::max(best, kind_[i]);
  kind = best == kAudio ? FrameKind::Audio : best == kConcealed ? FrameKind::Concealed : FrameKind::Silence;
  if (out) std::memcpy(out, fifo_.data(), samples * sizeof(int16_t));
  fifo_len_ -= samples;
  std::memmove(fifo_.data(), fifo_.data() + samples, fifo_len_ * sizeof(int16_t));
  std::memmove(kind_.data(), kind_.data() + samples, fifo_len_);
  play_ts_ += static_cast<int64_t>(samples) / spt_;
}

void JitterBuffer::steer() {
  if (++window_pulls_ < kSteerEveryPulls) return;
  window_pulls_ = 0;
  if (!window_has_lead_) return;  // nothing arrived (DTX): nothing to judge by
  stats_.current_delay_ms = static_cast<int>(std::lround(std::clamp(window_max_lead_ms_, -1e6, 1e6)));
  if (window_max_lead_ms_ > target_ms_ + kHysteresisMs)
    drop_pending_ = true;
  else if (window_max_lead_ms_ < target_ms_ - kHysteresisMs && stretch_pending_ == 0)
    stretch_pending_ = 1;
  window_has_lead_ = false;
}

FrameKind JitterBuffer::pull(int16_t* out, int64_t now_ms) {
  auto n = static_cast<size_t>(frame_samples());
  last_pull_ms_ = now_ms;
  pulled_ = true;
  if (decoder_ == nullptr) {
    std::memset(out, 0, n * sizeof(int16_t));
    return FrameKind::Silence;
  }
  if (!playing_) {
    Slot* o = oldest();
    if (o == nullptr || static_cast<double>(now_ms - first_arrival_ms_) < target_ms_ - kFrameMs / 2) {
      std::memset(out, 0, n * sizeof(int16_t));
      return FrameKind::Silence;
    }
    anchor(o->ts, o->seq);
  }
  steer();
  FrameKind kind = FrameKind::Silence;
  if (stretch_pending_ > 0 && fifo_len_ == 0) {
    // Stretch at a packet boundary, where the decoder's concealment continues the audio
    // it last produced; the playout point stays where it is.
    stretch_pending_--;
    stats_.stretched_frames++;
    bool was_concealing = concealed_run_ > 0;
    int64_t ts_before = decoded_ts_;
    append_conceal(n);
    decoded_ts_ = ts_before;
    consume(out, n, kind);
    play_ts_ -= frame_ts_;
    if (!was_concealing) concealed_run_ = 0;  // a stretch is not a loss: do not count it towards the fade
    return kind;
  }
  if (drop_pending_ && count_ > 0 && fifo_len_ == 0) {
    drop_pending_ = false;
    fill(n);
    consume(nullptr, n, kind);
    stats_.dropped_frames++;
  }
  fill(n);
  consume(out, n, kind);
  return kind;
}

}  // namespace parley
