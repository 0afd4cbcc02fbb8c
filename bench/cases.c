/*
 * bench/cases.c - the model shapes (published configurations) and modes.
 */
#include "bench/cases.h"

static const rcb_shape shapes[] = {
    /* Grouped-query attention: 32 query heads share 8 key/value heads. */
    {"llama3-8b", "Llama-3-8B", 32, 8, 128, 128, 500000.0, RC_LAYOUT_HALF},
    {"qwen2-7b", "Qwen2-7B", 28, 4, 128, 128, 1000000.0, RC_LAYOUT_HALF},
    /* GPT-J rotates the first 64 of 256 channels, pairs interleaved. */
    {"gptj-6b", "GPT-J-6B", 16, 16, 256, 64, 10000.0, RC_LAYOUT_INTERLEAVED},
    /* GPT-NeoX-20B: rotary_pct 0.25 of 96 channels. */
    {"neox-20b", "GPT-NeoX-20B", 64, 64, 96, 24, 10000.0, RC_LAYOUT_HALF},
    /* Phi-2: partial_rotary_factor 0.4 of 80 channels. */
    {"phi-2", "Phi-2", 32, 32, 80, 32, 10000.0, RC_LAYOUT_HALF},
};

static const rcb_mode modes[] = {
    {"decode-b1", 1, 1, 0},
    {"decode-b64", 64, 1, 0},
    {"prefill-512", 512, 0, 0},
    {"prefill-4096", 4096, 0, 0},
    {"prefill-32768", 32768, 0, 1},
};

size_t rcb_shape_count(void)
{
    return sizeof shapes / sizeof shapes[0];
}

const rcb_shape *rcb_shape_get(size_t i)
{
    return i < rcb_shape_count() ? &shapes[i] : NULL;
}

size_t rcb_mode_count(void)
{
    return sizeof modes / sizeof modes[0];
}

const rcb_mode *rcb_mode_get(size_t i)
{
    return i < rcb_mode_count() ? &modes[i] : NULL;
}

int64_t rcb_position(const rcb_mode *mode, int64_t t)
{
    /* Sequence t of a decode batch has 37*t fewer tokens than the longest:
     * different positions, so per-position tables cannot be shared. */
    return mode->decode ? RCB_DECODE_POSITION - 37 * t : t;
}
