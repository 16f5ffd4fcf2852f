/*
 * malloc.c: the C allocation functions, on top of the heap in heap.c.
 *
 * Embedded Swift allocates through posix_memalign and free; C code linked
 * into a kernel may use the rest. Everything here only validates arguments
 * the way the C and POSIX standards ask and forwards to the heap.
 */
#include "heap.h"
#include "libc.h"
#include "riad_hvt_runtime.h"

void *malloc(size_t size)
{
    return riad_heap_alloc(size);
}

void *calloc(size_t count, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        /* Let the heap count the refusal: SIZE_MAX can never fit. */
        return riad_heap_alloc(SIZE_MAX);
    }
    void *p = riad_heap_alloc(total);
    if (p != NULL)
        memset(p, 0, total);
    return p;
}

void *realloc(void *ptr, size_t size)
{
    return riad_heap_realloc(ptr, size);
}

void free(void *ptr)
{
    riad_heap_free(ptr);
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
    /* POSIX: a power of two and a multiple of sizeof(void *). */
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0)
        return RIAD_EINVAL;
    void *p = riad_heap_aligned_alloc(alignment, size);
    if (p == NULL)
        return RIAD_ENOMEM; /* *out is left alone, as POSIX allows */
    *out = p;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size)
{
    /* C11: alignment must be a valid (power-of-two) alignment. */
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        return NULL;
    return riad_heap_aligned_alloc(alignment, size);
}

size_t malloc_usable_size(void *ptr)
{
    return riad_heap_usable_size(ptr);
}

void riad_hvt_heap_stats(struct riad_heap_stats *out)
{
    riad_heap_get_stats(out);
}
