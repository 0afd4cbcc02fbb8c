/*
 * tests/ports/half.c - float to f16/bf16 as the frameworks convert
 * (transcribed from the FP16 library and c10::BFloat16).
 */
#include <string.h>

#include "tests/ports/ports.h"

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t rc_port_f32_to_f16(float f)
{
    const float scale_to_inf = 0x1.0p+112f;
    const float scale_to_zero = 0x1.0p-110f;
    float base = ((f < 0 ? -f : f) * scale_to_inf) * scale_to_zero;
    const uint32_t w = bits_of(f);
    const uint32_t shl1_w = w + w;
    const uint32_t sign = w & 0x80000000u;
    uint32_t bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u)
        bias = 0x71000000u;
    base = from_bits((bias >> 1) + 0x07800000u) + base;
    const uint32_t b = bits_of(base);
    const uint32_t exp_bits = (b >> 13) & 0x00007C00u;
    const uint32_t mantissa_bits = b & 0x00000FFFu;
    const uint32_t nonsign = exp_bits + mantissa_bits;
    return (uint16_t)((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

uint16_t rc_port_f32_to_bf16(float f)
{
    const uint32_t u = bits_of(f);
    if (f != f)
        return 0x7FC0;
    const uint32_t rounding_bias = ((u >> 16) & 1u) + 0x7FFFu;
    return (uint16_t)((u + rounding_bias) >> 16);
}
