// RTP fixed header parsing and writing (RFC 3550 section 5.1), header extensions
// (RFC 3550 5.3.1, RFC 8285 one- and two-byte forms) and rtcp-mux demultiplexing
// (RFC 5761 section 4). Every read is bounds-checked: the input is untrusted.
#pragma once
#include <cstddef>
#include <cstdint>

namespace parley {

struct RtpView {
  uint8_t pt;
  bool marker;
  uint16_t seq;
  uint32_t ts;
  uint32_t ssrc;
  const uint8_t* payload;
  size_t payload_len;
  // Beyond the fields the engine needs on every packet: where the optional parts are.
  uint8_t csrc_count;
  const uint8_t* csrcs;  // csrc_count big-endian 32-bit words
  uint16_t ext_profile;  // 0 when the X bit is clear
  const uint8_t* ext;    // extension body (after the 4-byte extension header)
  size_t ext_len;        // bytes
  size_t padding;        // padding bytes removed from the end (including the count byte)
};

enum class RtpError { None, TooShort, BadVersion, BadPadding, BadCsrc, BadExtension, Rtcp };

/** Parses one RTP packet; `out` is only meaningful when None is returned. Never reads out of bounds. */
RtpError parse_rtp(const uint8_t* data, size_t len, RtpView& out);

/** RFC 5761 section 4: a version-2 packet whose second byte is 192–223 (RTCP packet types) is RTCP. */
bool is_rtcp(const uint8_t* data, size_t len);

/** Writes a 12-byte header (no CSRC, no extension); returns 12, or 0 when `cap` is too small. */
size_t write_rtp_header(uint8_t* out, size_t cap, uint8_t pt, bool marker, uint16_t seq, uint32_t ts, uint32_t ssrc);

const char* rtp_error_name(RtpError error);

/**
 * Finds element `id` in an RFC 8285 extension block (profile 0xBEDE one-byte or 0x100x
 * two-byte form). Returns false when absent or the view has no such extension.
 */
bool find_rtp_extension(const RtpView& view, uint8_t id, const uint8_t*& data, size_t& len);

}  // namespace parley
