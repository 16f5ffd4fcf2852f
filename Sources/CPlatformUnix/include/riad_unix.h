/*
 * riad_unix.h: the Linux interfaces PlatformUnix needs, for Swift.
 *
 * Embedded Swift has no Glibc module, but it imports C headers: this header
 * brings in the glibc declarations PlatformUnix uses, and wraps what Swift
 * cannot call directly (variadic open(2) and ioctl(2), struct ifreq's unions,
 * macros, stdout) in typed static inline functions. Everything is inline so
 * that a kernel needs no C object of ours: the Swift compiler emits what it
 * uses. The same header serves the ordinary-Swift build of PlatformUnix.
 */
#ifndef RIAD_UNIX_H
#define RIAD_UNIX_H

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <malloc.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* Exit statuses shared by every target (see Riad's ExitStatus). */
#define RIAD_UNIX_EXIT_FAILURE 1
#define RIAD_UNIX_EXIT_ABORT 255

/* The text of the current errno, for messages. */
static inline const char *riad_unix_error_text(void) { return strerror(errno); }

/* Ends the process with status, flushing stdio. */
__attribute__((noreturn)) static inline void riad_unix_exit(int status) { exit(status); }

/* --- Console ------------------------------------------------------------ */

/* Makes stdio's stdout unbuffered, so that Swift's print (which goes through
 * putchar) and the platform's write(2) calls come out in program order. */
static inline void riad_unix_unbuffer_stdout(void) { setvbuf(stdout, NULL, _IONBF, 0); }

/* Writes all of data to fd, retrying after partial writes and EINTR.
 * Returns 0, or -1 if the descriptor refused (a closed pipe, say). */
static inline int riad_unix_write_all(int fd, const void *data, size_t length)
{
    const char *p = (const char *)data;
    while (length > 0) {
        ssize_t n = write(fd, p, length);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        length -= (size_t)n;
    }
    return 0;
}

/* --- Devices: whole transfers ----------------------------------------- */

/* Reads one frame from the nonblocking tap fd into buffer: its length, or -1
 * when none is waiting (EAGAIN) or the read failed. */
static inline ssize_t riad_unix_read_frame(int fd, void *buffer, size_t length)
{
    ssize_t n;
    do
        n = read(fd, buffer, length);
    while (n < 0 && errno == EINTR);
    return n;
}

/* Writes one frame; returns 0 if the tap took all of it, else -1. */
static inline int riad_unix_write_frame(int fd, const void *frame, size_t length)
{
    ssize_t n;
    do
        n = write(fd, frame, length);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)length ? 0 : -1;
}

/* Transfers exactly length bytes at offset, going on after short transfers
 * and EINTR. Returns 0, or -1 on an error or an unexpected end of file. */
