/*
 * core/rng.h - reproducible pseudo-random numbers: splitmix64 to derive
 * seeds, xoshiro256** for streams (Blackman & Vigna). Header-only.
 *
 * Inputs are drawn from a stream seeded by (run seed, position, head), not
 * by token index, so a single worst case replays with `--positions M`:
 * the same position and head see the same values in any batch.
 */
#ifndef ROPECHECK_CORE_RNG_H
#define ROPECHECK_CORE_RNG_H

#include <stdint.h>

typedef struct rc_rng {
    uint64_t s[4];
} rc_rng;

static inline uint64_t rc_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Seed from any number of 64-bit words (mixed through splitmix64). */
static inline void rc_rng_seed3(rc_rng *r, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t st = a;
    st = rc_splitmix64(&st) ^ b;
    st = rc_splitmix64(&st) ^ c;
    for (int i = 0; i < 4; i++)
        r->s[i] = rc_splitmix64(&st);
}

static inline uint64_t rc_rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rc_rng_next(rc_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rc_rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rc_rotl64(s[3], 45);
    return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double rc_rng_uniform(rc_rng *r)
{
    return (double)(rc_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n) for n >= 1 (Lemire's nearly divisionless
 * method would be faster; rejection keeps it obviously unbiased). */
static inline uint64_t rc_rng_below(rc_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = rc_rng_next(r);
    while (x >= limit);
    return x % n;
}

#endif /* ROPECHECK_CORE_RNG_H */
