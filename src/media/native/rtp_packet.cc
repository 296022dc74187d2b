#include "rtp_packet.h"

namespace parley {

namespace {

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t be32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}

// RFC 8285: checks that every element of a one-byte (0xBEDE) or two-byte (0x100x)
// block lies inside it. Other profiles are opaque to us and accepted as they are.
bool valid_rfc8285(uint16_t profile, const uint8_t* p, size_t len) {
  if (profile == 0xBEDE) {
    size_t i = 0;
    while (i < len) {
      uint8_t b = p[i];
      if (b == 0) {  // padding
        i++;
        continue;
      }
      uint8_t id = b >> 4;
      if (id == 15) return true;  // reserved id: stop processing (RFC 8285 4.2)
      size_t n = static_cast<size_t>(b & 0x0F) + 1;
      if (i + 1 + n > len) return false;
      i += 1 + n;
    }
    return true;
  }
  if ((profile & 0xFFF0) == 0x1000) {
    size_t i = 0;
    while (i < len) {
      if (p[i] == 0) {
        i++;
        continue;
      }
      if (i + 2 > len) return false;
      size_t n = p[i + 1];
      if (i + 2 + n > len) return false;
      i += 2 + n;
    }
    return true;
  }
  return true;
}

}  // namespace

bool is_rtcp(const uint8_t* data, size_t len) {
  if (data == nullptr || len < 2 || (data[0] >> 6) != 2) return false;
  return data[1] >= 192 && data[1] <= 223;
}

RtpError parse_rtp(const uint8_t* data, size_t len, RtpView& out) {
  if (data == nullptr || len < 12) return RtpError::TooShort;
  if ((data[0] >> 6) != 2) return RtpError::BadVersion;
  if (is_rtcp(data, len)) return RtpError::Rtcp;
  bool padding = (data[0] & 0x20) != 0;
  bool extension = (data[0] & 0x10) != 0;
  uint8_t cc = data[0] & 0x0F;
  size_t pos = 12;
  if (pos + 4u * cc > len) return RtpError::BadCsrc;
  out.csrc_count = cc;
  out.csrcs = data + pos;
  pos += 4u * cc;
  out.ext_profile = 0;
  out.ext = nullptr;
  out.ext_len = 0;
  if (extension) {
    if (pos + 4 > len) return RtpError::BadExtension;
    uint16_t profile = be16(data + pos);
    size_t words = be16(data + pos + 2);
    pos += 4;
    if (pos + 4 * words > len) return RtpError::BadExtension;
    if (!valid_rfc8285(profile, data + pos, 4 * words)) return RtpError::BadExtension;
    out.ext_profile = profile;
    out.ext = data + pos;
    out.ext_len = 4 * words;
    pos += 4 * words;
  }
  size_t end = len;
  out.padding = 0;
  if (padding) {
    size_t pad = data[len - 1];
    // The count includes itself, so 0 is invalid; padding may not eat into the header.
    if (pad == 0 || pad > len - pos) return RtpError::BadPadding;
    end -= pad;
    out.padding = pad;
  }
  out.marker = (data[1] & 0x80) != 0;
  out.pt = data[1] & 0x7F;
  out.seq = be16(data + 2);
  out.ts = be32(data + 4);
  out.ssrc = be32(data + 8);
  out.payload = data + pos;
  out.payload_len = end - pos;
  return RtpError::None;
}

size_t write_rtp_header(uint8_t* out, size_t cap, uint8_t pt, bool marker, uint16_t seq, uint32_t ts, uint32_t ssrc) {
  if (out == nullptr || cap < 12) return 0;
  out[0] = 0x80;
  out[1] = static_cast<uint8_t>((marker ? 0x80 : 0) | (pt & 0x7F));
  out[2] = static_cast<uint8_t>(seq >> 8);
  out[3] = static_cast<uint8_t>(seq);
  for (int i = 0; i < 4; i++) {
    out[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
    out[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  }
  return 12;
}

const char* rtp_error_name(RtpError error) {
  switch (error) {
    case RtpError::None:
      return "none";
    case RtpError::TooShort:
      return "too-short";
    case RtpError::BadVersion:
      return "bad-version";
    case RtpError::BadPadding:
      return "bad-padding";
    case RtpError::BadCsrc:
      return "bad-csrc";
    case RtpError::BadExtension:
      return "bad-extension";
    case RtpError::Rtcp:
      return "rtcp";
  }
  return "unknown";
}

bool find_rtp_extension(const RtpView& view, uint8_t id, const uint8_t*& data, size_t& len) {
  if (view.ext == nullptr) return false;
  const uint8_t* p = view.ext;
  size_t n = view.ext_len;
  size_t i = 0;
  if (view.ext_profile == 0xBEDE) {
    while (i < n) {
      uint8_t b = p[i];
      if (b == 0) {
        i++;
        continue;
      }
      uint8_t eid = b >> 4;
      if (eid == 15) return false;
      size_t l = static_cast<size_t>(b & 0x0F) + 1;
      if (i + 1 + l > n) return false;
      if (eid == id) {
        data = p + i + 1;
        len = l;
        return true;
      }
      i += 1 + l;
    }
    return false;
  }
  if ((view.ext_profile & 0xFFF0) == 0x1000) {
    while (i < n) {
      if (p[i] == 0) {
        i++;
        continue;
      }
      if (i + 2 > n) return false;
      size_t l = p[i + 1];
      if (i + 2 + l > n) return false;
      if (p[i] == id) {
        data = p + i + 2;
        len = l;
        return true;
      }
      i += 2 + l;
    }
  }
  return false;
}

}  // namespace parley
