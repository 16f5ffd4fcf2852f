/*
 * heap_test.c: host test of the kernel heap (Sources/CPlatformHvt/runtime/heap.c).
 *
 * Build and run (as the XCTest does):
 *   clang -O1 -g -fsanitize=address,undefined \
 *     -I Sources/CPlatformHvt/runtime -I Sources/RiadABI/include \
 *     -I Sources/CPlatformHvt/include \
 *     Tests/RuntimeTests/heap_test.c Sources/CPlatformHvt/runtime/heap.c \
 *     -o /tmp/heap_test && /tmp/heap_test
 * Prints SUCCESS and exits 0, or prints a FAIL line and exits 1.
 *
 * The heap manages a buffer from the host's malloc, so the sanitizers see
 * the test's own mistakes but not the heap's internal bookkeeping; the heap's
 * own consistency walk (riad_heap_check) covers that.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"

#define FAIL(...)                                                          \
    do {                                                                   \
        printf("FAIL: heap_test.c:%d: ", __LINE__);                        \
        printf(__VA_ARGS__);                                               \
        printf("\n");                                                      \
        exit(1);                                                           \
    } while (0)

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond))                                                       \
            FAIL(__VA_ARGS__);                                             \
    } while (0)

/* ---- the abort hook heap.c needs ---- */

static bool expect_abort;
static jmp_buf abort_jump;
static char abort_message[256];

void riad_heap_abort(const char *message)
{
    if (!expect_abort) {
        printf("FAIL: heap_test.c: unexpected heap abort: %s\n", message);
        exit(1);
    }
    snprintf(abort_message, sizeof abort_message, "%s", message);
    expect_abort = false;
    longjmp(abort_jump, 1);
}

/* ---- helpers ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
    /* xorshift64*: deterministic, good enough for a test. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned char *region;
static size_t region_size;

/* A fresh heap of `size` bytes at a deliberately unaligned address. */
static void fresh_heap(size_t size)
{
    free(region);
    region_size = size + 64;
    region = malloc(region_size);
    CHECK(region != NULL, "host malloc failed");
    riad_heap_init(region + 3, size);
}

static struct riad_heap_stats stats(void)
{
    struct riad_heap_stats s;
    riad_heap_get_stats(&s);
    return s;
}

static void check_aligned(const void *p, size_t alignment)
{
    CHECK(((uintptr_t)p & (alignment - 1)) == 0, "%p not aligned to %zu", p,
          alignment);
}

static void check_inside(const void *p, size_t size)
{
    CHECK((const unsigned char *)p >= region &&
              (const unsigned char *)p + size <= region + region_size,
          "%p+%zu outside the heap region", p, size);
}

/* ---- tests ---- */

static void test_basic_alignment(void)
{
    fresh_heap(1 << 20);
    void *ptrs[200];
    for (size_t i = 0; i < 200; i++) {
        ptrs[i] = riad_heap_alloc(i);
        CHECK(ptrs[i] != NULL, "alloc(%zu) failed", i);
        check_aligned(ptrs[i], RIAD_HEAP_ALIGNMENT);
        check_inside(ptrs[i], i);
        CHECK(riad_heap_usable_size(ptrs[i]) >= i, "usable size too small");
        memset(ptrs[i], (int)i, i);
    }
    for (size_t i = 0; i < 200; i++)
        for (size_t j = 0; j < i; j++)
            CHECK(((unsigned char *)ptrs[i])[j] == (unsigned char)i,
                  "block %zu overwritten", i);
    /* alloc(0) gives distinct pointers. */
    CHECK(ptrs[0] != ptrs[1], "alloc(0) not unique");
    riad_heap_check();
    for (size_t i = 0; i < 200; i++)
        riad_heap_free(ptrs[i]);
    riad_heap_free(NULL);
    CHECK(riad_heap_usable_size(NULL) == 0, "usable_size(NULL)");
    riad_heap_check();
    CHECK(stats().in_use == 0, "in_use not 0 after freeing all");
}

