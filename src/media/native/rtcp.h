// RTCP (RFC 3550 section 6): parsing compound packets (SR, RR, SDES, BYE; APP and
// unknown types skipped) with bounds checks on every field, building SR/RR with
// report blocks plus SDES CNAME as a compound packet, and RTT from LSR/DLSR.
// Works on the RTP port with rtcp-mux (RFC 5761) or on its own port.
#pragma once
#include <cstddef>
#include <cstdint>

namespace parley {

/** One reception report block (RFC 3550 6.4.1). */
struct RtcpReportBlock {
  uint32_t ssrc = 0;             // source this block is about
  uint8_t fraction_lost = 0;     // since the previous report, 8-bit fixed point
  int32_t cumulative_lost = 0;   // 24-bit signed on the wire
  uint32_t ext_highest_seq = 0;  // cycles << 16 | highest sequence number
  uint32_t jitter = 0;           // interarrival jitter in RTP timestamp units
  uint32_t lsr = 0;              // middle 32 bits of the last SR's NTP timestamp, 0 if none
  uint32_t dlsr = 0;             // delay since that SR, in 1/65536 s
};

struct RtcpSenderInfo {
  uint64_t ntp = 0;  // 32.32 fixed point seconds since 1900
  uint32_t rtp_ts = 0;
  uint32_t packets = 0;
  uint32_t octets = 0;
};

constexpr size_t kRtcpMaxBlocks = 31;  // the 5-bit report count
constexpr size_t kRtcpMaxByes = 31;
constexpr size_t kRtcpMaxCname = 255;

/** Everything of interest in one compound packet; fixed size so parsing never allocates. */
struct RtcpCompound {
  size_t packets = 0;  // RTCP packets in the compound
  size_t skipped = 0;  // APP and unknown packet types, and SDES items other than CNAME
  bool has_sr = false;
  uint32_t sr_ssrc = 0;
  RtcpSenderInfo sr;
  bool has_rr = false;
  uint32_t rr_ssrc = 0;
  /** Report blocks of the SR and RR packets, in order. */
  RtcpReportBlock blocks[kRtcpMaxBlocks];
  size_t block_count = 0;
  bool has_cname = false;
  uint32_t cname_ssrc = 0;
  char cname[kRtcpMaxCname + 1] = {};
  size_t cname_len = 0;
  uint32_t bye_ssrcs[kRtcpMaxByes] = {};
  size_t bye_count = 0;
};

enum class RtcpError { None, TooShort, BadVersion, BadLength, BadPadding, BadCount, BadSdes };

/** Parses a compound RTCP packet. Packets before a malformed one stay filled in `out`. */
RtcpError parse_rtcp(const uint8_t* data, size_t len, RtcpCompound& out);
const char* rtcp_error_name(RtcpError error);

/** SR with up to 31 report blocks; returns bytes written, 0 when `cap` is too small or n > 31. */
size_t build_sr(uint8_t* out, size_t cap, uint32_t ssrc, const RtcpSenderInfo& info, const RtcpReportBlock* blocks,
                size_t n);
size_t build_rr(uint8_t* out, size_t cap, uint32_t ssrc, const RtcpReportBlock* blocks, size_t n);
/** SDES with one chunk holding the CNAME item (at most 255 bytes). */
size_t build_sdes_cname(uint8_t* out, size_t cap, uint32_t ssrc, const char* cname, size_t cname_len);
size_t build_bye(uint8_t* out, size_t cap, uint32_t ssrc);

/**
 * The compound packet a session sends each report interval (RFC 3550 6.1): SR when
 * `sender` is given (we sent RTP since the last report), else RR; then SDES CNAME.
 */
size_t build_report(uint8_t* out, size_t cap, uint32_t ssrc, const RtcpSenderInfo* sender, const RtcpReportBlock* blocks,
                    size_t n, const char* cname, size_t cname_len);

/** NTP 32.32 timestamp of a Unix time in milliseconds. */
uint64_t ntp_from_unix_ms(int64_t unix_ms);
/** The middle 32 bits of an NTP timestamp: the LSR field and the unit of RTT arithmetic (1/65536 s). */
inline uint32_t ntp_middle32(uint64_t ntp) { return static_cast<uint32_t>(ntp >> 16); }
/**
 * Round-trip time (RFC 3550 6.4.1) from a report block received at `arrival_middle32`
 * (ntp_middle32 of the arrival time): A − LSR − DLSR, in ms. −1 when the block has no LSR.
 */
double rtt_ms(uint32_t lsr, uint32_t dlsr, uint32_t arrival_middle32);

}  // namespace parley
