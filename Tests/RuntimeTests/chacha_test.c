/*
 * chacha_test.c: host test of the kernel's ChaCha20 and its fast-key-erasure
 * generator (Sources/CPlatformHvt/runtime/chacha20.c).
 *
 * Build and run (as the XCTest does):
 *   clang -O1 -g -fsanitize=address,undefined \
 *     -I Sources/CPlatformHvt/runtime -I Sources/RiadABI/include \
 *     -I Sources/CPlatformHvt/include \
 *     Tests/RuntimeTests/chacha_test.c Sources/CPlatformHvt/runtime/chacha20.c \
 *     -o /tmp/chacha_test && /tmp/chacha_test
 * Prints SUCCESS and exits 0, or prints a FAIL line and exits 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chacha20.h"

#define FAIL(...)                                                          \
    do {                                                                   \
        printf("FAIL: chacha_test.c:%d: ", __LINE__);                      \
        printf(__VA_ARGS__);                                               \
        printf("\n");                                                      \
        exit(1);                                                           \
    } while (0)

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond))                                                       \
            FAIL(__VA_ARGS__);                                             \
    } while (0)

static void hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
    CHECK(strlen(hex) == 2 * n, "bad test vector length");
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        CHECK(sscanf(hex + 2 * i, "%2x", &v) == 1, "bad hex");
        out[i] = (uint8_t)v;
    }
}

static void check_block(const char *name, const uint8_t key[32],
                        uint32_t counter, const uint8_t nonce[12],
                        const char *expected_hex)
{
    uint8_t expected[64], out[64];
    hex_to_bytes(expected_hex, expected, 64);
    riad_chacha20_block(key, counter, nonce, out);
    if (memcmp(out, expected, 64) != 0) {
        printf("FAIL: chacha_test.c: %s: block differs\n  got      ", name);
        for (int i = 0; i < 64; i++)
            printf("%02x", out[i]);
        printf("\n  expected %s\n", expected_hex);
        exit(1);
    }
}

/* RFC 8439 test vectors for the block function. */
static void test_rfc8439_vectors(void)
{
    uint8_t key[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)i;

    /* §2.3.2: key 00..1f, nonce 00:00:00:09:00:00:00:4a:00:00:00:00,
     * block count 1. */
    const uint8_t nonce_232[12] = {0, 0, 0, 0x09, 0, 0, 0, 0x4a, 0, 0, 0, 0};
    check_block("RFC 8439 2.3.2", key, 1, nonce_232,
                "10f1e7e4d13b5915500fdd1fa32071c4"
                "c7d1f4c733c068030422aa9ac3d46c4e"
                "d2826446079faa0914c2d705d98b02a2"
                "b5129cd1de164eb9cbd083e8a2503c4e");

    /* §2.4.2: the first keystream block of the "sunscreen" example
     * (key 00..1f, nonce 00:00:00:00:00:00:00:4a:00:00:00:00, count 1). */
    const uint8_t nonce_242[12] = {0, 0, 0, 0, 0, 0, 0, 0x4a, 0, 0, 0, 0};
    check_block("RFC 8439 2.4.2", key, 1, nonce_242,
                "224f51f3401bd9e12fde276fb8631ded"
                "8c131f823d2c06e27e4fcaec9ef3cf78"
                "8a3b0aa372600a92b57974cded2b9334"
                "794cba40c63e34cdea212c4cf07d41b7");

    /* Appendix A.1, test vectors #1 and #2: all-zero key and nonce. */
    const uint8_t zero_key[32] = {0};
    const uint8_t zero_nonce[12] = {0};
    check_block("RFC 8439 A.1 #1", zero_key, 0, zero_nonce,
                "76b8e0ada0f13d90405d6ae55386bd28"
                "bdd219b8a08ded1aa836efcc8b770dc7"
                "da41597c5157488d7724e03fb8d84a37"
                "6a43b8f41518a11cc387b669b2ee6586");
    check_block("RFC 8439 A.1 #2", zero_key, 1, zero_nonce,
                "9f07e7be5551387a98ba977c732d080d"
                "cb0f29a048e3656912c6533e32ee7aed"
                "29b721769ce64e43d57133b074d839d5"
                "31ed1f28510afb45ace10a1f4b794d6f");
}

/*
 * The generator's output, rebuilt from the block function: with key K,
 * block(K, 0) = next key || first 32 output bytes, then block(K, 1), ...
 * Rekeys every 1 MiB (RNG_CHUNK in chacha20.c).
 */
static void reference_fill(uint8_t key[32], uint8_t *out, size_t length)
{
    static const uint8_t nonce[12];
    const size_t chunk = (size_t)1 << 20;
    do {
        size_t n = length < chunk ? length : chunk;
        uint8_t stream_block[64];
        riad_chacha20_block(key, 0, nonce, stream_block);
        uint8_t next_key[32];
        memcpy(next_key, stream_block, 32);
        size_t done = 0;
        for (uint32_t counter = 0; done < n; counter++) {
            riad_chacha20_block(key, counter, nonce, stream_block);
            size_t from = counter == 0 ? 32 : 0;
            size_t take = 64 - from;
            if (take > n - done)
                take = n - done;
            memcpy(out + done, stream_block + from, take);
            done += take;
        }
        memcpy(key, next_key, 32);
        out += n;
        length -= n;
    } while (length > 0);
}

