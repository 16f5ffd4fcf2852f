/*
 * riad_hvt_ring.h: the hvt shared network ring (Solo5's HVT_FEATURE_RING_IO).
 *
 * One header for both sides, like riad_hvt_abi.h. The layout equals Solo5's
 * include/hvt_ring.h on x86_64 (abi_checks.c asserts every offset), so a
 * Riad kernel uses upstream solo5-hvt's ring and riad-hvt serves Solo5's
 * ring kernels.
 *
 * The protocol, as the two sides keep it:
 * - The tender offers the ring by setting RIAD_HVT_FEATURE_RING_IO in the
 *   boot info's host_features and the ring's address in net_ring. The ring
 *   lies just above the memory the boot info's mem_size gives the kernel, so
 *   no buffer the kernel names can overlap it. A tender that does not offer
 *   it leaves both 0, and the kernel uses the NET_* hypercalls.
 * - The kernel fills entries[ent_tail % SIZE] and then advances ent_tail;
 *   the tender consumes entries in order and advances ent_head. A write is
 *   done when ent_head has passed it (the kernel may then reuse its
 *   buffer); it has no completion. A read is answered, in order, by a
 *   completion at commits[com_tail % SIZE] (ret and len as NET_READ's), and
 *   the kernel advances com_head once it has taken it.
 * - Each side writes only its own cache line of indices: the kernel
 *   ent_tail and com_head, the tender ent_head, com_tail and needs_kick.
 * - The tender's I/O thread polls ent_tail for a while, then sets
 *   needs_kick, checks once more and sleeps. After advancing ent_tail the
 *   kernel issues a full barrier and, if needs_kick is set, writes to port
 *   RIAD_HVT_RING_KICK_PIO (an ioeventfd: it wakes the thread without the
 *   tender's run loop seeing an exit). Both sides "store mine, then load
 *   theirs", so neither can miss the other.
 * - At most SIZE - 1 entries are outstanding (ent_tail - ent_head).
 */
#ifndef RIAD_HVT_RING_H
#define RIAD_HVT_RING_H

#include <stdint.h>

#include "riad_hvt_abi.h"

#define RIAD_HVT_RING_SIZE 1024u
#define RIAD_HVT_RING_MASK (RIAD_HVT_RING_SIZE - 1)

/* The port whose write wakes the tender's I/O thread. */
#define RIAD_HVT_RING_KICK_PIO 0x600

/* Operations of a ring entry. */
#define RIAD_HVT_RING_NET_WRITE 1u
#define RIAD_HVT_RING_NET_READ 2u

/* A request: written by the kernel, read by the tender. */
struct riad_hvt_ring_entry {
    uint32_t operation; /* RIAD_HVT_RING_NET_* */
    uint32_t handle;    /* the device's manifest index */
    riad_gpa_t data;    /* the frame (write) or the buffer to fill (read) */
    uint32_t len;       /* the frame's length, or the buffer's capacity */
    uint32_t id;        /* echoed in a read's completion */
    uint64_t reserved;
};

/* A read's answer: written by the tender, read by the kernel. */
struct riad_hvt_ring_commit {
    uint32_t id;
    int32_t ret;  /* riad_hvt_result */
    uint32_t len; /* bytes received when ret is RIAD_HVT_R_OK */
    uint32_t reserved;
};

struct riad_hvt_ring {
    /* Cache line 0: written by the kernel only. */
    volatile uint32_t ent_tail;
    volatile uint32_t com_head;
    uint8_t pad0[56];
    /* Cache line 1: written by the tender only. */
    volatile uint32_t ent_head;
    volatile uint32_t com_tail;
    volatile uint32_t needs_kick;
    uint8_t pad1[52];
    struct riad_hvt_ring_entry entries[RIAD_HVT_RING_SIZE];
    struct riad_hvt_ring_commit commits[RIAD_HVT_RING_SIZE];
};

/*
 * Barriers. x86 keeps stores in order and loads in order, so publishing an
 * index needs only the compiler not to reorder; "store mine, then load
 * theirs" (the needs_kick handshake) needs mfence.
 */
static inline void riad_hvt_ring_compiler_barrier(void)
{
    __asm__ __volatile__("" ::: "memory");
}

static inline void riad_hvt_ring_full_barrier(void)
{
    __asm__ __volatile__("mfence" ::: "memory");
}

/* A spin-wait hint. */
static inline void riad_hvt_ring_relax(void)
{
    __asm__ __volatile__("pause" ::: "memory");
}

#endif /* RIAD_HVT_RING_H */
