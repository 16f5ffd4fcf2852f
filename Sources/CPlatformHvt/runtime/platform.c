/*
 * platform.c: the runtime's start, its exit paths and the boot-info
 * accessors.
 *
 * Memory layout once started (addresses grow upwards):
 *
 *   0x100000                kernel image (.text .rodata .data .bss)
 *   _end / kernel_end       (rounded up to a page) heap start
 *   ...                     heap
 *   stack limit             heap end; lowest RIAD_HVT_STACK_CANARY_SIZE
 *                           bytes of the stack hold a canary
 *   ...                     stack (RIAD_HVT_STACK_SIZE bytes), grows down
 *   initial %rsp            top of guest memory - 8
 */
#include <stdbool.h>

#include "heap.h"
#include "libc.h"
#include "riad_hvt_ring.h"
#include "runtime.h"

#define PAGE_SIZE 4096ULL
#define STACK_CANARY_WORD 0x5269616453746b21ULL /* "RiadStk!" */

/* From the linker script: the first address after .bss. */
extern char _end[];

/*
 * Read by code compiled with -fstack-protector for targets whose canary is a
 * global. (Swift for x86_64-linux reads %fs:0x28 instead; platform sets
 * both.) The initial value, used until the CSPRNG is up, has a zero low
 * byte like the random one, so string functions cannot copy across it.
 */
uintptr_t __stack_chk_guard = 0x595e9fbd94fda700ULL;

static const struct riad_hvt_boot_info *boot;
static uint64_t *stack_canary;

static uint64_t align_up(uint64_t value, uint64_t alignment)
{
    return (value + alignment - 1) & ~(alignment - 1);
}

static void set_up_memory(const struct riad_hvt_boot_info *boot_info)
{
    uint64_t kernel_end = boot_info->kernel_end;
    if (kernel_end < (uint64_t)(uintptr_t)_end)
        kernel_end = (uint64_t)(uintptr_t)_end;
    uint64_t heap_start = align_up(kernel_end, PAGE_SIZE);

    uint64_t stack_top = riad_hvt_initial_rsp;
    if (stack_top > boot_info->mem_size)
        stack_top = boot_info->mem_size;
    stack_top &= ~15ULL;
    if (stack_top < heap_start ||
        stack_top - heap_start < RIAD_HVT_STACK_SIZE + PAGE_SIZE)
        riad_hvt_abort("not enough guest memory for the kernel's stack");
    uint64_t stack_limit = (stack_top - RIAD_HVT_STACK_SIZE) & ~(PAGE_SIZE - 1);

    stack_canary = (uint64_t *)(uintptr_t)stack_limit;
    for (size_t i = 0; i < RIAD_HVT_STACK_CANARY_SIZE / 8; i++)
        stack_canary[i] = STACK_CANARY_WORD ^ i;

    riad_heap_init((void *)(uintptr_t)heap_start, stack_limit - heap_start);
}

void riad_hvt_stack_check(void)
{
    if (stack_canary == NULL)
        return;
    for (size_t i = 0; i < RIAD_HVT_STACK_CANARY_SIZE / 8; i++)
        if (stack_canary[i] != (STACK_CANARY_WORD ^ i))
            riad_hvt_abort("stack overflow: the stack grew past its "
                           "RIAD_HVT_STACK_SIZE bytes into the heap");
}

static void seed_stack_protector(void)
{
    uint64_t guard;
    arc4random_buf(&guard, sizeof guard);
    guard &= ~0xffULL; /* a zero byte stops string overruns at the canary */
    __stack_chk_guard = guard;
    riad_hvt_tcb[RIAD_HVT_TCB_STACK_GUARD_OFFSET / 8] = guard;
}

/*
 * Maps guest memory above 2 MiB with 2 MiB pages, as start.S left it to do
 * from ring 3 (where loops are cheap). Entries start.S wrote are rewritten
 * with the same value. Not-present entries are never cached by the CPU, so
 * no TLB flush is needed.
 */
static void map_memory(const struct riad_hvt_boot_info *boot_info)
{
    const uint64_t large_page = 2ULL << 20;
    const uint64_t flags = 0x87; /* present, writable, user, 2 MiB */
    uint64_t end = boot_info->mem_size;
    /* The net ring lies just above the kernel's memory. */
    if ((boot_info->host_features & RIAD_HVT_FEATURE_RING_IO) && boot_info->net_ring != 0)
        end = boot_info->net_ring + sizeof(struct riad_hvt_ring);
    uint64_t pages = (end + large_page - 1) / large_page;
    if (pages > 4 * 512)
        pages = 4 * 512;
    for (uint64_t i = 1; i < pages; i++)
        riad_hvt_page_directory[i] = (i * large_page) | flags;
}

void riad_hvt_runtime_start(const struct riad_hvt_boot_info *boot_info)
{
    boot = boot_info;
    map_memory(boot_info);
    riad_console_init();
    riad_clock_init(boot_info);
    set_up_memory(boot_info);
    riad_random_init();
    seed_stack_protector();
    riad_hvt_net_init(boot_info);

    int status = riad_hvt_main();

    riad_hvt_stack_check();
    riad_hvt_halt(status);
}

const struct riad_hvt_boot_info *riad_hvt_get_boot_info(void)
{
    return boot;
}

const char *riad_hvt_cmdline(void)
{
    if (boot == NULL || boot->cmdline == 0)
        return "";
    return (const char *)(uintptr_t)boot->cmdline;
}

const struct riad_mft *riad_hvt_manifest(void)
{
    if (boot == NULL || boot->mft == 0)
        return NULL;
    return (const struct riad_mft *)(uintptr_t)boot->mft;
}

const struct riad_mft_entry *riad_hvt_manifest_entry(uint32_t index)
{
    const struct riad_mft *manifest = riad_hvt_manifest();
    if (manifest == NULL)
        return NULL;
    /* The tender validated the manifest; clamp anyway, it costs nothing. */
    uint32_t entries = manifest->entries;
    if (entries > RIAD_MFT_MAX_ENTRIES)
        entries = RIAD_MFT_MAX_ENTRIES;
    if (index >= entries)
        return NULL;
    const struct riad_mft_entry *first =
        (const struct riad_mft_entry *)(const void *)(manifest + 1);
    return first + index;
}

void riad_hvt_halt(int status)
{
    riad_hvt_console_flush();
    volatile struct riad_hvt_hc_halt hc = {
        .cookie = 0,
        .exit_status = status,
    };
    riad_hvt_hypercall(RIAD_HVT_HYPERCALL_HALT, &hc);
    /* The tender does not resume a halted guest; if it ever did, stop
     * here rather than run on. */
    for (;;)
        ;
}

void riad_hvt_abort(const char *message)
{
    static bool aborting;
    if (aborting) /* aborted while aborting: just stop */
        riad_hvt_halt(RIAD_EXIT_ABORT);
    aborting = true;

    /* Through the line buffer: one PUTS for the whole line when it fits. */
    riad_console_break_line();
    for (const char *p = "Riad: abort: "; *p != '\0'; p++)
        putchar(*p);
    for (const char *p = message; *p != '\0'; p++)
        putchar(*p);
    putchar('\n');
    riad_hvt_halt(RIAD_EXIT_ABORT);
}

/* The heap's fatal-error hook (heap.h); its messages start with "heap:". */
void riad_heap_abort(const char *message)
{
    riad_hvt_abort(message);
}

void abort(void)
{
    riad_hvt_abort("abort() called");
}

void exit(int status)
{
    riad_hvt_halt(status);
}

void __stack_chk_fail(void)
{
    riad_hvt_abort("stack smashing detected (stack protector)");
}