static void test_generator(void)
{
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(0xA0 + i);

    struct riad_chacha20_rng rng;
    riad_chacha20_rng_init(&rng, seed);
    uint8_t key[32];
    memcpy(key, seed, 32);

    const size_t lengths[] = {0,  1,  4,   31,  32,  33,   63,   64, 65,
                              95, 96, 97,  127, 128, 129,  1000, 4096,
                              (1 << 20) - 1, 1 << 20, (1 << 20) + 1,
                              (3 << 20) + 77};
    for (size_t t = 0; t < sizeof lengths / sizeof lengths[0]; t++) {
        size_t n = lengths[t];
        uint8_t *got = malloc(n + 1), *want = malloc(n + 1);
        CHECK(got != NULL && want != NULL, "host malloc");
        uint8_t old_key[32];
        memcpy(old_key, rng.key, 32);
        riad_chacha20_rng_fill(&rng, got, n);
        reference_fill(key, want, n);
        CHECK(memcmp(got, want, n) == 0, "fill(%zu) differs from reference",
              n);
        CHECK(memcmp(rng.key, key, 32) == 0, "key after fill(%zu)", n);
        /* Fast key erasure: the key changed with every request. */
        CHECK(memcmp(rng.key, old_key, 32) != 0, "key not replaced (%zu)",
              n);
        free(got);
        free(want);
    }

    /* Two requests never repeat output. */
    uint8_t a[64], b[64];
    riad_chacha20_rng_fill(&rng, a, sizeof a);
    riad_chacha20_rng_fill(&rng, b, sizeof b);
    CHECK(memcmp(a, b, sizeof a) != 0, "consecutive outputs equal");

    /* Crude sanity on a long output: every byte value appears, and the
     * count of one-bits is near half. (Not a statistical test suite.) */
    enum { N = 1 << 16 };
    static uint8_t buf[N];
    riad_chacha20_rng_fill(&rng, buf, N);
    unsigned seen[256] = {0};
    uint64_t ones = 0;
    for (size_t i = 0; i < N; i++) {
        seen[buf[i]]++;
        ones += (uint64_t)__builtin_popcount(buf[i]);
    }
    for (int v = 0; v < 256; v++)
        CHECK(seen[v] > 128, "byte %d appears %u times in %d", v, seen[v], N);
    CHECK(ones > N * 4 - 2000 && ones < N * 4 + 2000, "%llu one-bits in %d",
          (unsigned long long)ones, N * 8);
}

static void test_mix(void)
{
    uint8_t seed[32] = {0};
    struct riad_chacha20_rng r1, r2;
    riad_chacha20_rng_init(&r1, seed);
    riad_chacha20_rng_init(&r2, seed);

    /* Deterministic: the same data gives the same key. */
    const char data[] = "seventy bytes of entropy, more or less, from a source"
                        " we want to mix";
    riad_chacha20_rng_mix(&r1, data, sizeof data);
    riad_chacha20_rng_mix(&r2, data, sizeof data);
    CHECK(memcmp(r1.key, r2.key, 32) == 0, "mix not deterministic");
    CHECK(memcmp(r1.key, seed, 32) != 0, "mix left the key alone");

    /* One bit of difference changes the key. */
    char other[sizeof data];
    memcpy(other, data, sizeof data);
    other[sizeof data - 2] ^= 1;
    riad_chacha20_rng_init(&r2, seed);
    riad_chacha20_rng_mix(&r2, other, sizeof other);
    CHECK(memcmp(r1.key, r2.key, 32) != 0, "mix ignored the last chunk");

    /* The first step is exactly: key ^= chunk; key = block(key, 0)[0..32]. */
    uint8_t chunk[32];
    for (int i = 0; i < 32; i++)
        chunk[i] = (uint8_t)(i * 7);
    riad_chacha20_rng_init(&r1, seed);
    riad_chacha20_rng_mix(&r1, chunk, 32);
    uint8_t expected[64];
    const uint8_t nonce[12] = {0};
    riad_chacha20_block(chunk, 0, nonce, expected); /* seed is zero */
    CHECK(memcmp(r1.key, expected, 32) == 0, "mix step differs");

    /* Mixing nothing changes nothing. */
    uint8_t before[32];
    memcpy(before, r1.key, 32);
    riad_chacha20_rng_mix(&r1, NULL, 0);
    CHECK(memcmp(r1.key, before, 32) == 0, "mix of 0 bytes changed the key");
}

static void test_wipe(void)
{
    uint8_t buf[37];
    memset(buf, 0xFF, sizeof buf);
    riad_chacha20_wipe(buf, sizeof buf);
    for (size_t i = 0; i < sizeof buf; i++)
        CHECK(buf[i] == 0, "wipe left byte %zu", i);
}

int main(void)
{
    test_rfc8439_vectors();
    test_generator();
    test_mix();
    test_wipe();
    printf("SUCCESS\n");
    return 0;
}
