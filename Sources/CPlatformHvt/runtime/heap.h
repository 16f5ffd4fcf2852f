/*
 * heap.h: the kernel heap allocator (heap.c), used by malloc.c.
 *
 * One heap over one contiguous region. The allocator depends on nothing
 * kernel-specific: on a fatal inconsistency (double free, overwritten block
 * header, free of a pointer it never returned) it calls riad_heap_abort(),
 * which whoever links heap.c must define (the kernel: platform.c; the host
 * tests: their own). It is not thread-safe: the kernel has one thread and no
 * interrupts.
 */
#ifndef RIAD_HEAP_H
#define RIAD_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "riad_hvt_runtime.h" /* struct riad_heap_stats */

/* Every pointer the heap returns is aligned to this. */
#define RIAD_HEAP_ALIGNMENT 16

/*
 * Take over [base, base + size) as the heap, forgetting any previous heap.
 * A region too small for a single block gives a heap where every allocation
 * fails.
 */
void riad_heap_init(void *base, size_t size);

/* size bytes, 16-byte aligned; NULL if there is no room. alloc(0) returns a
 * unique minimum-sized block. */
void *riad_heap_alloc(size_t size);

/* size bytes at a multiple of alignment (a power of two); NULL otherwise. */
void *riad_heap_aligned_alloc(size_t alignment, size_t size);

/*
 * Resize in place when possible, else move. realloc(NULL, n) is alloc(n);
 * realloc(p, 0) shrinks p to the minimum block and returns p. On failure
 * returns NULL and p is untouched.
 */
void *riad_heap_realloc(void *ptr, size_t size);

/* Return a block to the heap. free(NULL) does nothing. */
void riad_heap_free(void *ptr);

/* Bytes the caller may use at ptr (at least what it asked for); 0 for NULL. */
size_t riad_heap_usable_size(const void *ptr);

void riad_heap_get_stats(struct riad_heap_stats *out);

/*
 * Walk every block and free list and check that they agree (for tests and
 * debugging: O(heap)). Calls riad_heap_abort on any inconsistency.
 */
void riad_heap_check(void);

/* Defined by the user of heap.c: report message and never return. */
__attribute__((noreturn)) void riad_heap_abort(const char *message);

#endif /* RIAD_HEAP_H */
