/*
 * console.c: console output through the PUTS hypercall.
 *
 * Every hypercall is a VM exit, so putchar() (what Embedded Swift's print
 * calls for each byte) collects bytes in a small buffer and hands a whole
 * line to the tender at once: at '\n', when the buffer is full, or when
 * someone flushes. riad_hvt_console_write() writes a block of bytes
 * directly, after the buffer so that the order is kept.
 */
#include "libc.h"
#include "runtime.h"

#define CONSOLE_BUFFER_SIZE 256
/*
 * Largest PUTS we issue. The ABI sets no limit, but a tender may copy the
 * bytes through a bounded buffer or reject absurd lengths; long writes are
 * split so that no single hypercall is larger than this.
 */
#define CONSOLE_CHUNK_MAX 4096

static char buffer[CONSOLE_BUFFER_SIZE];
static size_t buffered;

static void puts_hypercall(const char *data, size_t length)
{
    while (length > 0) {
        size_t n = length < CONSOLE_CHUNK_MAX ? length : CONSOLE_CHUNK_MAX;
        volatile struct riad_hvt_hc_puts hc = {
            .data = (riad_gpa_t)(uintptr_t)data,
            .len = n,
        };
        riad_hvt_hypercall(RIAD_HVT_HYPERCALL_PUTS, &hc);
        data += n;
        length -= n;
    }
}

void riad_console_init(void)
{
    buffered = 0;
}

void riad_hvt_console_flush(void)
{
    if (buffered > 0) {
        puts_hypercall(buffer, buffered);
        buffered = 0;
    }
}

void riad_console_break_line(void)
{
    if (buffered > 0)
        putchar('\n');
}

void riad_hvt_console_write(const char *data, size_t length)
{
    riad_hvt_console_flush();
    puts_hypercall(data, length);
}

int putchar(int c)
{
    buffer[buffered++] = (char)c;
    if ((unsigned char)c == '\n' || buffered == CONSOLE_BUFFER_SIZE)
        riad_hvt_console_flush();
    return (unsigned char)c;
}

int puts(const char *s)
{
    /* Through the buffer, so the line goes out as one hypercall when it
     * fits; the newline flushes it. */
    for (; *s != '\0'; s++)
        putchar(*s);
    putchar('\n');
    return 0;
}