static void test_reuse(void)
{
    fresh_heap(1 << 20);
    /* 1,000,000 alloc/free pairs of up to 64 KiB in a 1 MiB heap. */
    for (int i = 0; i < 1000000; i++) {
        size_t size = (size_t)(rng() % 65536);
        void *p = riad_heap_alloc(size);
        CHECK(p != NULL, "alloc %d of %zu failed: memory not reused", i,
              size);
        check_aligned(p, RIAD_HEAP_ALIGNMENT);
        if (size > 0) {
            ((unsigned char *)p)[0] = 1;
            ((unsigned char *)p)[size - 1] = 2;
        }
        riad_heap_free(p);
    }
    /* Also a pattern that keeps a few blocks alive across the loop. */
    void *keep[8] = {0};
    for (int i = 0; i < 100000; i++) {
        int k = (int)(rng() % 8);
        riad_heap_free(keep[k]);
        keep[k] = riad_heap_alloc((size_t)(rng() % 100000));
        CHECK(keep[k] != NULL, "alloc failed with <= 800 KB live");
    }
    for (int k = 0; k < 8; k++)
        riad_heap_free(keep[k]);
    riad_heap_check();
    struct riad_heap_stats s = stats();
    CHECK(s.in_use == 0, "in_use %llu after freeing all",
          (unsigned long long)s.in_use);
    CHECK(s.failures == 0, "unexpected failures");
    CHECK(s.allocations == 1100000 && s.frees == 1100000,
          "counts: %llu allocations, %llu frees",
          (unsigned long long)s.allocations, (unsigned long long)s.frees);
}

static void test_coalescing(void)
{
    const size_t heap_size = 1 << 20;
    fresh_heap(heap_size);
    enum { N = 10000 };
    static void *small[N];
    size_t n = 0;
    /* Fill the heap with small blocks until it is nearly full. */
    while (n < N && (small[n] = riad_heap_alloc(100)) != NULL)
        n++;
    CHECK(n > 7000 && n < N, "%zu small blocks fit in 1 MiB", n);
    CHECK(riad_heap_alloc(heap_size / 2) == NULL, "big alloc in full heap");
    /* Free them in an interleaved order so that merging happens from both
     * sides: even ones first, then odd ones. */
    for (size_t i = 0; i < n; i += 2)
        riad_heap_free(small[i]);
    riad_heap_check();
    CHECK(riad_heap_alloc(1000) == NULL, "alloc(1000) between holes");
    for (size_t i = 1; i < n; i += 2)
        riad_heap_free(small[i]);
    riad_heap_check();
    /* Everything merged back into one block: nearly the whole heap fits. */
    void *big = riad_heap_alloc(heap_size - 256);
    CHECK(big != NULL, "big alloc after freeing everything failed");
    riad_heap_free(big);
    /* Reverse order too. */
    n = 0;
    while (n < N && (small[n] = riad_heap_alloc(200)) != NULL)
        n++;
    while (n > 0)
        riad_heap_free(small[--n]);
    big = riad_heap_alloc(heap_size - 256);
    CHECK(big != NULL, "big alloc after reverse frees failed");
    riad_heap_free(big);
    riad_heap_check();
}

