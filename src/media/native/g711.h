// G.711 µ-law and A-law (ITU-T G.711). Written here rather than taken from a
// library: it is a few lines of table-driven code on the per-packet hot path, and
// no maintained library offers it without a whole telephony stack.
#pragma once
#include <cstddef>
#include <cstdint>

namespace parley::g711 {

uint8_t linear_to_ulaw(int16_t pcm);
int16_t ulaw_to_linear(uint8_t u);
uint8_t linear_to_alaw(int16_t pcm);
int16_t alaw_to_linear(uint8_t a);

}  // namespace parley::g711
