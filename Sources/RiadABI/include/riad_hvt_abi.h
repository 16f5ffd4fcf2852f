/*
 * riad_hvt_abi.h: the hvt guest/tender boundary (Solo5 hvt ABI version 2).
 *
 * One header for both sides. The kernel's bindings (PlatformHvt and its C
 * runtime) and the tender (RiadTender) import it, so no structure is written
 * twice. Layouts match Solo5's include/hvt_abi.h on x86_64 so that Riad
 * kernels run under solo5-hvt and riad-hvt runs Solo5 kernels.
 *
 * Rule for changes: any change to a layout, a number or a meaning here is an
 * ABI change and must bump RIAD_HVT_ABI_VERSION (and break compatibility with
 * Solo5, so do not, unless Solo5 bumps first).
 *
 * Guest pointers are carried as riad_gpa_t (a guest-physical address, the
 * same as the guest's virtual address because the guest is identity-mapped).
 * The tender can never dereference one by accident: it must translate it
 * through its bounds-checked guest-memory accessor.
 */
#ifndef RIAD_HVT_ABI_H
#define RIAD_HVT_ABI_H

#include <stdint.h>

#define RIAD_HVT_ABI_VERSION 2

/* Lowest guest address at which a kernel may be loaded. */
#define RIAD_HVT_GUEST_MIN_BASE 0x100000ULL

/* Hypercall n is an `outl` of a 32-bit guest address to port BASE + n. */
#define RIAD_HVT_HYPERCALL_PIO_BASE 0x500

/* A guest-physical address. Never a host pointer. */
typedef uint64_t riad_gpa_t;

/*
 * Feature bits the tender offers in host_features.
 * RING_IO: the shared network ring of riad_hvt_ring.h, at net_ring (Solo5's
 * HVT_FEATURE_RING_IO). Bits from 16 up are Riad's own: upstream tenders
 * never set them, so a Riad kernel under solo5-hvt sees them clear.
 */
#define RIAD_HVT_FEATURE_RING_IO (1U << 0)

/*
 * NET_OFFLOAD (Riad's): every frame the kernel and the tender exchange on a
 * network device, by the ring or by NET_READ/NET_WRITE, starts with a
 * struct riad_virtio_net_hdr, and its length counts it. The kernel may send
 * TCP segments of up to 64 KiB for the host to cut (gso_type, gso_size)
 * and leave their checksum to the host (NEEDS_CSUM); the host may give it
 * such segments, with a checksum not yet computed (NEEDS_CSUM) or already
 * checked (DATA_VALID). The tender offers it only to a kernel whose
 * "Riad" FEAT note (riad_elf_abi.h) asks for it, so a Solo5 kernel never
 * sees it.
 */
#define RIAD_HVT_FEATURE_NET_OFFLOAD (1U << 16)

/*
 * TENDER_STATS (Riad's): the tender keeps struct riad_hvt_tender_stats up to
 * date at riad_hvt_tender_stats_address(boot info), in the read-only low
 * memory after the command line, for the kernel's monitoring. Asked for,
 * like NET_OFFLOAD, with the FEAT note.
 */
#define RIAD_HVT_FEATURE_TENDER_STATS (1U << 17)

/* The virtio-net header (virtio 1.x, 5.1.6; Linux's virtio_net_hdr_v1). */
struct riad_virtio_net_hdr {
    uint8_t flags;        /* RIAD_VIRTIO_NET_HDR_F_* */
    uint8_t gso_type;     /* RIAD_VIRTIO_NET_HDR_GSO_* */
    uint16_t hdr_len;     /* Ethernet + IP + TCP header bytes of a GSO frame */
    uint16_t gso_size;    /* payload bytes per segment the host cuts */
    uint16_t csum_start;  /* where the checksummed bytes start */
    uint16_t csum_offset; /* where, after csum_start, the checksum goes */
    uint16_t num_buffers; /* 0 here */
};

