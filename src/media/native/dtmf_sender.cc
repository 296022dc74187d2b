#include "dtmf_sender.h"

#include <stdexcept>
#include <string>

namespace parley {

namespace {
// The duration field is 16 bits; a longer key continues in a new segment (RFC 4733 2.5.1.3).
// Segments end on a packet boundary so every update advances by a whole packet interval.
uint64_t segment_limit(int step) { return (0xFFFFu / static_cast<uint64_t>(step)) * static_cast<uint64_t>(step); }
}  // namespace

int dtmf_event_code(char digit) {
  if (digit >= '0' && digit <= '9') return digit - '0';
  switch (digit) {
    case '*':
      return 10;
    case '#':
      return 11;
    case 'A':
    case 'a':
      return 12;
    case 'B':
    case 'b':
      return 13;
    case 'C':
    case 'c':
      return 14;
    case 'D':
    case 'd':
      return 15;
    default:
      return -1;
  }
}

DtmfSender::DtmfSender(int clock_rate, int packet_ms, uint8_t volume)
    : clock_rate_(clock_rate), step_(clock_rate * packet_ms / 1000), volume_(volume & 0x3F) {
  if (clock_rate <= 0 || packet_ms <= 0 || step_ <= 0)
    throw std::invalid_argument("DtmfSender needs a positive clock rate and packet interval");
}

void DtmfSender::start(char digit, int duration_ms) {
  int code = dtmf_event_code(digit);
  if (code < 0) throw std::invalid_argument(std::string("not a DTMF key: ") + digit);
  if (duration_ms <= 0 || duration_ms > 60000) throw std::invalid_argument("DTMF duration must be 1..60000 ms");
  event_ = static_cast<uint8_t>(code);
  total_ = static_cast<uint64_t>(duration_ms) * static_cast<uint64_t>(clock_rate_) / 1000;
  if (total_ == 0) total_ = 1;
  elapsed_ = 0;
  seg_start_ = 0;
  first_ = true;
  remaining_ends_ = 3;
}

bool DtmfSender::next(DtmfPacket& out) {
  if (remaining_ends_ <= 0) return false;
  uint64_t limit = segment_limit(step_);
  bool end = false;
  if (elapsed_ < total_) {
    elapsed_ += static_cast<uint64_t>(step_);
    if (elapsed_ > total_) elapsed_ = total_;
    if (elapsed_ - seg_start_ > limit) {
      // This packet starts a new segment: a new timestamp, the duration restarts.
      seg_start_ += limit;
      first_ = true;
    }
  } else {
    end = true;
    remaining_ends_--;
  }
  uint64_t seg_duration = elapsed_ - seg_start_;
  out.payload[0] = event_;
  out.payload[1] = static_cast<uint8_t>((end ? 0x80 : 0) | volume_);
  out.payload[2] = static_cast<uint8_t>(seg_duration >> 8);
  out.payload[3] = static_cast<uint8_t>(seg_duration);
  out.marker = first_ && seg_start_ == 0;  // the marker flags the event's start only, not a segment's
  out.ts_offset = static_cast<uint32_t>(seg_start_);
  out.end = end;
  first_ = false;
  return true;
}

}  // namespace parley
