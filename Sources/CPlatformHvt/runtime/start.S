/*
 * start.S: the kernel's entry point and its only ring-0 code but the trap
 * stubs (vectors.S).
 *
 * The tender enters _start in 64-bit long mode at CPL 0 with paging on
 * (identity map), interrupts off, %rdi = struct riad_hvt_boot_info * and
 * %rsp = top of guest memory - 8. Riad then runs everything else in ring 3:
 *
 * Why ring 3. On hosts where KVM is PVM (a KVM that runs guests without
 * hardware virtualisation, common on cloud machines), a guest's ring 0 is
 * not run by the CPU but by KVM's instruction emulator, which knows no
 * SSE: the first `xorps` of compiled Swift stops the kernel. Ring 3 runs
 * natively there. On hardware KVM it costs nothing: a hypercall traps to
 * ring 0 (vectors.S) and performs the same `outl` the hvt ABI defines, so
 * the tender sees exactly the Solo5 ABI and Riad kernels still run under
 * solo5-hvt. The code here must therefore use only plain integer
 * instructions (no SSE, no fancy encodings).
 *
 * Steps, at CPL 0:
 *   1. keep the boot-info pointer and the stack top;
 *   2. record the CPUID leaves the runtime needs (cpuid may fault in ring 3);
 *   3. our own page tables (the tender's lack the user bit): the same
 *      identity map, page 0 and the tender's tables unmapped, the boot info
 *      and the rest of low memory read-only; only the image's and the
 *      stack's 2 MiB pages here, the rest from ring 3 (platform.c);
 *   4. load our GDT (adds ring-3 segments and a TSS whose rsp0 is the trap
 *      stack), the TSS and the IDT (32 exception gates from vectors.S);
 *   5. TLS: %fs points at a static thread control block (variant II);
 *   6. iretq to ring 3 at user_entry, which calls riad_hvt_runtime_start.
 */

#include "runtime.h"

#define MSR_FS_BASE 0xc0000100
#define PTE_PRESENT 0x1
#define PTE_WRITABLE 0x2
#define PTE_USER 0x4
#define PTE_LARGE 0x80
#define PAGE_SIZE 0x1000
#define LARGE_PAGE_SIZE 0x200000
#define BOOT_INFO_BASE 0x10000
#define GUEST_MIN_BASE 0x100000

    .section .text.start, "ax"
    .globl _start
    .type _start, @function
_start:
    movq %rdi, %r12             /* boot info, kept in a callee-saved register */
    movq %rsp, %r13

    /* 1. Zero .bss (the tender zeroes it when loading; this costs little). */
    cld
    movq %r13, riad_hvt_initial_rsp(%rip)

    /* 2. CPUID: max leaf, leaf 1 ECX, leaf 7 EBX. */
    xorl %eax, %eax
    xorl %ecx, %ecx
    cpuid
    movl %eax, riad_hvt_cpuid_max_leaf(%rip)
    movl $1, %eax
    xorl %ecx, %ecx
    cpuid
    movl %ecx, riad_hvt_cpuid_1_ecx(%rip)
    cmpl $7, riad_hvt_cpuid_max_leaf(%rip)
    jb 1f
    movl $7, %eax
    xorl %ecx, %ecx
    cpuid
    movl %ebx, riad_hvt_cpuid_7_ebx(%rip)
1:

    /* 3. Page tables, all entries user-accessible. Ring 0 is emulated
     * instruction by instruction on PVM hosts (about a microsecond each),
     * so it writes only a handful of entries: the first 2 MiB come from a
     * static table (pt0 below), and the 2 MiB pages of the image and of the
     * stack are mapped here. riad_hvt_map_memory (platform.c) maps the rest
     * from ring 3, at native speed, before anything touches it. */
    movq 0(%r12), %r14                      /* boot_info->mem_size */
    leaq pml4(%rip), %rbx
    leaq pdpt(%rip), %rax
    orq $(PTE_PRESENT | PTE_WRITABLE | PTE_USER), %rax
    movq %rax, (%rbx)                       /* PML4[0] -> PDPT */
    leaq riad_hvt_page_directory(%rip), %rax
    orq $(PTE_PRESENT | PTE_WRITABLE | PTE_USER), %rax
    leaq pdpt(%rip), %rdi
    movq %rax, 0(%rdi)                      /* PDPT[i] -> PD i, i < 4 */
    addq $PAGE_SIZE, %rax
    movq %rax, 8(%rdi)
    addq $PAGE_SIZE, %rax
    movq %rax, 16(%rdi)
    addq $PAGE_SIZE, %rax
    movq %rax, 24(%rdi)
    leaq riad_hvt_page_directory(%rip), %rdi
    leaq pt0(%rip), %rax
    orq $(PTE_PRESENT | PTE_WRITABLE | PTE_USER), %rax
    movq %rax, (%rdi)                       /* PD[0] -> PT0 */
    movq $LARGE_PAGE_SIZE, %rcx             /* the image beyond 2 MiB */
    leaq _end(%rip), %rdx
2:  cmpq %rdx, %rcx
    jae 3f
    movq %rcx, %rax
    orq $(PTE_PRESENT | PTE_WRITABLE | PTE_USER | PTE_LARGE), %rax
    movq %rcx, %rsi
    shrq $21, %rsi
    movq %rax, (%rdi,%rsi,8)
    addq $LARGE_PAGE_SIZE, %rcx
    jmp 2b
3:  leaq -1(%r14), %rcx                     /* the stack's 2 MiB page */
    shrq $21, %rcx
    jz 4f
    movq %rcx, %rax
    shlq $21, %rax
    orq $(PTE_PRESENT | PTE_WRITABLE | PTE_USER | PTE_LARGE), %rax
    movq %rax, (%rdi,%rcx,8)
