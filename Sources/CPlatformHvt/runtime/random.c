/*
 * random.c: the kernel's CSPRNG and arc4random.
 *
 * One ChaCha20 fast-key-erasure generator (chacha20.c) seeded at boot:
 *
 *   1. 32 bytes from RDSEED (the CPU's entropy source), where CPUID says it
 *      exists; any word RDSEED cannot deliver within 10 tries comes from
 *      RDRAND (the CPU's DRBG, reseeded from the same source) instead,
 *      again with 10 tries.
 *   2. Whatever the hardware gave, the TSC and the wall-clock time are mixed
 *      in too: they cost nothing and cannot make the key weaker.
 *   3. If some seed word came from neither instruction (a CPU or a
 *      hypervisor that hides them), the key rests on TSC jitter alone: we
 *      time a few hundred CPUIDs (each one a VM exit whose length varies
 *      with the host's state) and mix every reading in. This is WEAK: the
 *      readings hold a few bits of entropy each at best, and someone who
 *      knows the host and the boot timing well could narrow the key down.
 *      The host can read guest memory anyway, so this is about remote
 *      attackers, for whom it is still far better than a constant. A
 *      warning is printed on the console when it happens.
 *
 * Every request rekeys the generator (fast key erasure): outputs already
 * handed out cannot be recomputed from the state afterwards.
 */
#include <stdbool.h>

#include "chacha20.h"
#include "libc.h"
#include "runtime.h"

#define HW_RETRIES 10
#define JITTER_SAMPLES 512

static struct riad_chacha20_rng generator;
static bool seeded;

static inline uint64_t read_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* The instructions are in inline assembly, so no -mrdseed/-mrdrnd is
 * needed; CF=1 means a value was delivered. */
static bool rdseed64(uint64_t *out)
{
    for (int i = 0; i < HW_RETRIES; i++) {
        uint64_t value;
        uint8_t ok;
        __asm__ volatile("rdseed %0\n\tsetc %1" : "=r"(value), "=qm"(ok)
                         : : "cc");
        if (ok) {
            *out = value;
            return true;
        }
        __asm__ volatile("pause");
    }
    return false;
}

static bool rdrand64(uint64_t *out)
{
    for (int i = 0; i < HW_RETRIES; i++) {
        uint64_t value;
        uint8_t ok;
        __asm__ volatile("rdrand %0\n\tsetc %1" : "=r"(value), "=qm"(ok)
                         : : "cc");
        if (ok) {
            *out = value;
            return true;
        }
    }
    return false;
}

/* Fold TSC readings around VM exits into the generator's key. */
static void mix_tsc_jitter(void)
{
    uint64_t samples[8];
    uint64_t previous = read_tsc();
    for (int i = 0; i < JITTER_SAMPLES; i++) {
        /* A WALLTIME hypercall: a VM exit, whose length varies. */
        volatile struct riad_hvt_hc_walltime hc = {0};
        riad_hvt_hypercall(RIAD_HVT_HYPERCALL_WALLTIME, &hc);
        uint64_t now = read_tsc();
        samples[i % 8] = (now - previous) ^ (now << 32);
        previous = now;
        if (i % 8 == 7)
            riad_chacha20_rng_mix(&generator, samples, sizeof samples);
    }
    riad_chacha20_wipe(samples, sizeof samples);
}

void riad_random_init(void)
{
    /* Read in ring 0 by start.S. */
    bool have_rdrand = (riad_hvt_cpuid_1_ecx >> 30) & 1;
    bool have_rdseed = (riad_hvt_cpuid_7_ebx >> 18) & 1;

    uint64_t seed[RIAD_CHACHA20_KEY_SIZE / 8] = {0};
    bool hardware_seeded = true;
    for (int i = 0; i < RIAD_CHACHA20_KEY_SIZE / 8; i++) {
        if (have_rdseed && rdseed64(&seed[i]))
            continue;
        if (have_rdrand && rdrand64(&seed[i]))
            continue;
        hardware_seeded = false;
    }
    riad_chacha20_rng_init(&generator, (const uint8_t *)seed);
    riad_chacha20_wipe(seed, sizeof seed);

    uint64_t extra[2] = {read_tsc(), riad_hvt_wall_ns()};
    riad_chacha20_rng_mix(&generator, extra, sizeof extra);

    if (!hardware_seeded) {
        static const char warning[] =
            "Riad: warning: no RDSEED/RDRAND; the CSPRNG is seeded from TSC "
            "jitter only (weak)\n";
        riad_console_break_line();
        riad_hvt_console_write(warning, sizeof warning - 1);
        mix_tsc_jitter();
    }
    seeded = true;
}

void arc4random_buf(void *buffer, size_t length)
{
    if (!seeded)
        riad_random_init();
    riad_chacha20_rng_fill(&generator, buffer, length);
}

uint32_t arc4random(void)
{
    uint32_t value;
    arc4random_buf(&value, sizeof value);
    return value;
}

uint32_t arc4random_uniform(uint32_t upper_bound)
{
    if (upper_bound < 2)
        return 0;
    /* Reject the low values that would make some results more likely:
     * 2^32 mod upper_bound of them. */
    uint32_t threshold = (uint32_t)-upper_bound % upper_bound;
    for (;;) {
        uint32_t value = arc4random();
        if (value >= threshold)
            return value % upper_bound;
    }
}
