/*
 * chacha20.c: ChaCha20 (RFC 8439 §2.1-2.3) and the fast-key-erasure
 * generator declared in chacha20.h. Written from the RFC's description.
 *
 * No kernel dependencies: compiled into kernels and into the host test.
 */
#include "chacha20.h"

/* Keystream produced per key before the generator rekeys: far below the
 * 2^32 blocks a 32-bit counter allows. */
#define RNG_CHUNK ((size_t)1 << 20)

static inline uint32_t rotl32(uint32_t v, int n)
{
    return (v << n) | (v >> (32 - n));
}

static inline uint32_t load32_le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline void store32_le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* RFC 8439 §2.1: the quarter round on four words of the state. */
#define QUARTER_ROUND(x, a, b, c, d)                                       \
    do {                                                                   \
        x[a] += x[b];                                                      \
        x[d] = rotl32(x[d] ^ x[a], 16);                                    \
        x[c] += x[d];                                                      \
        x[b] = rotl32(x[b] ^ x[c], 12);                                    \
        x[a] += x[b];                                                      \
        x[d] = rotl32(x[d] ^ x[a], 8);                                     \
        x[c] += x[d];                                                      \
        x[b] = rotl32(x[b] ^ x[c], 7);                                     \
    } while (0)

void riad_chacha20_wipe(void *p, size_t length)
{
    volatile uint8_t *bytes = p;
    for (size_t i = 0; i < length; i++)
        bytes[i] = 0;
}

void riad_chacha20_block(const uint8_t key[RIAD_CHACHA20_KEY_SIZE],
                         uint32_t counter,
                         const uint8_t nonce[RIAD_CHACHA20_NONCE_SIZE],
                         uint8_t out[RIAD_CHACHA20_BLOCK_SIZE])
{
    /* §2.3: constants "expand 32-byte k", key, counter, nonce. */
    uint32_t state[16];
    state[0] = 0x61707865;
    state[1] = 0x3320646e;
    state[2] = 0x79622d32;
    state[3] = 0x6b206574;
    for (int i = 0; i < 8; i++)
        state[4 + i] = load32_le(key + 4 * i);
    state[12] = counter;
    for (int i = 0; i < 3; i++)
        state[13 + i] = load32_le(nonce + 4 * i);

    uint32_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = state[i];
    /* 20 rounds: 10 times a column round then a diagonal round. */
    for (int i = 0; i < 10; i++) {
        QUARTER_ROUND(x, 0, 4, 8, 12);
        QUARTER_ROUND(x, 1, 5, 9, 13);
        QUARTER_ROUND(x, 2, 6, 10, 14);
        QUARTER_ROUND(x, 3, 7, 11, 15);
        QUARTER_ROUND(x, 0, 5, 10, 15);
        QUARTER_ROUND(x, 1, 6, 11, 12);
        QUARTER_ROUND(x, 2, 7, 8, 13);
        QUARTER_ROUND(x, 3, 4, 9, 14);
    }
    for (int i = 0; i < 16; i++)
        store32_le(out + 4 * i, x[i] + state[i]);

    /* Both arrays hold the key or key-equivalent material. */
    riad_chacha20_wipe(state, sizeof state);
    riad_chacha20_wipe(x, sizeof x);
}

static const uint8_t zero_nonce[RIAD_CHACHA20_NONCE_SIZE];

void riad_chacha20_rng_init(struct riad_chacha20_rng *rng,
                            const uint8_t seed[RIAD_CHACHA20_KEY_SIZE])
{
    for (int i = 0; i < RIAD_CHACHA20_KEY_SIZE; i++)
        rng->key[i] = seed[i];
}

void riad_chacha20_rng_mix(struct riad_chacha20_rng *rng, const void *data,
                           size_t length)
{
    const uint8_t *bytes = data;
    uint8_t block[RIAD_CHACHA20_BLOCK_SIZE];
    while (length > 0) {
        size_t n = length < RIAD_CHACHA20_KEY_SIZE ? length
                                                    : RIAD_CHACHA20_KEY_SIZE;
        for (size_t i = 0; i < n; i++)
            rng->key[i] ^= bytes[i];
        riad_chacha20_block(rng->key, 0, zero_nonce, block);
        for (int i = 0; i < RIAD_CHACHA20_KEY_SIZE; i++)
            rng->key[i] = block[i];
        bytes += n;
        length -= n;
    }
    riad_chacha20_wipe(block, sizeof block);
}

/* One rekey: at most RNG_CHUNK bytes. */
static void fill_chunk(struct riad_chacha20_rng *rng, uint8_t *out,
                       size_t length)
{
    uint8_t block[RIAD_CHACHA20_BLOCK_SIZE];
    uint8_t next_key[RIAD_CHACHA20_KEY_SIZE];

    /* Block 0: the first half is the next key, the second half output. */
    riad_chacha20_block(rng->key, 0, zero_nonce, block);
    for (int i = 0; i < RIAD_CHACHA20_KEY_SIZE; i++)
        next_key[i] = block[i];
    size_t n = length < RIAD_CHACHA20_BLOCK_SIZE - RIAD_CHACHA20_KEY_SIZE
                   ? length
                   : RIAD_CHACHA20_BLOCK_SIZE - RIAD_CHACHA20_KEY_SIZE;
    for (size_t i = 0; i < n; i++)
        out[i] = block[RIAD_CHACHA20_KEY_SIZE + i];
    out += n;
    length -= n;

    uint32_t counter = 1;
    while (length >= RIAD_CHACHA20_BLOCK_SIZE) {
        riad_chacha20_block(rng->key, counter++, zero_nonce, out);
        out += RIAD_CHACHA20_BLOCK_SIZE;
        length -= RIAD_CHACHA20_BLOCK_SIZE;
    }
    if (length > 0) {
        riad_chacha20_block(rng->key, counter, zero_nonce, block);
        for (size_t i = 0; i < length; i++)
            out[i] = block[i];
    }

    for (int i = 0; i < RIAD_CHACHA20_KEY_SIZE; i++)
        rng->key[i] = next_key[i];
    riad_chacha20_wipe(next_key, sizeof next_key);
    riad_chacha20_wipe(block, sizeof block);
}

void riad_chacha20_rng_fill(struct riad_chacha20_rng *rng, void *out,
                            size_t length)
{
    uint8_t *bytes = out;
    do {
        size_t n = length < RNG_CHUNK ? length : RNG_CHUNK;
        fill_chunk(rng, bytes, n);
        bytes += n;
        length -= n;
    } while (length > 0);
}
