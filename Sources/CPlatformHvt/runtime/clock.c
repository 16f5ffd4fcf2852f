/*
 * clock.c: time from the TSC, and waiting for I/O with the POLL hypercall.
 *
 * There is no timer interrupt. The tender reports the TSC frequency in the
 * boot info (cpu_cycle_freq, Hz) and the wall-clock time once through the
 * WALLTIME hypercall; everything else is computed from `rdtsc`:
 *
 *   monotonic_ns = (tsc - tsc_at_boot) * 10^9 / freq
 *   wall_ns      = walltime_at_boot + monotonic_ns
 *
 * The division is precomputed as a 64.64 fixed-point factor (whole and
 * fraction), so reading the clock is two multiplications and a shift, with
 * no 128-bit division at run time and no overflow for centuries of uptime.
 * Truncating the fraction loses under 2^-64 ns per tick: under 1 ns in 2^64
 * ticks, i.e. nothing.
 */
#include "runtime.h"

/* How long riad_hvt_yield looks for frames through the net ring before it
 * waits in POLL. */
#ifndef BUSY_POLL_NS
#define BUSY_POLL_NS 50000ULL
#endif

/* The longest single POLL; longer waits are several in a row, so that a
 * tender converting the timeout to its own types never sees a huge value. */
#define YIELD_MAX_TIMEOUT_NS (60ULL * 1000 * 1000 * 1000)

#define NS_PER_SECOND 1000000000ULL

static uint64_t tsc_at_boot;
static uint64_t ns_per_tick_whole; /* integer part of 10^9 / freq */
static uint64_t ns_per_tick_frac;  /* fraction part, in units of 2^-64 */
static uint64_t wall_ns_at_boot;
static uint64_t last_ns; /* to guarantee the clock never goes back */

/* `lfence` keeps rdtsc from being executed before earlier instructions. */
static inline uint64_t read_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return (uint64_t)hi << 32 | lo;
}

void riad_clock_init(const struct riad_hvt_boot_info *boot_info)
{
    uint64_t freq = boot_info->cpu_cycle_freq;
    if (freq == 0)
        riad_hvt_abort("clock: the tender reported a TSC frequency of 0");

    ns_per_tick_whole = NS_PER_SECOND / freq;
    uint64_t remainder = NS_PER_SECOND % freq;
    /* frac = remainder * 2^64 / freq: a 128-by-64 division whose quotient
     * fits in 64 bits because remainder < freq. */
    uint64_t frac, unused;
    __asm__("divq %[freq]"
            : "=a"(frac), "=d"(unused)
            : "a"(0ULL), "d"(remainder), [freq] "rm"(freq)
            : "cc");
    ns_per_tick_frac = frac;

    volatile struct riad_hvt_hc_walltime hc = {0};
    riad_hvt_hypercall(RIAD_HVT_HYPERCALL_WALLTIME, &hc);
    tsc_at_boot = read_tsc();
    wall_ns_at_boot = hc.nsecs;
    last_ns = 0;
}

uint64_t riad_hvt_monotonic_ns(void)
{
    uint64_t ticks = read_tsc() - tsc_at_boot;
    uint64_t ns = ticks * ns_per_tick_whole +
                  (uint64_t)(((unsigned __int128)ticks * ns_per_tick_frac) >>
                             64);
    /* The TSC is invariant on a KVM guest, but never let a glitch (or a
     * migration) show time running backwards. */
    if (ns < last_ns)
        return last_ns;
    last_ns = ns;
    return ns;
}

uint64_t riad_hvt_wall_ns(void)
{
    return wall_ns_at_boot + riad_hvt_monotonic_ns();
}

uint64_t riad_hvt_yield(uint64_t deadline_ns)
{
    riad_hvt_stack_check();
    /* Whatever was printed should be visible before we sleep. */
    riad_hvt_console_flush();
    riad_hvt_net_waited();
    /* A POLL is a VM exit. While the tender's net ring is busy, look for
     * frames through it a little first: a stream's next frame usually
     * comes sooner than an exit and its return. */
    uint64_t spin_end = riad_hvt_monotonic_ns() + BUSY_POLL_NS;
    if (spin_end > deadline_ns)
        spin_end = deadline_ns;
    while (riad_hvt_net_busy()) {
        uint64_t ready = riad_hvt_net_poll();
        if (ready != 0)
            return ready;
        if (riad_hvt_monotonic_ns() >= spin_end)
            break;
    }
    for (;;) {
        uint64_t now = riad_hvt_monotonic_ns();
        uint64_t timeout = deadline_ns > now ? deadline_ns - now : 0;
        if (timeout > YIELD_MAX_TIMEOUT_NS)
            timeout = YIELD_MAX_TIMEOUT_NS;
        volatile struct riad_hvt_hc_poll hc = {.timeout_nsecs = timeout};
        riad_hvt_hypercall(RIAD_HVT_HYPERCALL_POLL, &hc);
        if (hc.ret != 0)
            return hc.ready_set;
        /* Nothing ready: done if the deadline passed (always so when the
         * timeout was 0), else the POLL was capped or woke early. */
        if (riad_hvt_monotonic_ns() >= deadline_ns)
            return 0;
    }
}
