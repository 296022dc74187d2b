// Adaptive jitter buffer of one RTP audio stream: packets in (any order, any
// duration), exactly one 20 ms PCM frame out per tick.
//
// The playout point advances one frame per pull in RTP timestamp units, also through
// gaps (DTX, comfort noise, DTMF), so the mapping between the sender's timestamps and
// our clock survives silence; it is re-anchored only on a new stream, a timestamp jump
// or when packets keep arriving late. How long the earliest packets wait before they
// play (the current delay) is steered towards a target derived from the observed
// delay variation: a late packet raises the target at once, the target decays slowly,
// and the steering drops or stretches one frame at a time, which also absorbs clock
// skew between sender and us.
//
// Storage is preallocated: a ring of packet slots indexed by extended sequence
// number and a PCM FIFO; nothing allocates on the per-packet or per-tick path.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec.h"

namespace parley {

struct JitterConfig {
  int min_delay_ms = 20;
  int max_delay_ms = 200;
  int initial_delay_ms = 40;
  /** Packet slots; packets more than this many sequence numbers ahead of the oldest evict it. */
  size_t slots = 48;
  /** Concealed frames after which output fades to silence. */
  int max_concealed_frames = 5;
};

enum class FrameKind { Audio, Concealed, Silence };

enum class InsertResult { Ok, Duplicate, Late, Overflow, TooLarge };

struct JitterStats {
  int target_delay_ms = 0;
  int current_delay_ms = 0;
  uint64_t late = 0;
  uint64_t duplicates = 0;
  uint64_t overflow = 0;  // packets dropped for want of room: too large, or evicted by one a ring-length newer
  uint64_t concealed_frames = 0;
  uint64_t fec_frames = 0;
  uint64_t dropped_frames = 0;    // frames skipped to shrink the delay (sender fast, spike over)
  uint64_t stretched_frames = 0;  // frames inserted to grow the delay (sender slow, late packets)
  uint64_t timestamp_jumps = 0;   // re-anchored playout: timestamp far ahead, or behind while the sequence advances
  uint64_t resyncs = 0;           // re-anchored playout: packets kept arriving late for 200 ms and more
  uint64_t decode_errors = 0;
};

class JitterBuffer {
 public:
  static constexpr size_t kMaxPayload = 1500;

  explicit JitterBuffer(JitterConfig cfg = {});
  /**
   * Sets the decoder the next packets go through (owned by the caller, must outlive use),
   * its PCM rate and RTP clock rate; clears buffered packets and audio (new stream or codec).
   */
  void set_decoder(Decoder* decoder, Codec codec, int pcm_rate, int clock_rate);
  /** Forgets buffered packets and audio and the playout anchor; keeps counters and the target. */
  void reset();

  /** `ext_seq`, `ext_ts`: extended (unwrapped) sequence number and timestamp. */
  InsertResult insert(int64_t ext_seq, int64_t ext_ts, const uint8_t* payload, size_t len, int64_t arrival_ms);
  /**
   * A packet that is not audio (telephone-event, comfort noise) used this sequence number:
   * a gap in the audio there is a pause, to be filled with silence, not a loss to conceal.
   */
  void mark_non_audio(int64_t ext_seq);
  /** Writes pcm_rate/50 samples into `out`. */
  FrameKind pull(int16_t* out, int64_t now_ms);

  int pcm_rate() const { return pcm_rate_; }
  int frame_samples() const { return pcm_rate_ / 50; }
  const JitterStats& stats() const { return stats_; }
  /** Packets waiting in the buffer. */
  size_t buffered() const { return count_; }

 private:
  struct Slot {
    int64_t seq = -1;
    int64_t ts = 0;
    int64_t arrival_ms = 0;
    size_t len = 0;
    std::array<uint8_t, kMaxPayload> data{};
  };

  enum : uint8_t { kSilence = 0, kConcealed = 1, kAudio = 2 };

  /** The buffered packet with the lowest sequence number; O(1) while the cached answer holds. */
  Slot* oldest();
  void store_seq(size_t index, int64_t seq);
  /** True when a sequence number strictly between `from` and `to` was neither audio nor marked non-audio. */
  bool gap_is_loss(int64_t from, int64_t to) const;
  void drop_slot(Slot& s);
  void anchor(int64_t ts, int64_t seq);
  void fill(size_t want);
  void append(const int16_t* pcm, size_t samples, uint8_t kind);
  void append_silence(size_t samples);
  void append_conceal(size_t samples);
  bool decode_slot(Slot& s);
  void consume(int16_t* out, size_t samples, FrameKind& kind);
  void steer();
  void note_transit(double transit_ms, int64_t arrival_ms);
  double ts_to_ms(int64_t ts) const { return static_cast<double>(ts) * 1000.0 / clock_rate_; }

  JitterConfig cfg_;
  Decoder* decoder_ = nullptr;
  Codec codec_ = Codec::PCMU;
  int pcm_rate_ = 8000;
  int clock_rate_ = 8000;
  int spt_ = 1;  // PCM samples per timestamp unit (2 for G.722)
  int64_t frame_ts_ = 160;

  std::vector<Slot> slots_;
  // Sequence number of each slot (-1: empty), apart from the ~1.5 KB slots: finding the oldest
  // packet reads these few cache lines instead of touching every slot. The index of the oldest
  // is cached (-1: unknown) and only recomputed after the oldest itself leaves.
  std::vector<int64_t> seqs_;
  int oldest_ = -1;
  std::array<int64_t, 256> non_audio_{};  // ring of recent non-audio sequence numbers, -1 when empty
  int64_t max_non_audio_ = -1;
  size_t count_ = 0;
  int64_t max_seq_ = -1;  // highest sequence number inserted since the anchor
  int64_t max_seq_ts_ = 0;  // and its timestamp

  // PCM decoded ahead of the playout point, and what each sample is (audio, concealed, silence).
  std::vector<int16_t> fifo_;
  std::vector<uint8_t> kind_;
  std::vector<int16_t> scratch_;
  size_t fifo_len_ = 0;

  bool playing_ = false;
  int64_t first_arrival_ms_ = 0;
  int64_t play_ts_ = 0;     // timestamp of the next sample handed out
  int64_t decoded_ts_ = 0;  // timestamp just past the FIFO's last sample
  int64_t last_seq_ = -1;   // last packet decoded (FEC and loss detection)
  int64_t last_pull_ms_ = 0;
  bool pulled_ = false;
  size_t concealed_run_ = 0;  // consecutive concealed samples
  int late_run_ = 0;
  int64_t first_late_ms_ = 0;  // arrival of the first packet of the current late run

  // Delay steering.
  double target_ms_ = 40;
  double peak_var_ms_ = 20;
  double min_transit_ms_[2] = {0, 0};  // minimum transit in the current and the previous second
  int64_t min_bucket_start_ms_ = 0;
  bool have_transit_ = false;
  int64_t last_decay_ms_ = 0;
  double window_max_lead_ms_ = 0;
  bool window_has_lead_ = false;
  int window_pulls_ = 0;
  int stretch_pending_ = 0;
  bool drop_pending_ = false;

  JitterStats stats_;
};

}  // namespace parley