4:  movq %rbx, %cr3

    /* 4. GDT with the TSS descriptor filled in, then the TSS and the IDT. */
    leaq riad_hvt_tss(%rip), %rax
    leaq gdt_tss(%rip), %rdi
    movw %ax, 2(%rdi)                       /* base 15:0 */
    shrq $16, %rax
    movb %al, 4(%rdi)                       /* base 23:16 */
    movb %ah, 7(%rdi)                       /* base 31:24 */
    shrq $16, %rax
    movl %eax, 8(%rdi)                      /* base 63:32 */
    leaq ring0_stack_top(%rip), %rax
    movq %rax, riad_hvt_tss+4(%rip)         /* rsp0: traps from ring 3 */
    lgdt gdt_pointer(%rip)
    movw $SELECTOR_TSS, %ax
    ltr %ax

    leaq idt(%rip), %rdi
    leaq riad_hvt_trap_vectors(%rip), %rsi
    xorl %ecx, %ecx
7:  movq (%rsi,%rcx,8), %rax                /* stub address */
    movw %ax, 0(%rdi)
    movw $SELECTOR_KERNEL_CODE, 2(%rdi)
    movw $0x8e00, 4(%rdi)                   /* present, DPL 0, interrupt gate */
    shrq $16, %rax
    movw %ax, 6(%rdi)
    shrq $16, %rax
    movl %eax, 8(%rdi)
    movl $0, 12(%rdi)
    addq $16, %rdi
    incq %rcx
    cmpq $32, %rcx
    jne 7b
    lidt idt_pointer(%rip)

    /* 5. Ring-3 data segments, then the TLS base (loading %fs resets it). */
    movw $SELECTOR_USER_DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    leaq riad_hvt_tcb(%rip), %rax
    movq %rax, (%rax)                       /* %fs:0 is the thread pointer */
    movq %rax, %rdx
    shrq $32, %rdx
    movl $MSR_FS_BASE, %ecx
    wrmsr

    /* 6. To ring 3, on the tender's stack, 16-byte aligned, interrupts off. */
    movq %r13, %rax
    andq $-16, %rax
    pushq $SELECTOR_USER_DATA
    pushq %rax
    pushq $0x2
    pushq $SELECTOR_USER_CODE
    leaq user_entry(%rip), %rax
    pushq %rax
    iretq
    .size _start, . - _start

    .text
    .type user_entry, @function
user_entry:
    xorl %ebp, %ebp
    movq %r12, %rdi
    call riad_hvt_runtime_start
1:  jmp 1b                                  /* not reached */
    .size user_entry, . - user_entry

    .data
    .balign 16
gdt:
    .quad 0                                 /* null */
    .quad 0x00af9a000000ffff                /* 0x08 ring-0 code, 64-bit */
    .quad 0x00cf92000000ffff                /* 0x10 ring-0 data */
    .quad 0x00cff2000000ffff                /* 0x18 ring-3 data */
    .quad 0x00affa000000ffff                /* 0x20 ring-3 code, 64-bit */
gdt_tss:                                    /* 0x28 TSS, 16 bytes */
    .quad 0x0000890000000000 + (RIAD_HVT_TSS_SIZE - 1)
    .quad 0
gdt_end:
    .balign 8
    .word 0
gdt_pointer:
    .word gdt_end - gdt - 1
    .quad gdt
    .word 0
idt_pointer:
    .word 32 * 16 - 1
    .quad idt

    .balign 8
    .globl riad_hvt_initial_rsp
riad_hvt_initial_rsp:
    .quad 0
    .globl riad_hvt_cpuid_max_leaf, riad_hvt_cpuid_1_ecx, riad_hvt_cpuid_7_ebx
riad_hvt_cpuid_max_leaf:
    .long 0
riad_hvt_cpuid_1_ecx:
    .long 0
riad_hvt_cpuid_7_ebx:
    .long 0

    /* The first 2 MiB in 4 KiB pages: nothing below the boot info (NULL,
     * the tender's tables), low memory read-only, the rest read-write. */
    .section .data.page_table, "aw"
    .balign PAGE_SIZE
pt0:
    .set page, 0
    .rept 512
    .if page < (BOOT_INFO_BASE / PAGE_SIZE)
    .quad 0
    .elseif page < (GUEST_MIN_BASE / PAGE_SIZE)
    .quad (page * PAGE_SIZE) | PTE_PRESENT | PTE_USER
    .else
    .quad (page * PAGE_SIZE) | PTE_PRESENT | PTE_WRITABLE | PTE_USER
    .endif
    .set page, page + 1
    .endr

    .bss
    .balign PAGE_SIZE
pml4:
    .skip PAGE_SIZE
pdpt:
    .skip PAGE_SIZE
    .globl riad_hvt_page_directory
riad_hvt_page_directory:                    /* four, one per GiB */
    .skip 4 * PAGE_SIZE
    .balign 16
idt:
    .skip 32 * 16
    .balign 16
    .globl riad_hvt_tss
riad_hvt_tss:
    .skip RIAD_HVT_TSS_SIZE
    /* The stack ring 0 runs on when ring 3 traps (vectors.S). */
    .balign 16
    .skip RIAD_HVT_RING0_STACK_SIZE
ring0_stack_top:
    /*
     * Static TLS: RIAD_HVT_TLS_SIZE bytes for thread-local variables (in
     * variant II they live below the thread pointer), then the TCB at the
     * thread pointer. Only zero-initialised TLS works: nothing copies a
     * .tdata image here.
     */
    .balign 64
riad_hvt_tls_area:
    .skip RIAD_HVT_TLS_SIZE
    .globl riad_hvt_tcb
riad_hvt_tcb:
    .skip RIAD_HVT_TCB_SIZE

    .section .note.GNU-stack, "", @progbits