static void test_stats(void)
{
    fresh_heap(1 << 20);
    struct riad_heap_stats s = stats();
    CHECK(s.heap_size >= (1 << 20) - 32 && s.heap_size <= (1 << 20),
          "heap_size %llu", (unsigned long long)s.heap_size);
    CHECK(s.in_use == 0 && s.high_water == 0 && s.allocations == 0 &&
              s.frees == 0 && s.failures == 0,
          "fresh stats not zero");

    void *a = riad_heap_alloc(1000);
    void *b = riad_heap_alloc(5000);
    /* in_use counts whole blocks: usable size plus the 16-byte header. */
    uint64_t expect = riad_heap_usable_size(a) + 16 + riad_heap_usable_size(b) + 16;
    s = stats();
    CHECK(s.in_use == expect, "in_use %llu, expected %llu",
          (unsigned long long)s.in_use, (unsigned long long)expect);
    CHECK(s.high_water == expect, "high_water");
    riad_heap_free(a);
    uint64_t peak = expect;
    s = stats();
    CHECK(s.in_use == riad_heap_usable_size(b) + 16, "in_use after free");
    CHECK(s.high_water == peak, "high_water must not drop");
    void *c = riad_heap_alloc(100);
    s = stats();
    CHECK(s.high_water == peak, "high_water rose below the peak");
    riad_heap_free(b);
    riad_heap_free(c);
    s = stats();
    CHECK(s.in_use == 0, "in_use not 0");
    CHECK(s.high_water == peak, "high_water changed");
    CHECK(s.allocations == 3 && s.frees == 3, "counts");

    /* high_water tracks the maximum across a random sequence. */
    void *live[64] = {0};
    uint64_t max_seen = peak;
    for (int i = 0; i < 20000; i++) {
        int k = (int)(rng() % 64);
        if (live[k] != NULL) {
            riad_heap_free(live[k]);
            live[k] = NULL;
        } else {
            live[k] = riad_heap_alloc((size_t)(rng() % 20000));
        }
        s = stats();
        if (s.in_use > max_seen)
            max_seen = s.in_use;
        CHECK(s.high_water == max_seen, "high_water %llu, max seen %llu",
              (unsigned long long)s.high_water, (unsigned long long)max_seen);
    }
    for (int k = 0; k < 64; k++)
        riad_heap_free(live[k]);
    CHECK(stats().in_use == 0, "in_use not 0 at end");
}

static void test_aligned(void)
{
    fresh_heap(4 << 20);
    enum { N = 600 };
    void *ptrs[N];
    size_t count = 0;
    for (size_t alignment = 16; alignment <= 4096; alignment *= 2) {
        for (int i = 0; i < 50; i++) {
            size_t size = (size_t)(rng() % 5000);
            void *p = riad_heap_aligned_alloc(alignment, size);
            CHECK(p != NULL, "aligned_alloc(%zu, %zu) failed", alignment,
                  size);
            check_aligned(p, alignment);
            check_inside(p, size);
            CHECK(riad_heap_usable_size(p) >= size, "usable size");
            memset(p, 0xA5, size);
            ptrs[count++] = p;
        }
        riad_heap_check();
    }
    /* Alignments 1..8 are valid powers of two too. */
    for (size_t alignment = 1; alignment <= 8; alignment *= 2) {
        void *p = riad_heap_aligned_alloc(alignment, 24);
        CHECK(p != NULL, "aligned_alloc(%zu)", alignment);
        check_aligned(p, RIAD_HEAP_ALIGNMENT);
        ptrs[count++] = p;
    }
    /* Page-sized, page-aligned: what a driver wants for I/O buffers. */
    for (int i = 0; i < 20; i++) {
        void *p = riad_heap_aligned_alloc(4096, 4096);
        CHECK(p != NULL, "page alloc");
        check_aligned(p, 4096);
        ptrs[count++] = p;
    }
    uint64_t failures = stats().failures;
    CHECK(riad_heap_aligned_alloc(0, 16) == NULL, "alignment 0 accepted");
    CHECK(riad_heap_aligned_alloc(48, 16) == NULL, "alignment 48 accepted");
    CHECK(stats().failures == failures + 2, "bad alignments not counted");
    for (size_t i = 0; i < count; i++)
        riad_heap_free(ptrs[i]);
    riad_heap_check();
    CHECK(stats().in_use == 0, "in_use not 0 after aligned frees");
    /* The heap is whole again: the carved-off heads and tails merged. */
    void *big = riad_heap_alloc((4 << 20) - 256);
    CHECK(big != NULL, "heap fragmented by aligned allocations");
    riad_heap_free(big);
}

struct slot {
    unsigned char *ptr;
    unsigned char *shadow;
    size_t size;
};

static void check_slot(const struct slot *s, int op)
{
    CHECK(memcmp(s->ptr, s->shadow, s->size) == 0,
          "op %d: block contents differ from shadow (size %zu)", op, s->size);
}

static void fill_slot(struct slot *s, size_t from)
{
    for (size_t i = from; i < s->size; i++)
        s->shadow[i] = (unsigned char)rng();
    memcpy(s->ptr + from, s->shadow + from, s->size - from);
}