#define RIAD_VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define RIAD_VIRTIO_NET_HDR_F_DATA_VALID 2
#define RIAD_VIRTIO_NET_HDR_GSO_NONE 0
#define RIAD_VIRTIO_NET_HDR_GSO_TCPV4 1
#define RIAD_VIRTIO_NET_HDR_GSO_TCPV6 4
#define RIAD_VIRTIO_NET_HDR_GSO_ECN 0x80

/* The largest frame with NET_OFFLOAD: the header, Ethernet's 14 bytes and
 * an IP datagram of 64 KiB. */
#define RIAD_HVT_OFFLOAD_FRAME_MAX (12 + 14 + 65535)

/*
 * The tender passes the address of this structure in %rdi to the kernel's
 * entry point. It lives in the read-only low memory below
 * RIAD_HVT_GUEST_MIN_BASE. Fields are only ever appended.
 */
struct riad_hvt_boot_info {
    uint64_t mem_size;       /* guest memory in bytes */
    uint64_t kernel_end;     /* first address after the loaded kernel */
    uint64_t cpu_cycle_freq; /* TSC frequency in Hz */
    riad_gpa_t cmdline;      /* NUL-terminated command line */
    riad_gpa_t mft;          /* the tender's copy of the manifest */
    uint32_t host_features;  /* offered by the tender */
    uint32_t guest_features; /* accepted by the guest */
    riad_gpa_t net_ring;     /* the net ring when RING_IO is offered, else 0 */
};

/* Size of the command-line area, including the terminating NUL. */
#define RIAD_HVT_CMDLINE_SIZE 8192

enum riad_hvt_hypercall {
    RIAD_HVT_HYPERCALL_WALLTIME = 1,
    RIAD_HVT_HYPERCALL_PUTS = 2,
    RIAD_HVT_HYPERCALL_POLL = 3,
    RIAD_HVT_HYPERCALL_BLOCK_WRITE = 4,
    RIAD_HVT_HYPERCALL_BLOCK_READ = 5,
    RIAD_HVT_HYPERCALL_NET_WRITE = 6,
    RIAD_HVT_HYPERCALL_NET_READ = 7,
    RIAD_HVT_HYPERCALL_HALT = 8,
    RIAD_HVT_HYPERCALL_MAX = 9
};

/*
 * Result codes in the `ret` fields, as in Solo5's solo5_result_t.
 */
enum riad_hvt_result {
    RIAD_HVT_R_OK = 0,     /* done */
    RIAD_HVT_R_AGAIN = 1,  /* would block: no frame to read */
    RIAD_HVT_R_EINVAL = 2, /* bad handle, offset, length or address */
    RIAD_HVT_R_EUNSPEC = 3 /* host I/O error */
};

/* WALLTIME: OUT nsecs since the UNIX epoch. */
struct riad_hvt_hc_walltime {
    uint64_t nsecs; /* OUT */
};

/* PUTS: write len bytes at data to the console. */
struct riad_hvt_hc_puts {
    riad_gpa_t data; /* IN */
    uint64_t len;    /* IN */
};

/* BLOCK_WRITE: write len bytes at data to the device at byte offset. */
struct riad_hvt_hc_block_write {
    uint64_t handle; /* IN */
    uint64_t offset; /* IN: a multiple of the block size */
    riad_gpa_t data; /* IN */
    uint64_t len;    /* IN: exactly one block */
    int32_t ret;     /* OUT: riad_hvt_result */
};

/* BLOCK_READ: read len bytes at byte offset into data. */
struct riad_hvt_hc_block_read {
    uint64_t handle; /* IN */
    uint64_t offset; /* IN: a multiple of the block size */
    riad_gpa_t data; /* IN */
    uint64_t len;    /* IN/OUT */
    int32_t ret;     /* OUT: riad_hvt_result */
};

