/*
 * string.c: the string and memory functions the kernel needs.
 *
 * The compiler emits calls to memcpy, memmove and memset on its own (struct
 * copies, zeroing), so these must exist and must not call themselves: the
 * bulk work is done by `rep movsb` / `rep stosb` in inline assembly, which
 * no optimisation can turn back into a library call, and the remaining
 * loops are safe because -ffreestanding (in the kernel flags) implies
 * -fno-builtin, which stops clang from recognising a loop as memcpy/memset.
 * `rep movsb` and `rep stosb` are fast on CPUs with ERMS (every x86-64 a
 * KVM host runs on today) and correct everywhere.
 */
#include "libc.h"

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    void *ret = dst;
    __asm__ volatile("rep movsb"
                     : "+D"(dst), "+S"(src), "+c"(n)
                     :
                     : "memory");
    return ret;
}

void *memmove(void *dst, const void *src, size_t n)
{
    uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;
    if (d - s >= n) {
        /* dst is below src, or they do not overlap: copy forwards. A
         * forward `rep movsb` is architecturally byte-by-byte, so it is
         * correct for dst < src even when the ranges overlap. */
        return memcpy(dst, src, n);
    }
    /* dst overlaps the end of src: copy backwards with the direction flag
     * set, and clear it again as the ABI requires. */
    void *ret = dst;
    const char *last_src = (const char *)src + n - 1;
    char *last_dst = (char *)dst + n - 1;
    __asm__ volatile("std\n\t"
                     "rep movsb\n\t"
                     "cld"
                     : "+D"(last_dst), "+S"(last_src), "+c"(n)
                     :
                     : "memory");
    return ret;
}

void *memset(void *dst, int c, size_t n)
{
    void *ret = dst;
    __asm__ volatile("rep stosb"
                     : "+D"(dst), "+c"(n)
                     : "a"((unsigned char)c)
                     : "memory");
    return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;
    /* Skip equal 8-byte words quickly; __builtin_memcpy of a constant 8
     * bytes is an unaligned load, never a call. */
    while (n >= 8) {
        uint64_t x, y;
        __builtin_memcpy(&x, p, 8);
        __builtin_memcpy(&y, q, 8);
        if (x != y)
            break;
        p += 8;
        q += 8;
        n -= 8;
    }
    for (; n > 0; n--, p++, q++)
        if (*p != *q)
            return *p < *q ? -1 : 1;
    return 0;
}

/* LLVM turns `memcmp(...) == 0` into bcmp when optimising the whole kernel
 * at link time: equality only, any non-zero result for a difference. */
int bcmp(const void *a, const void *b, size_t n)
{
    return memcmp(a, b, n);
}

void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;
    for (; n > 0; n--, p++)
        if (*p == (unsigned char)c)
            return (void *)(uintptr_t)p;
    return NULL;
}

size_t strlen(const char *s)
{
    const char *p = s;
    while (*p != '\0')
        p++;
    return (size_t)(p - s);
}

int strcmp(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;
    while (*p != '\0' && *p == *q) {
        p++;
        q++;
    }
    return (*p > *q) - (*p < *q);
}

int strncmp(const char *a, const char *b, size_t n)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;
    for (; n > 0; n--, p++, q++) {
        if (*p != *q)
            return *p < *q ? -1 : 1;
        if (*p == '\0')
            return 0;
    }
    return 0;
}

char *strncpy(char *restrict dst, const char *restrict src, size_t n)
{
    size_t i = 0;
    for (; i < n && src[i] != '\0'; i++)
        dst[i] = src[i];
    /* strncpy pads the rest of dst with NULs (and does not terminate a
     * string of n or more bytes). */
    for (; i < n; i++)
        dst[i] = '\0';
    return dst;
}
