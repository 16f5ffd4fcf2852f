/*
 * riad_tender_c.h: the few Linux interfaces Swift cannot import directly.
 *
 * ioctl(2) and prctl(2) are variadic and the KVM request numbers are
 * function-like macros, so both are exposed here as typed inline functions
 * and constants. Nothing else of the tender is written in C.
 */
#ifndef RIAD_TENDER_C_H
#define RIAD_TENDER_C_H

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int riad_ioctl_ptr(int fd, unsigned long request, void *arg)
{
    return ioctl(fd, request, arg);
}

static inline int riad_ioctl_val(int fd, unsigned long request, unsigned long arg)
{
    return ioctl(fd, request, arg);
}

static const unsigned long RIAD_KVM_GET_API_VERSION = KVM_GET_API_VERSION;
static const unsigned long RIAD_KVM_CREATE_VM = KVM_CREATE_VM;
static const unsigned long RIAD_KVM_CHECK_EXTENSION = KVM_CHECK_EXTENSION;
static const unsigned long RIAD_KVM_GET_VCPU_MMAP_SIZE = KVM_GET_VCPU_MMAP_SIZE;
static const unsigned long RIAD_KVM_GET_SUPPORTED_CPUID = KVM_GET_SUPPORTED_CPUID;
static const unsigned long RIAD_KVM_SET_USER_MEMORY_REGION = KVM_SET_USER_MEMORY_REGION;
static const unsigned long RIAD_KVM_CREATE_VCPU = KVM_CREATE_VCPU;
static const unsigned long RIAD_KVM_SET_CPUID2 = KVM_SET_CPUID2;
static const unsigned long RIAD_KVM_GET_SREGS = KVM_GET_SREGS;
static const unsigned long RIAD_KVM_SET_SREGS = KVM_SET_SREGS;
static const unsigned long RIAD_KVM_GET_REGS = KVM_GET_REGS;
static const unsigned long RIAD_KVM_SET_REGS = KVM_SET_REGS;
static const unsigned long RIAD_KVM_RUN = KVM_RUN;
static const unsigned long RIAD_KVM_GET_TSC_KHZ = KVM_GET_TSC_KHZ;
static const unsigned long RIAD_KVM_IOEVENTFD = KVM_IOEVENTFD;
static const unsigned long RIAD_KVM_CAP_IOEVENTFD = KVM_CAP_IOEVENTFD;
static const uint32_t RIAD_KVM_IOEVENTFD_FLAG_PIO = KVM_IOEVENTFD_FLAG_PIO;
static const unsigned long RIAD_TUNSETIFF = TUNSETIFF;
static const unsigned long RIAD_TUNSETVNETHDRSZ = TUNSETVNETHDRSZ;
static const unsigned long RIAD_TUNSETOFFLOAD = TUNSETOFFLOAD;
static const uint32_t RIAD_AUDIT_ARCH_X86_64 = AUDIT_ARCH_X86_64;

/* Room for this many CPUID entries in riad_cpuid (KVM reports ~60). */
#define RIAD_CPUID_MAX_ENTRIES 128

/* struct kvm_cpuid2 ends in a flexible array; this gives it fixed room. */
struct riad_cpuid {
    struct kvm_cpuid2 header;
    struct kvm_cpuid_entry2 entries[RIAD_CPUID_MAX_ENTRIES];
};

/* The data of a KVM_EXIT_IO exit, which sits at run + io.data_offset. */
static inline const void *riad_kvm_io_data(const struct kvm_run *run)
{
    return (const uint8_t *)run + run->io.data_offset;
}

static inline int riad_prctl(int option, unsigned long a2, unsigned long a3)
{
    return prctl(option, a2, a3, 0, 0);
}

static inline int riad_errno(void) { return errno; }

/* seccomp(2) with TSYNC: the filter for every thread of the process. 0 on
 * success, -1 with errno, or the id of a thread that could not take it. */
static inline long riad_seccomp_filter_all_threads(struct sock_fprog *program)
{
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, program);
}

/* Signals that stop the tender (signals.c): SIGINT and SIGTERM set a flag
 * and make the vCPU leave KVM_RUN at once (immediate_exit), so the run loop
 * sees them; without SA_RESTART a blocking wait returns EINTR. */
int riad_catch_stop_signals(struct kvm_run *run);
/* The signal received, or 0. */
int riad_stop_signal_received(void);

/* Blocks every signal in the calling thread; *previous gets the old mask
 * (for a thread that must never take a signal: it inherits the mask). */
static inline int riad_block_all_signals(sigset_t *previous)
{
    sigset_t all;
    sigfillset(&all);
    return pthread_sigmask(SIG_SETMASK, &all, previous);
}

static inline int riad_restore_signals(const sigset_t *previous)
{
    return pthread_sigmask(SIG_SETMASK, previous, NULL);
}

/* A raw system call with no arguments, for the seccomp probe. */
static inline long riad_syscall0(long number) { return syscall(number); }

/*
 * Loads and stores of the ring's indices in guest memory, which the guest
 * changes under the tender's feet: each is one volatile access, so the
 * compiler neither caches nor tears it.
 */
static inline uint32_t riad_load_u32(const void *address)
{
    return *(const volatile uint32_t *)address;
}

static inline void riad_store_u32(void *address, uint32_t value)
{
    *(volatile uint32_t *)address = value;
}

/* A 64-bit counter that one thread writes and another may read. */
static inline uint64_t riad_load_u64(const void *address)
{
    return *(const volatile uint64_t *)address;
}

static inline void riad_store_u64(void *address, uint64_t value)
{
    *(volatile uint64_t *)address = value;
}

#endif /* RIAD_TENDER_C_H */
