/*
 * An LD_PRELOAD library that counts heap allocations in a process and
 * prints the count to standard error on SIGUSR1: how benchmarks count the
 * allocations of a unix kernel on a hot path. Calls pass through to the
 * next definitions (glibc's).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_ulong allocations;

static void report(int signal)
{
    (void)signal;
    char line[64];
    int length = snprintf(line, sizeof line, "malloc-count: %lu\n", atomic_load(&allocations));
    if (length > 0) (void)!write(2, line, (size_t)length);
}

__attribute__((constructor)) static void start(void) { signal(SIGUSR1, report); }

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

void *malloc(size_t size)
{
    static __typeof__(&malloc) next;
    if (!next) next = NEXT(malloc);
    atomic_fetch_add(&allocations, 1);
    return next(size);
}

void *calloc(size_t count, size_t size)
{
    /* dlsym itself may call calloc: a static buffer answers that first call. */
    static __typeof__(&calloc) next;
    static char early[256];
    static int resolving;
    if (!next) {
        if (resolving) return memset(early, 0, sizeof early);
        resolving = 1;
        next = NEXT(calloc);
    }
    atomic_fetch_add(&allocations, 1);
    return next(count, size);
}

void *realloc(void *pointer, size_t size)
{
    static __typeof__(&realloc) next;
    if (!next) next = NEXT(realloc);
    atomic_fetch_add(&allocations, 1);
    return next(pointer, size);
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
    static __typeof__(&posix_memalign) next;
    if (!next) next = NEXT(posix_memalign);
    atomic_fetch_add(&allocations, 1);
    return next(out, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size)
{
    static __typeof__(&aligned_alloc) next;
    if (!next) next = NEXT(aligned_alloc);
    atomic_fetch_add(&allocations, 1);
    return next(alignment, size);
}
