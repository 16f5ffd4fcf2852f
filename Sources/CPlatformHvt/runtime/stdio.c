/*
 * stdio.c: the little of C's stdio and time the Swift runtime libraries
 * use (the concurrency library reports fatal errors with vsnprintf and
 * fputs, and reads clocks with clock_gettime). Output goes to the console.
 *
 * vsnprintf knows %s %c %d %i %u %x %p %% with the l, ll and z length
 * modifiers and a field width for numbers: what those messages use.
 */
#include <stdarg.h>
#include <stdbool.h>

#include "libc.h"
#include "runtime.h"

/* Only the address matters: fputs and fflush ignore which stream. */
struct riad_file {
    int unused;
};
static struct riad_file standard_error;
void *stderr = &standard_error;
void *stdout = &standard_error;

static int error_number;

int *__errno_location(void)
{
    return &error_number;
}

struct output {
    char *buffer;
    size_t size;
    size_t length; /* what would have been written, as C99 counts */
};

static void put(struct output *out, char c)
{
    if (out->length + 1 < out->size)
        out->buffer[out->length] = c;
    out->length++;
}

static void put_number(struct output *out, unsigned long long value, unsigned base,
                       bool negative, int width, char pad)
{
    char digits[24];
    int count = 0;
    do {
        digits[count++] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value != 0);
    if (negative)
        digits[count++] = '-';
    for (int i = count; i < width; i++)
        put(out, pad);
    while (count > 0)
        put(out, digits[--count]);
}

int vsnprintf(char *buffer, size_t size, const char *format, va_list args)
{
    struct output out = {.buffer = buffer, .size = size, .length = 0};
    for (const char *p = format; *p != '\0'; p++) {
        if (*p != '%') {
            put(&out, *p);
            continue;
        }
        p++;
        char pad = ' ';
        if (*p == '0') {
            pad = '0';
            p++;
        }
        int width = 0;
        while (*p >= '0' && *p <= '9')
            width = width * 10 + (*p++ - '0');
        int longs = 0;
        while (*p == 'l' || *p == 'z') {
            longs = *p == 'z' ? 2 : longs + 1;
            p++;
        }
        switch (*p) {
        case 's': {
            const char *s = va_arg(args, const char *);
            for (s = s ? s : "(null)"; *s != '\0'; s++)
                put(&out, *s);
            break;
        }
        case 'c':
            put(&out, (char)va_arg(args, int));
            break;
        case 'd':
        case 'i': {
            long long v = longs >= 2 ? va_arg(args, long long)
                          : longs == 1 ? va_arg(args, long)
                                       : va_arg(args, int);
            unsigned long long magnitude =
                v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
            put_number(&out, magnitude, 10, v < 0, width, pad);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v = longs >= 2 ? va_arg(args, unsigned long long)
                                   : longs == 1 ? va_arg(args, unsigned long)
                                                : va_arg(args, unsigned int);
            put_number(&out, v, *p == 'u' ? 10 : 16, false, width, pad);
            break;
        }
        case 'p':
            put(&out, '0');
            put(&out, 'x');
            put_number(&out, (uintptr_t)va_arg(args, void *), 16, false, 0, ' ');
            break;
        case '%':
            put(&out, '%');
            break;
        case '\0':
            p--;
            break;
        default:
            put(&out, '%');
            put(&out, *p);
        }
    }
    if (size > 0)
        buffer[out.length < size ? out.length : size - 1] = '\0';
    return (int)out.length;
}

int snprintf(char *buffer, size_t size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int length = vsnprintf(buffer, size, format, args);
    va_end(args);
    return length;
}

int vprintf(const char *format, va_list args)
{
    char line[512];
    int length = vsnprintf(line, sizeof line, format, args);
    size_t shown = (size_t)length < sizeof line ? (size_t)length : sizeof line - 1;
    riad_hvt_console_write(line, shown);
    return length;
}

int fputs(const char *s, void *stream)
{
    (void)stream;
    riad_hvt_console_write(s, strlen(s));
    return 0;
}

int fflush(void *stream)
{
    (void)stream;
    riad_hvt_console_flush();
    return 0;
}

/* clock_gettime's clocks: realtime is the wall clock, every other one the
 * monotonic clock (the kernel is never suspended). */
struct timespec {
    long tv_sec;
    long tv_nsec;
};

#define CLOCK_REALTIME 0

int clock_gettime(int clock, struct timespec *time)
{
    uint64_t ns = clock == CLOCK_REALTIME ? riad_hvt_wall_ns() : riad_hvt_monotonic_ns();
    time->tv_sec = (long)(ns / 1000000000ULL);
    time->tv_nsec = (long)(ns % 1000000000ULL);
    return 0;
}

int clock_getres(int clock, struct timespec *resolution)
{
    (void)clock;
    resolution->tv_sec = 0;
    resolution->tv_nsec = 1;
    return 0;
}

/* Blocks the whole kernel: only for code that does not know the loop. */
int nanosleep(const struct timespec *request, struct timespec *remaining)
{
    uint64_t deadline = riad_hvt_monotonic_ns() + (uint64_t)request->tv_sec * 1000000000ULL +
                        (uint64_t)request->tv_nsec;
    while (riad_hvt_monotonic_ns() < deadline)
        riad_hvt_yield(deadline);
    if (remaining != NULL) {
        remaining->tv_sec = 0;
        remaining->tv_nsec = 0;
    }
    return 0;
}
