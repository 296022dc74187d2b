#include "rtcp.h"

#include <cstring>

namespace parley {

namespace {

constexpr uint8_t kSr = 200, kRr = 201, kSdes = 202, kBye = 203;

uint32_t be32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}
void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
void put_header(uint8_t* p, uint8_t count, uint8_t type, size_t bytes) {
  p[0] = static_cast<uint8_t>(0x80 | (count & 0x1F));
  p[1] = type;
  size_t words = bytes / 4 - 1;
  p[2] = static_cast<uint8_t>(words >> 8);
  p[3] = static_cast<uint8_t>(words);
}

void read_block(const uint8_t* p, RtcpReportBlock& b) {
  b.ssrc = be32(p);
  b.fraction_lost = p[4];
  // 24-bit two's complement.
  uint32_t raw = (static_cast<uint32_t>(p[5]) << 16) | (static_cast<uint32_t>(p[6]) << 8) | p[7];
  b.cumulative_lost = (raw & 0x800000) ? static_cast<int32_t>(raw | 0xFF000000u) : static_cast<int32_t>(raw);
  b.ext_highest_seq = be32(p + 8);
  b.jitter = be32(p + 12);
  b.lsr = be32(p + 16);
  b.dlsr = be32(p + 20);
}

void write_block(uint8_t* p, const RtcpReportBlock& b) {
  put32(p, b.ssrc);
  int32_t lost = b.cumulative_lost;
  if (lost > 0x7FFFFF) lost = 0x7FFFFF;
  if (lost < -0x800000) lost = -0x800000;
  uint32_t raw = static_cast<uint32_t>(lost) & 0xFFFFFF;
  p[4] = b.fraction_lost;
  p[5] = static_cast<uint8_t>(raw >> 16);
  p[6] = static_cast<uint8_t>(raw >> 8);
  p[7] = static_cast<uint8_t>(raw);
  put32(p + 8, b.ext_highest_seq);
  put32(p + 12, b.jitter);
  put32(p + 16, b.lsr);
  put32(p + 20, b.dlsr);
}

void read_blocks(const uint8_t* p, size_t count, RtcpCompound& out) {
  for (size_t i = 0; i < count && out.block_count < kRtcpMaxBlocks; i++) read_block(p + 24 * i, out.blocks[out.block_count++]);
}

// SDES chunks: SSRC, then items (type, length, text) up to a null item, padded to 32 bits.
RtcpError parse_sdes(const uint8_t* p, size_t len, size_t chunks, RtcpCompound& out) {
  size_t pos = 0;
  for (size_t c = 0; c < chunks; c++) {
    if (pos + 4 > len) return RtcpError::BadSdes;
    uint32_t ssrc = be32(p + pos);
    pos += 4;
    for (;;) {
      if (pos >= len) return RtcpError::BadSdes;
      uint8_t type = p[pos];
      if (type == 0) {
        pos = (pos + 4) & ~static_cast<size_t>(3);  // the null item, then padding to the next word
        break;
      }
      if (pos + 2 > len) return RtcpError::BadSdes;
      size_t n = p[pos + 1];
      if (pos + 2 + n > len) return RtcpError::BadSdes;
      if (type == 1 && !out.has_cname) {
        out.has_cname = true;
        out.cname_ssrc = ssrc;
        std::memcpy(out.cname, p + pos + 2, n);
        out.cname[n] = 0;
        out.cname_len = n;
      } else {
        out.skipped++;
      }
      pos += 2 + n;
    }
  }
  return RtcpError::None;
}

}  // namespace

RtcpError parse_rtcp(const uint8_t* data, size_t len, RtcpCompound& out) {
  out = RtcpCompound{};
  if (data == nullptr || len < 4) return RtcpError::TooShort;
  size_t pos = 0;
  while (pos < len) {
    if (len - pos < 4) return RtcpError::TooShort;
    const uint8_t* p = data + pos;
    if ((p[0] >> 6) != 2) return RtcpError::BadVersion;
    size_t bytes = (static_cast<size_t>((p[2] << 8) | p[3]) + 1) * 4;
    if (bytes > len - pos) return RtcpError::BadLength;
    size_t body = bytes;
    if (p[0] & 0x20) {
      // Padding is only allowed on the last packet of a compound (RFC 3550 6.4.1).
      size_t pad = p[bytes - 1];
      if (pos + bytes != len || pad == 0 || pad > bytes - 4) return RtcpError::BadPadding;
      body -= pad;
    }
    size_t count = p[0] & 0x1F;
    uint8_t type = p[1];
    switch (type) {
      case kSr: {
        if (body < 28 + 24 * count) return RtcpError::BadCount;
        out.has_sr = true;
        out.sr_ssrc = be32(p + 4);
        out.sr.ntp = (static_cast<uint64_t>(be32(p + 8)) << 32) | be32(p + 12);
        out.sr.rtp_ts = be32(p + 16);
        out.sr.packets = be32(p + 20);
        out.sr.octets = be32(p + 24);
        read_blocks(p + 28, count, out);
        break;
      }
      case kRr: {
        if (body < 8 + 24 * count) return RtcpError::BadCount;
        out.has_rr = true;
        out.rr_ssrc = be32(p + 4);
        read_blocks(p + 8, count, out);
        break;
      }
      case kSdes: {
        RtcpError e = parse_sdes(p + 4, body - 4, count, out);
        if (e != RtcpError::None) return e;
        break;
      }
      case kBye: {
        if (body < 4 + 4 * count) return RtcpError::BadCount;
        for (size_t i = 0; i < count && out.bye_count < kRtcpMaxByes; i++) out.bye_ssrcs[out.bye_count++] = be32(p + 4 + 4 * i);
        break;
      }
      default:
        out.skipped++;  // APP (204), feedback (205/206), XR (207): not ours to act on here
        break;
    }
    out.packets++;
    pos += bytes;
  }
  return RtcpError::None;
}

