#include "g711.h"

#include <array>

namespace parley::g711 {
namespace {

constexpr int kBias = 0x84;
constexpr int kClip = 32635;

constexpr uint8_t encode_ulaw(int pcm) {
  int sign = (pcm >> 8) & 0x80;
  if (sign) pcm = -pcm;
  if (pcm > kClip) pcm = kClip;
  pcm += kBias;
  int exponent = 7;
  for (int mask = 0x4000; (pcm & mask) == 0 && exponent > 0; mask >>= 1) exponent--;
  int mantissa = (pcm >> (exponent + 3)) & 0x0F;
  return static_cast<uint8_t>(~(sign | (exponent << 4) | mantissa));
}

constexpr int16_t decode_ulaw(uint8_t u) {
  int v = ~u & 0xFF;
  int t = ((v & 0x0F) << 3) + kBias;
  t <<= (v & 0x70) >> 4;
  return static_cast<int16_t>((v & 0x80) ? (kBias - t) : (t - kBias));
}

constexpr uint8_t encode_alaw(int pcm) {
  int sign = (pcm >> 8) & 0x80;
  if (sign) pcm = -pcm - 1;  // -32768 stays in range
  if (pcm > 32767) pcm = 32767;
  int exponent = 7;
  for (int mask = 0x4000; (pcm & mask) == 0 && exponent > 0; mask >>= 1) exponent--;
  int mantissa = (exponent == 0 ? (pcm >> 4) : (pcm >> (exponent + 3))) & 0x0F;
  uint8_t a = static_cast<uint8_t>((exponent << 4) | mantissa);
  return static_cast<uint8_t>((sign ? a : (a | 0x80)) ^ 0x55);
}

constexpr int16_t decode_alaw(uint8_t a) {
  a ^= 0x55;
  int t = (a & 0x0F) << 4;
  int seg = (a & 0x70) >> 4;
  if (seg == 0) t += 8;
  else t = (t + 0x108) << (seg - 1);
  return static_cast<int16_t>((a & 0x80) ? t : -t);
}

// Decoding is a 256-entry table; encoding a 16-bit input uses the same table idea
// on the top 14 bits, which is what G.711's quantiser resolves anyway.
struct Tables {
  std::array<int16_t, 256> ulaw_dec{};
  std::array<int16_t, 256> alaw_dec{};
  std::array<uint8_t, 16384> ulaw_enc{};
  std::array<uint8_t, 16384> alaw_enc{};
  Tables() {
    for (int i = 0; i < 256; i++) {
      ulaw_dec[i] = decode_ulaw(static_cast<uint8_t>(i));
      alaw_dec[i] = decode_alaw(static_cast<uint8_t>(i));
    }
    for (int i = 0; i < 16384; i++) {
      int pcm = static_cast<int16_t>(i << 2);
      ulaw_enc[i] = encode_ulaw(pcm);
      alaw_enc[i] = encode_alaw(pcm);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

inline int index_of(int16_t pcm) { return (static_cast<uint16_t>(pcm) >> 2) & 0x3FFF; }

}  // namespace

uint8_t linear_to_ulaw(int16_t pcm) { return tables().ulaw_enc[index_of(pcm)]; }
int16_t ulaw_to_linear(uint8_t u) { return tables().ulaw_dec[u]; }
uint8_t linear_to_alaw(int16_t pcm) { return tables().alaw_enc[index_of(pcm)]; }
int16_t alaw_to_linear(uint8_t a) { return tables().alaw_dec[a]; }

}  // namespace parley::g711