static inline int riad_unix_pread_all(int fd, void *buffer, size_t length, uint64_t offset)
{
    char *p = (char *)buffer;
    while (length > 0) {
        ssize_t n = pread(fd, p, length, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        length -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

static inline int riad_unix_pwrite_all(int fd, const void *buffer, size_t length, uint64_t offset)
{
    const char *p = (const char *)buffer;
    while (length > 0) {
        ssize_t n = pwrite(fd, p, length, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        length -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

/* Fills buffer with random bytes (for MAC addresses); 0 or -1. */
static inline int riad_unix_random(void *buffer, size_t length)
{
    return getrandom(buffer, length, 0) == (ssize_t)length ? 0 : -1;
}

/* --- Clocks and waiting ------------------------------------------------- */

static inline uint64_t riad_unix_clock_ns(clockid_t clock)
{
    struct timespec now;
    clock_gettime(clock, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static inline uint64_t riad_unix_monotonic_ns(void) { return riad_unix_clock_ns(CLOCK_MONOTONIC); }
static inline uint64_t riad_unix_wall_ns(void) { return riad_unix_clock_ns(CLOCK_REALTIME); }

static inline int riad_unix_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static inline int riad_unix_timerfd_create(void)
{
    return timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
}

/* Watches fd for input; events on it report tag. */
static inline int riad_unix_epoll_add(int epoll_fd, int fd, uint64_t tag)
{
    struct epoll_event event = { .events = EPOLLIN, .data = { .u64 = tag } };
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

/* Arms timer_fd to expire at the absolute CLOCK_MONOTONIC time deadline_ns.
 * Arming also clears an expiry left over from an earlier wait, so the timer
 * never needs reading. */
static inline int riad_unix_timer_arm(int timer_fd, uint64_t deadline_ns)
{
    struct itimerspec spec = { 0 };
    spec.it_value.tv_sec = (time_t)(deadline_ns / 1000000000u);
    spec.it_value.tv_nsec = (long)(deadline_ns % 1000000000u);
    if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0)
        spec.it_value.tv_nsec = 1; /* all zero would disarm the timer */
    return timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &spec, NULL);
}

/* Waits until timer_fd expires (or a signal interrupts the wait). */
static inline void riad_unix_timer_wait(int timer_fd)
{
    struct pollfd timer = { .fd = timer_fd, .events = POLLIN };
    poll(&timer, 1, -1);
}

/* Waits up to timeout_ms (-1: until an event) and returns the OR of
 * 1 << tag over the events whose tag is below 64; the timer's tag is not. */
static inline uint64_t riad_unix_epoll_ready(int epoll_fd, int timeout_ms)
{
    struct epoll_event events[16];
    int count = epoll_wait(epoll_fd, events, 16, timeout_ms);
    uint64_t ready = 0;
    for (int i = 0; i < count; i++) {
        if (events[i].data.u64 < 64)
            ready |= (uint64_t)1 << events[i].data.u64;
    }
    return ready;
}

/* --- Files and tap devices ---------------------------------------------- */

/* Opens path read-write, close-on-exec; nonblocking adds O_NONBLOCK. */
static inline int riad_unix_open_rw(const char *path, int nonblocking)
{
    return open(path, O_RDWR | O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0));
}

/* The size of the regular file fd in bytes, or -1 if it is not one. */
static inline int64_t riad_unix_regular_file_size(int fd)
{
    struct stat info;
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode))
        return -1;
    return (int64_t)info.st_size;
}

/* Whether a network interface named name exists. */
static inline int riad_unix_interface_exists(const char *name)
{
    return if_nametoindex(name) != 0;
}

/* Attaches the /dev/net/tun descriptor fd to the tap interface name, without
 * the packet-information header: each read or write is one Ethernet frame. */
static inline int riad_unix_tap_attach(int fd, const char *name, int vnet_header)
{
    struct ifreq request;
    memset(&request, 0, sizeof request);
    if (strlen(name) >= IFNAMSIZ) {
        errno = EINVAL;
        return -1;
    }
    strcpy(request.ifr_name, name);
    request.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_header ? IFF_VNET_HDR : 0);
    if (ioctl(fd, TUNSETIFF, &request) != 0)
        return -1;
    /* Offloads stay on a tap after its last user: one that had them would
     * hand this one 64 KiB segments and unfinished checksums. */
    if (!vnet_header)
        (void)ioctl(fd, TUNSETOFFLOAD, 0UL);
    return 0;
}

/* For a tap attached with a virtio-net header of header_size bytes: let the
 * host pass and take TCP segments of up to 64 KiB, checksums undone. */
static inline int riad_unix_tap_offload(int fd, int header_size)
{
    if (ioctl(fd, TUNSETVNETHDRSZ, &header_size) != 0)
        return -1;
    return ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6));
}

/* Longest interface name, without the terminating NUL. */
static const size_t RIAD_UNIX_IFNAME_MAX = IFNAMSIZ - 1;

/* --- Traps -------------------------------------------------------------- */

static inline const char *riad_unix_signal_name(int signal)
{
    switch (signal) {
    case SIGSEGV: return "SIGSEGV (bad memory access)";
    case SIGBUS: return "SIGBUS (bad memory access)";
    case SIGILL: return "SIGILL (illegal instruction: a Swift trap)";
    case SIGFPE: return "SIGFPE (arithmetic fault)";
    case SIGTRAP: return "SIGTRAP (breakpoint trap)";
    default: return "a fatal signal";
    }
}

static inline void riad_unix_put_hex(char *out, uint64_t value)
{
    for (int i = 0; i < 16; i++)
        out[i] = "0123456789abcdef"[(value >> (60 - 4 * i)) & 15];
}

/* What a fault prints, as the hvt runtime's trap handler does, before the
 * process exits with RIAD_UNIX_EXIT_ABORT. Only async-signal-safe calls. */
static inline void riad_unix_trap_handler(int signal, siginfo_t *info, void *context)
{
    (void)context;
    const char *prefix = "Riad: trap: ";
    const char *name = riad_unix_signal_name(signal);
    char address[] = " at address 0x0000000000000000\n";
    riad_unix_put_hex(address + 14, (uint64_t)(uintptr_t)info->si_addr);
    riad_unix_write_all(1, prefix, strlen(prefix));
    riad_unix_write_all(1, name, strlen(name));
    riad_unix_write_all(1, address, sizeof address - 1);
    _exit(RIAD_UNIX_EXIT_ABORT);
}

/* Installs riad_unix_trap_handler for the fault signals, on its own stack so
 * that a stack overflow is reported too. Returns 0 or -1. */
static inline int riad_unix_install_trap_handlers(void)
{
    static char stack[64 * 1024];
    stack_t alternate = { .ss_sp = stack, .ss_size = sizeof stack, .ss_flags = 0 };
    if (sigaltstack(&alternate, NULL) != 0)
        return -1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = riad_unix_trap_handler;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    const int signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        if (sigaction(signals[i], &action, NULL) != 0)
            return -1;
    }
    return 0;
}

/* Stops the timer and forgets an expiry it had: a wait with no deadline. */
static inline int riad_unix_timer_disarm(int timer_fd)
{
    struct itimerspec spec = { 0 };
    return timerfd_settime(timer_fd, 0, &spec, NULL);
}

/* Nanoseconds on CLOCK_BOOTTIME, the clock of Swift's ContinuousClock. */
static inline uint64_t riad_unix_boottime_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_BOOTTIME, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Runs one concurrency job (Sources/RiadConcurrency/concurrency.c). */
void riad_run_job(void *job);

/* Bytes malloc has handed out and not had back (glibc's mallinfo2). */
static inline uint64_t riad_unix_heap_in_use(void)
{
    struct mallinfo2 info = mallinfo2();
    return (uint64_t)info.uordblks + (uint64_t)info.hblkhd;
}

#endif /* RIAD_UNIX_H */
