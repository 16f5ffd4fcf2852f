/*
 * riad_hvt_runtime.h: what the hvt kernel runtime (runtime/, C and assembly)
 * offers the Swift bindings in PlatformHvt.
 *
 * Boot sequence: the tender enters _start (runtime/start.S) in 64-bit mode
 * with %rdi = boot info and %rsp = top of memory - 8. The runtime sets up its
 * stack, SSE, the TLS base, exception handlers, the heap, the clock and the
 * CSPRNG, then calls riad_hvt_main() (defined by the kernel's generated main in
 * Swift). When riad_hvt_main returns, the runtime halts with its status.
 */
#ifndef RIAD_HVT_RUNTIME_H
#define RIAD_HVT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "riad_hvt_abi.h"
#include "riad_mft_abi.h"

/* Exit statuses shared by every target. */
#define RIAD_EXIT_SUCCESS 0
#define RIAD_EXIT_FAILURE 1
#define RIAD_EXIT_USAGE 64  /* bad runtime arguments */
#define RIAD_EXIT_ABORT 255 /* abort, trap, fatal error */

/* Defined by the kernel (generated main): returns the exit status. */
int riad_hvt_main(void);

/* The boot info the tender passed; valid for the kernel's lifetime. */
const struct riad_hvt_boot_info *riad_hvt_get_boot_info(void);

/* The command line (the kernel's arguments, space separated), NUL-terminated. */
const char *riad_hvt_cmdline(void);

/* The manifest the tender attached (every entry attached). */
const struct riad_mft *riad_hvt_manifest(void);
const struct riad_mft_entry *riad_hvt_manifest_entry(uint32_t index);

/* Console: write bytes as they are (flushes the putchar buffer first). */
void riad_hvt_console_write(const char *data, size_t length);
void riad_hvt_console_flush(void);

/* Monotonic nanoseconds since boot, from the TSC. Never decreases. */
uint64_t riad_hvt_monotonic_ns(void);
/* Wall-clock nanoseconds since the UNIX epoch (WALLTIME at boot + TSC). */
uint64_t riad_hvt_wall_ns(void);

/*
 * Sleep until the monotonic clock reaches deadline_ns or a device has input,
 * whichever is first. Returns the set of device handles with input (bit h for
 * handle h), 0 on timeout.
 */
uint64_t riad_hvt_yield(uint64_t deadline_ns);

/* Stop the kernel with this exit status. Flushes the console first. */
__attribute__((noreturn)) void riad_hvt_halt(int status);
/* Print "Riad: abort: <message>" and halt with RIAD_EXIT_ABORT. */
__attribute__((noreturn)) void riad_hvt_abort(const char *message);

/*
 * Network devices (net.c): through the tender's shared net ring when it
 * offers one, through the NET_* hypercalls otherwise. One thread only.
 */
/* 1 if the tender offered NET_OFFLOAD: every frame starts with a
 * riad_virtio_net_hdr (riad_hvt_abi.h) and may be up to
 * RIAD_HVT_OFFLOAD_FRAME_MAX bytes. */
int riad_hvt_net_offload(void);
/* A buffer of at least `length` bytes to build one frame in, for
 * riad_hvt_net_send; NULL if no such buffer can be had. */
uint8_t *riad_hvt_net_transmit_buffer(size_t length);
/* Sends the `length` bytes at `buffer` (from riad_hvt_net_transmit_buffer)
 * on device `handle`. Returns a riad_hvt_result. */
int riad_hvt_net_send(uint64_t handle, uint8_t *buffer, size_t length);
/* The next frame received on `handle`, into buffers of `capacity` bytes
 * (at least the device's MTU + 14); its length in *length. The frame is
 * lent until the next call; NULL when none is waiting. */
const uint8_t *riad_hvt_net_receive(uint64_t handle, size_t capacity, size_t *length);

/* What the tender reports of this run (riad-hvt --stats, live), or NULL
 * when it offers no TENDER_STATS (solo5-hvt). Read-only; counters grow. */
const struct riad_hvt_tender_stats *riad_hvt_tender_stats(void);

/* Heap statistics, in bytes and counts. */
struct riad_heap_stats {
    uint64_t heap_size;   /* bytes managed (kernel end .. stack guard) */
    uint64_t in_use;      /* bytes allocated now, headers included */
    uint64_t high_water;  /* largest in_use ever */
    uint64_t allocations; /* successful allocations */
    uint64_t frees;       /* frees of non-NULL pointers */
    uint64_t failures;    /* allocations refused (out of memory) */
};
void riad_hvt_heap_stats(struct riad_heap_stats *out);

/* Runs one concurrency job (a task's partial run) on the generic executor
 * (Sources/RiadConcurrency/concurrency.c). */
void riad_run_job(void *job);

/* Fill buffer with bytes from the kernel's CSPRNG (ChaCha20). */
void arc4random_buf(void *buffer, size_t length);

#endif /* RIAD_HVT_RUNTIME_H */
