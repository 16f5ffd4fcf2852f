/*
 * libc.h: the C library subset the hvt runtime defines (string.c, malloc.c,
 * console.c, platform.c, random.c).
 *
 * Kernels are built with -nostdinc, so there is no <string.h> or
 * <stdlib.h>; these prototypes stand in for them inside the runtime and
 * match the standard signatures, so they also match what the compiler
 * assumes when it emits calls to memcpy and friends on its own.
 */
#ifndef RIAD_HVT_LIBC_H
#define RIAD_HVT_LIBC_H

#include <stddef.h>
#include <stdint.h>

/* errno values returned by posix_memalign (Linux numbering). */
#define RIAD_EINVAL 22
#define RIAD_ENOMEM 12

/* string.c */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
int bcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strncpy(char *restrict dst, const char *restrict src, size_t n);

/* malloc.c */
void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);
int posix_memalign(void **out, size_t alignment, size_t size);
void *aligned_alloc(size_t alignment, size_t size);
size_t malloc_usable_size(void *ptr);

/* console.c */
int putchar(int c);
int puts(const char *s);

/* platform.c */
__attribute__((noreturn)) void abort(void);
__attribute__((noreturn)) void exit(int status);
__attribute__((noreturn)) void __stack_chk_fail(void);
extern uintptr_t __stack_chk_guard;

/* random.c (arc4random_buf is in riad_hvt_runtime.h) */
uint32_t arc4random(void);
uint32_t arc4random_uniform(uint32_t upper_bound);

#endif /* RIAD_HVT_LIBC_H */