/* NET_WRITE: send one Ethernet frame of len bytes. */
struct riad_hvt_hc_net_write {
    uint64_t handle; /* IN */
    riad_gpa_t data; /* IN */
    uint64_t len;    /* IN */
    int32_t ret;     /* OUT: riad_hvt_result */
};

/* NET_READ: receive one frame into data (capacity len); len is set to its size. */
struct riad_hvt_hc_net_read {
    uint64_t handle; /* IN */
    riad_gpa_t data; /* IN */
    uint64_t len;    /* IN/OUT */
    int32_t ret;     /* OUT: riad_hvt_result */
};

/*
 * POLL: wait at most timeout_nsecs for input on any device; ready_set has
 * bit h set when device handle h has input. ret is 1 if anything is ready.
 */
struct riad_hvt_hc_poll {
    uint64_t timeout_nsecs; /* IN: relative to the call */
    uint64_t ready_set;     /* OUT */
    int32_t ret;            /* OUT */
};

/*
 * HALT: stop the guest. The tender returns exit_status as its own status.
 * cookie, if not 0, points at RIAD_HVT_HALT_COOKIE_MAX bytes the kernel
 * leaves for the tender (unused by riad-hvt beyond a bounds check).
 */
#define RIAD_HVT_HALT_COOKIE_MAX 512

struct riad_hvt_hc_halt {
    riad_gpa_t cookie;   /* IN */
    int32_t exit_status; /* IN */
};

/* What a run cost so far, as riad-hvt --stats prints it. Each counter only
 * grows; the kernel reads them without locks (they are 64-bit aligned). */
struct riad_hvt_tender_stats {
    uint64_t exits;       /* returns from KVM_RUN */
    uint64_t other_exits; /* exits that were no hypercall */
    uint64_t hypercall_frames_sent, hypercall_bytes_sent;
    uint64_t hypercall_frames_received, hypercall_bytes_received;
    uint64_t ring_frames_sent, ring_bytes_sent;
    uint64_t ring_frames_received, ring_bytes_received;
    uint64_t ring_empty_reads; /* ring reads that found no frame */
    uint64_t ring_wake_ups;    /* times a kick woke the I/O thread */
    uint64_t hypercalls[RIAD_HVT_HYPERCALL_MAX]; /* by number; [0] unused */
};

/* Where the tender keeps the statistics: after the command line. */
static inline uint64_t riad_hvt_tender_stats_address(uint64_t cmdline)
{
    return (cmdline + RIAD_HVT_CMDLINE_SIZE + 63) & ~63ULL;
}

/*
 * Guest side: perform hypercall n with the structure at arg. The structure
 * must live below 4 GiB (guest memory is never larger).
 *
 * The hvt ABI's hypercall is `outl %eax, %dx` with %eax the structure's
 * address and %dx RIAD_HVT_HYPERCALL_PIO_BASE + n. A Riad kernel runs its
 * code in ring 3 (see Sources/CPlatformHvt/runtime/start.S for why), where
 * `outl` is not allowed, so it traps to its runtime's ring-0 handler with
 * `ud2` followed by RIAD_HVT_HYPERCALL_TRAP_MAGIC, and that handler does the
 * `outl` with the same registers. The tender sees the ABI unchanged. The
 * "memory" clobber is the only barrier x86 needs across the exit.
 */
#define RIAD_HVT_HYPERCALL_TRAP_MAGIC 0x64616952 /* "Riad" */

static inline void riad_hvt_hypercall(int n, volatile void *arg)
{
#if defined(__x86_64__)
    __asm__ __volatile__("ud2\n\t.long 0x64616952"
                         :
                         : "a"((uint32_t)(uint64_t)arg),
                           "d"((uint16_t)(RIAD_HVT_HYPERCALL_PIO_BASE + n))
                         : "memory");
#else
    (void)n;
    (void)arg;
#endif
}

#endif /* RIAD_HVT_ABI_H */
