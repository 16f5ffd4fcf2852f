/*
 * chacha20.h: the ChaCha20 block function (RFC 8439) and a fast-key-erasure
 * generator built on it.
 *
 * Pure computation with no kernel dependencies, so the host tests
 * (Tests/RuntimeTests/chacha_test.c) check it against the RFC's vectors.
 * random.c seeds one generator and serves arc4random from it.
 */
#ifndef RIAD_CHACHA20_H
#define RIAD_CHACHA20_H

#include <stddef.h>
#include <stdint.h>

#define RIAD_CHACHA20_KEY_SIZE 32
#define RIAD_CHACHA20_NONCE_SIZE 12
#define RIAD_CHACHA20_BLOCK_SIZE 64

/* One 64-byte keystream block for (key, counter, nonce), RFC 8439 §2.3. */
void riad_chacha20_block(const uint8_t key[RIAD_CHACHA20_KEY_SIZE],
                         uint32_t counter,
                         const uint8_t nonce[RIAD_CHACHA20_NONCE_SIZE],
                         uint8_t out[RIAD_CHACHA20_BLOCK_SIZE]);

/*
 * A fast-key-erasure generator: each fill computes the keystream of the
 * current key (nonce 0, counter from 0), replaces the key with the first 32
 * bytes of that stream and hands out the bytes after them. The key that made
 * an output is gone once the fill returns, so a later compromise of the state
 * cannot reveal earlier outputs.
 */
struct riad_chacha20_rng {
    uint8_t key[RIAD_CHACHA20_KEY_SIZE];
};

void riad_chacha20_rng_init(struct riad_chacha20_rng *rng,
                            const uint8_t seed[RIAD_CHACHA20_KEY_SIZE]);

/*
 * Mix more entropy into the key: key = first 32 bytes of the keystream of
 * (key XOR data-chunk), for each 32-byte chunk of data (the last zero
 * padded).
 */
void riad_chacha20_rng_mix(struct riad_chacha20_rng *rng, const void *data,
                           size_t length);

/* Fill out with length bytes (any length; rekeys at least once). */
void riad_chacha20_rng_fill(struct riad_chacha20_rng *rng, void *out,
                            size_t length);

/* Zero memory in a way the compiler may not optimise away. */
void riad_chacha20_wipe(void *p, size_t length);

#endif /* RIAD_CHACHA20_H */