static size_t random_size(void)
{
    uint64_t r = rng() % 100;
    if (r < 60)
        return (size_t)(rng() % 128);
    if (r < 90)
        return (size_t)(rng() % 2048);
    if (r < 99)
        return (size_t)(rng() % 32768);
    return (size_t)(rng() % 262144);
}

static void test_stress(void)
{
    const size_t heap_size = 16 << 20;
    fresh_heap(heap_size);
    enum { SLOTS = 1000, OPS = 200000 };
    static struct slot slots[SLOTS];
    uint64_t refused = 0;
    for (int op = 0; op < OPS; op++) {
        struct slot *s = &slots[rng() % SLOTS];
        uint64_t action = rng() % 10;
        if (s->ptr == NULL) {
            size_t size = random_size();
            size_t alignment = action < 2 ? (size_t)1 << (rng() % 13) : 0;
            unsigned char *p = alignment != 0
                                   ? riad_heap_aligned_alloc(alignment, size)
                                   : riad_heap_alloc(size);
            if (p == NULL) {
                refused++;
                continue;
            }
            check_aligned(p, alignment > 16 ? alignment : 16);
            check_inside(p, size);
            s->ptr = p;
            s->size = size;
            s->shadow = malloc(size + 1);
            CHECK(s->shadow != NULL, "host malloc");
            fill_slot(s, 0);
        } else if (action < 6) {
            check_slot(s, op);
            riad_heap_free(s->ptr);
            free(s->shadow);
            *s = (struct slot){0};
        } else {
            check_slot(s, op);
            size_t size = action < 8 ? random_size() : s->size + rng() % 512;
            unsigned char *p = riad_heap_realloc(s->ptr, size);
            if (p == NULL) {
                /* Refused: the old block must be intact. */
                refused++;
                check_slot(s, op);
                continue;
            }
            check_aligned(p, 16);
            check_inside(p, size);
            unsigned char *shadow = realloc(s->shadow, size + 1);
            CHECK(shadow != NULL, "host realloc");
            s->ptr = p;
            s->shadow = shadow;
            size_t kept = s->size < size ? s->size : size;
            s->size = size;
            CHECK(memcmp(p, shadow, kept) == 0,
                  "op %d: realloc lost contents", op);
            fill_slot(s, kept);
        }
        if (op % 20000 == 0) {
            riad_heap_check();
            uint64_t live = 0;
            for (int i = 0; i < SLOTS; i++)
                if (slots[i].ptr != NULL)
                    live += riad_heap_usable_size(slots[i].ptr) + 16;
            CHECK(stats().in_use == live, "op %d: in_use %llu, live %llu", op,
                  (unsigned long long)stats().in_use,
                  (unsigned long long)live);
        }
    }
    for (int i = 0; i < SLOTS; i++) {
        if (slots[i].ptr != NULL) {
            check_slot(&slots[i], OPS);
            riad_heap_free(slots[i].ptr);
            free(slots[i].shadow);
            slots[i] = (struct slot){0};
        }
    }
    riad_heap_check();
    struct riad_heap_stats s = stats();
    CHECK(s.in_use == 0, "in_use not 0 after stress");
    CHECK(s.failures == refused, "failures %llu, refused %llu",
          (unsigned long long)s.failures, (unsigned long long)refused);
    CHECK(riad_heap_alloc(heap_size - 256) != NULL,
          "heap not whole after stress");
}

static void test_huge(void)
{
    fresh_heap(1 << 20);
    const size_t sizes[] = {SIZE_MAX,      SIZE_MAX - 1,  SIZE_MAX - 15,
                            SIZE_MAX - 16, SIZE_MAX / 2,  SIZE_MAX / 2 + 1,
                            (size_t)1 << 40, (1 << 20) + 1};
    uint64_t failures = 0;
    void *p = riad_heap_alloc(64);
    CHECK(p != NULL, "small alloc");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        CHECK(riad_heap_alloc(sizes[i]) == NULL, "alloc(%zu) succeeded",
              sizes[i]);
        CHECK(riad_heap_aligned_alloc(4096, sizes[i]) == NULL,
              "aligned_alloc(4096, %zu) succeeded", sizes[i]);
        CHECK(riad_heap_aligned_alloc(sizes[i] & ~(SIZE_MAX >> 1), 16) ==
                  NULL,
              "aligned_alloc with huge alignment succeeded");
        CHECK(riad_heap_realloc(p, sizes[i]) == NULL,
              "realloc(%zu) succeeded", sizes[i]);
        failures += 4;
    }
    CHECK(riad_heap_usable_size(p) >= 64, "realloc failure damaged block");
    struct riad_heap_stats s = stats();
    CHECK(s.failures == failures, "failures %llu, expected %llu",
          (unsigned long long)s.failures, (unsigned long long)failures);
    riad_heap_free(p);
    riad_heap_check();
    CHECK(stats().in_use == 0, "in_use");
}