const char* rtcp_error_name(RtcpError error) {
  switch (error) {
    case RtcpError::None:
      return "none";
    case RtcpError::TooShort:
      return "too-short";
    case RtcpError::BadVersion:
      return "bad-version";
    case RtcpError::BadLength:
      return "bad-length";
    case RtcpError::BadPadding:
      return "bad-padding";
    case RtcpError::BadCount:
      return "bad-count";
    case RtcpError::BadSdes:
      return "bad-sdes";
  }
  return "unknown";
}

size_t build_sr(uint8_t* out, size_t cap, uint32_t ssrc, const RtcpSenderInfo& info, const RtcpReportBlock* blocks,
                size_t n) {
  size_t bytes = 28 + 24 * n;
  if (out == nullptr || n > kRtcpMaxBlocks || cap < bytes) return 0;
  put_header(out, static_cast<uint8_t>(n), kSr, bytes);
  put32(out + 4, ssrc);
  put32(out + 8, static_cast<uint32_t>(info.ntp >> 32));
  put32(out + 12, static_cast<uint32_t>(info.ntp));
  put32(out + 16, info.rtp_ts);
  put32(out + 20, info.packets);
  put32(out + 24, info.octets);
  for (size_t i = 0; i < n; i++) write_block(out + 28 + 24 * i, blocks[i]);
  return bytes;
}

size_t build_rr(uint8_t* out, size_t cap, uint32_t ssrc, const RtcpReportBlock* blocks, size_t n) {
  size_t bytes = 8 + 24 * n;
  if (out == nullptr || n > kRtcpMaxBlocks || cap < bytes) return 0;
  put_header(out, static_cast<uint8_t>(n), kRr, bytes);
  put32(out + 4, ssrc);
  for (size_t i = 0; i < n; i++) write_block(out + 8 + 24 * i, blocks[i]);
  return bytes;
}

size_t build_sdes_cname(uint8_t* out, size_t cap, uint32_t ssrc, const char* cname, size_t cname_len) {
  if (out == nullptr || cname_len > kRtcpMaxCname) return 0;
  // Header, SSRC, CNAME item, at least one null byte, padded to a word.
  size_t bytes = (4 + 4 + 2 + cname_len + 1 + 3) & ~static_cast<size_t>(3);
  if (cap < bytes) return 0;
  std::memset(out, 0, bytes);
  put_header(out, 1, kSdes, bytes);
  put32(out + 4, ssrc);
  out[8] = 1;
  out[9] = static_cast<uint8_t>(cname_len);
  if (cname_len > 0) std::memcpy(out + 10, cname, cname_len);
  return bytes;
}

size_t build_bye(uint8_t* out, size_t cap, uint32_t ssrc) {
  if (out == nullptr || cap < 8) return 0;
  put_header(out, 1, kBye, 8);
  put32(out + 4, ssrc);
  return 8;
}

size_t build_report(uint8_t* out, size_t cap, uint32_t ssrc, const RtcpSenderInfo* sender, const RtcpReportBlock* blocks,
                    size_t n, const char* cname, size_t cname_len) {
  size_t first = sender ? build_sr(out, cap, ssrc, *sender, blocks, n) : build_rr(out, cap, ssrc, blocks, n);
  if (first == 0) return 0;
  size_t sdes = build_sdes_cname(out + first, cap - first, ssrc, cname, cname_len);
  if (sdes == 0) return 0;
  return first + sdes;
}

uint64_t ntp_from_unix_ms(int64_t unix_ms) {
  constexpr uint64_t kUnixToNtp = 2208988800ULL;  // seconds from 1900 to 1970
  uint64_t secs = static_cast<uint64_t>(unix_ms / 1000) + kUnixToNtp;
  uint64_t frac = (static_cast<uint64_t>(unix_ms % 1000) << 32) / 1000;
  return (secs << 32) | frac;
}

double rtt_ms(uint32_t lsr, uint32_t dlsr, uint32_t arrival_middle32) {
  if (lsr == 0) return -1;
  // Modular arithmetic: the middle 32 bits wrap every 18 hours.
  auto rtt = static_cast<int32_t>(arrival_middle32 - lsr - dlsr);
  if (rtt < 0) return 0;  // clocks or a bogus DLSR; never report a negative RTT
  return rtt * 1000.0 / 65536.0;
}

}  // namespace parley
