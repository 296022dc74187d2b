// RFC 4733 telephone-event receiver: reports each key once, with its duration,
// however many times its end packet is repeated (senders send it three times) and
// even when every end packet is lost (the key is then reported when the next one starts).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace parley {

struct DtmfEvent {
  char digit;
  /** In RTP timestamp units (the telephone-event clock rate, usually 8000). */
  uint32_t duration;
};

class DtmfReceiver {
 public:
  /** One telephone-event payload with its packet's RTP timestamp; returns the keys it completes. */
  std::vector<DtmfEvent> feed(uint32_t timestamp, const uint8_t* payload, size_t len);

 private:
  struct Current {
    uint32_t timestamp;
    char digit;
    uint32_t duration;
    bool reported;
  };
  std::optional<Current> current_;
  /** Timestamp of the newest event seen; packets of older events are late repeats. */
  std::optional<uint32_t> newest_;
};

/** `0`–`9`, `*`, `#`, `A`–`D` for events 0–15; 0 for anything else. */
char dtmf_digit(uint8_t event);

}  // namespace parley