static void test_out_of_memory(void)
{
    fresh_heap(1 << 20);
    enum { N = 100 };
    void *ptrs[N];
    int n = 0;
    for (;;) {
        CHECK(n < N, "1 MiB heap holds more than %d x 16 KiB", N);
        void *p = riad_heap_alloc(16384);
        if (p == NULL)
            break;
        ptrs[n++] = p;
    }
    CHECK(n >= 60, "only %d x 16 KiB fit in 1 MiB", n);
    CHECK(stats().failures == 1, "OOM not counted as one failure");
    /* Smaller requests still fit in what is left. */
    void *small = riad_heap_alloc(64);
    CHECK(small != NULL, "small alloc after OOM");
    riad_heap_free(small);
    for (int i = 0; i < n; i++)
        riad_heap_free(ptrs[i]);
    riad_heap_check();
    CHECK(riad_heap_alloc(16384) != NULL, "alloc after freeing failed");

    /* A region too small for any block: everything fails cleanly. */
    fresh_heap(40);
    CHECK(riad_heap_alloc(0) == NULL, "alloc in a tiny heap");
    CHECK(riad_heap_aligned_alloc(64, 1) == NULL, "aligned in a tiny heap");
    CHECK(stats().failures == 2, "tiny heap failures");
    riad_heap_check();
}

/* The heap must abort (through the hook) rather than corrupt itself. */
#define EXPECT_ABORT(statement, needle)                                    \
    do {                                                                   \
        expect_abort = true;                                               \
        if (setjmp(abort_jump) == 0) {                                     \
            statement;                                                     \
            FAIL("no abort for: %s", #statement);                          \
        }                                                                  \
        CHECK(strstr(abort_message, needle) != NULL,                       \
              "abort message \"%s\" lacks \"%s\"", abort_message, needle); \
    } while (0)

static void test_detection(void)
{
    fresh_heap(1 << 20);
    unsigned char *a = riad_heap_alloc(100);
    unsigned char *b = riad_heap_alloc(100);
    unsigned char *c = riad_heap_alloc(100);
    riad_heap_free(b);
    EXPECT_ABORT(riad_heap_free(b), "double free");
    /* b merged with nothing (a and c in use); free a: merges forward with b.
     * b's old header is stale but still says free. */
    riad_heap_free(a);
    EXPECT_ABORT(riad_heap_free(b), "double free");
    EXPECT_ABORT(riad_heap_free(a), "double free");
    /* Pointers that were never returned. */
    EXPECT_ABORT(riad_heap_free(c + 8), "invalid pointer");
    EXPECT_ABORT(riad_heap_free(c + 16), "corrupted");
    int on_stack;
    EXPECT_ABORT(riad_heap_free(&on_stack), "invalid pointer");
    /* A buffer overflow from the block before c over c's header. */
    unsigned char *d = riad_heap_alloc(32);
    memset(c - 16, 0x41, 8);
    EXPECT_ABORT(riad_heap_free(c), "corrupted");
    EXPECT_ABORT(riad_heap_realloc(c, 10), "corrupted");
    EXPECT_ABORT(riad_heap_usable_size(c), "corrupted");
    (void)d;
}

int main(void)
{
    test_basic_alignment();
    test_reuse();
    test_coalescing();
    test_stats();
    test_aligned();
    test_stress();
    test_huge();
    test_out_of_memory();
    test_detection();
    free(region);
    printf("SUCCESS\n");
    return 0;
}
