/*
 * runtime.h: plumbing between the files of the hvt runtime. Not for the
 * Swift side (that is riad_hvt_runtime.h).
 *
 * The constants are also included by start.S, so the C declarations are
 * hidden from the assembler.
 */
#ifndef RIAD_HVT_RUNTIME_INTERNAL_H
#define RIAD_HVT_RUNTIME_INTERNAL_H

/*
 * The stack: the top RIAD_HVT_STACK_SIZE bytes of guest memory, below the
 * address the tender put in %rsp. The heap ends where the stack's region
 * begins. There is no guard page (the runtime keeps the tender's identity
 * map and builds no page tables of its own), so overflowing the stack would
 * run into the heap; a canary in the stack's lowest
 * RIAD_HVT_STACK_CANARY_SIZE bytes detects that after the fact
 * (riad_hvt_stack_check, called by riad_hvt_yield and at exit).
 */
#define RIAD_HVT_STACK_SIZE (256 * 1024)
#define RIAD_HVT_STACK_CANARY_SIZE 64

/* GDT selectors (start.S): ring-0 code and data, ring-3 data and code. */
#define SELECTOR_KERNEL_CODE 0x08
#define SELECTOR_KERNEL_DATA 0x10
#define SELECTOR_USER_DATA (0x18 | 3)
#define SELECTOR_USER_CODE (0x20 | 3)
#define SELECTOR_TSS 0x28
/* A 64-bit TSS: only rsp0 is used, by traps from ring 3. */
#define RIAD_HVT_TSS_SIZE 104
/* The ring-0 stack traps run on, and the ring-3 stack the trap report runs on. */
#define RIAD_HVT_RING0_STACK_SIZE (16 * 1024)
#define RIAD_HVT_TRAP_STACK_SIZE (16 * 1024)

/* Size of the static TLS area below the thread pointer (start.S). */
#define RIAD_HVT_TLS_SIZE 1024
/* Size of the thread control block at the thread pointer (start.S). */
#define RIAD_HVT_TCB_SIZE 64
/* Where x86-64 Linux code (Swift's stack protector) reads its canary. */
#define RIAD_HVT_TCB_STACK_GUARD_OFFSET 0x28

#ifndef __ASSEMBLER__

#include <stdbool.h>
#include <stdint.h>

#include "riad_hvt_runtime.h"

/* start.S */
extern uint64_t riad_hvt_initial_rsp;                /* %rsp at entry */
/* The four page directories (one per GiB) of start.S's page tables. */
extern uint64_t riad_hvt_page_directory[4 * 512];
/* CPUID, read in ring 0 at start (cpuid may fault in ring 3). */
extern uint32_t riad_hvt_cpuid_max_leaf, riad_hvt_cpuid_1_ecx, riad_hvt_cpuid_7_ebx;
extern uint64_t riad_hvt_tcb[RIAD_HVT_TCB_SIZE / 8]; /* the %fs base */
__attribute__((noreturn)) void
riad_hvt_runtime_start(const struct riad_hvt_boot_info *boot_info);

/* net.c: takes the net ring if the tender offers it. */
void riad_hvt_net_init(const struct riad_hvt_boot_info *boot_info);
/* The kernel is about to wait in POLL (clock.c). */
void riad_hvt_net_waited(void);
/* The devices with a frame waiting, found without an exit (through the
 * ring, while the tender's I/O thread is awake); 0 when none is, or when
 * that cannot be known without one. */
uint64_t riad_hvt_net_poll(void);
/* Whether riad_hvt_net_poll can look without an exit now. */
bool riad_hvt_net_busy(void);

/* console.c */
void riad_console_init(void);
/* End a partly buffered line so that a message starts on its own line. */
void riad_console_break_line(void);

/* clock.c */
void riad_clock_init(const struct riad_hvt_boot_info *boot_info);

/* random.c */
void riad_random_init(void);

/* exceptions.c: ring 3, after vectors.S left ring 0. */
struct riad_trap_frame;
__attribute__((noreturn)) void riad_hvt_trap(struct riad_trap_frame *frame);

/* platform.c: abort if the stack canary was overwritten. */
void riad_hvt_stack_check(void);

#endif /* __ASSEMBLER__ */

#endif /* RIAD_HVT_RUNTIME_INTERNAL_H */
