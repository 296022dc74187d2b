#include "dtmf.h"

namespace parley {

char dtmf_digit(uint8_t event) {
  static const char kDigits[] = "0123456789*#ABCD";
  return event < 16 ? kDigits[event] : 0;
}

std::vector<DtmfEvent> DtmfReceiver::feed(uint32_t timestamp, const uint8_t* payload, size_t len) {
  std::vector<DtmfEvent> out;
  if (len < 4) return out;  // malformed: too short to hold an event
  char digit = dtmf_digit(payload[0]);
  if (digit == 0) return out;  // events beyond the keypad (flash, tones) are not keys
  bool end = (payload[1] & 0x80) != 0;
  uint32_t duration = (static_cast<uint32_t>(payload[2]) << 8) | payload[3];

  // Serial-number comparison (RFC 1982): a timestamp behind the newest event's is a
  // late or reordered packet of a key already handled.
  if (newest_ && static_cast<int32_t>(timestamp - *newest_) < 0) return out;
  if (current_ && current_->timestamp != timestamp) {
    // A new event began; the previous one lost all its end packets.
    if (!current_->reported) out.push_back({current_->digit, current_->duration});
    current_.reset();
  }
  newest_ = timestamp;
  if (!current_) current_ = Current{timestamp, digit, duration, false};
  if (duration > current_->duration) current_->duration = duration;
  if (end && !current_->reported) {
    out.push_back({current_->digit, current_->duration});
    current_->reported = true;
  }
  return out;
}

}  // namespace parley
