// RFC 4733 telephone-event sender: for one key of a given duration, the packets the
// engine sends, one per packet interval: the first with the marker bit, then updates
// with a growing duration and the same timestamp, then the end packet three times.
// Keys longer than the 16-bit duration field are split into segments (RFC 4733 2.5.1.3),
// each with its own timestamp offset.
#pragma once
#include <cstddef>
#include <cstdint>

namespace parley {

struct DtmfPacket {
  uint8_t payload[4];
  bool marker;
  /** Added to the RTP timestamp at which the key started: the segment's start. */
  uint32_t ts_offset;
  bool end;
};

class DtmfSender {
 public:
  /** `clock_rate`: the telephone-event clock (8000 usually); `packet_ms`: interval between packets. */
  explicit DtmfSender(int clock_rate = 8000, int packet_ms = 20, uint8_t volume = 10);
  /** Starts a key (`0`–`9`, `*`, `#`, `A`–`D`); throws std::invalid_argument for others or duration ≤ 0. */
  void start(char digit, int duration_ms);
  bool active() const { return remaining_ends_ > 0; }
  /** The next packet, once per packet interval; false when the key is done. */
  bool next(DtmfPacket& out);
  /** Timestamp units between packets. */
  int packet_interval_units() const { return step_; }

 private:
  int clock_rate_;
  int step_;  // timestamp units per packet
  uint8_t volume_;
  uint8_t event_ = 0;
  uint64_t total_ = 0;      // duration of the key in timestamp units
  uint64_t elapsed_ = 0;    // duration reported so far
  uint64_t seg_start_ = 0;  // offset of the current segment
  bool first_ = false;
  int remaining_ends_ = 0;
};

/** The RFC 4733 event code of a key, or -1. */
int dtmf_event_code(char digit);

}  // namespace parley
