/*
 * vectors.S: ring-0 entry stubs for the 32 CPU exceptions, and the
 * hypercall trap.
 *
 * Riad runs in ring 3 (start.S says why); the CPU enters these stubs in
 * ring 0 on the TSS's rsp0 stack. Ring 0 does as little as it can, with
 * plain integer instructions only:
 *
 * - #UD at a hypercall site (ud2 followed by the 4-byte magic, see
 *   riad_hvt_hypercall in riad_hvt_abi.h): perform the `outl` the hvt ABI
 *   defines with the %eax and %edx ring 3 set up, step over the site and
 *   return. Every register is preserved.
 * - Any other exception: push a uniform frame (error code, vector, every
 *   general register and %cr2), then leave ring 0 for riad_hvt_trap
 *   (exceptions.c) in ring 3, on a stack of its own in case the faulting
 *   stack is the problem, with the frame's address in %rdi. It prints the
 *   frame and halts; nothing returns here.
 */

#include "runtime.h"

    .text

/* Vectors for which the CPU pushes no error code: push a 0 in its place. */
.macro TRAP_NO_ERROR vector
    .balign 16
trap_vector_\vector:
    pushq $0
    pushq $\vector
    jmp trap_common
.endm

/* Vectors with a CPU-pushed error code: 8, 10-14, 17, 21, 29, 30. */
.macro TRAP_ERROR vector
    .balign 16
trap_vector_\vector:
    pushq $\vector
    jmp trap_common
.endm

TRAP_NO_ERROR 0
TRAP_NO_ERROR 1
TRAP_NO_ERROR 2
TRAP_NO_ERROR 3
TRAP_NO_ERROR 4
TRAP_NO_ERROR 5
    .balign 16
trap_vector_6:
    pushq %rcx
    movq 8(%rsp), %rcx                      /* where ring 3 trapped */
    cmpw $0x0b0f, (%rcx)                    /* ud2 */
    jne 1f
    cmpl $0x64616952, 2(%rcx)                /* RIAD_HVT_HYPERCALL_TRAP_MAGIC */
    jne 1f
    popq %rcx
    outl %eax, %dx
    addq $6, (%rsp)                         /* past ud2 and the magic */
    iretq
1:  popq %rcx
    pushq $0
    pushq $6
    jmp trap_common
TRAP_NO_ERROR 7
TRAP_ERROR 8
TRAP_NO_ERROR 9
TRAP_ERROR 10
TRAP_ERROR 11
TRAP_ERROR 12
TRAP_ERROR 13
TRAP_ERROR 14
TRAP_NO_ERROR 15
TRAP_NO_ERROR 16
TRAP_ERROR 17
TRAP_NO_ERROR 18
TRAP_NO_ERROR 19
TRAP_NO_ERROR 20
TRAP_ERROR 21
TRAP_NO_ERROR 22
TRAP_NO_ERROR 23
TRAP_NO_ERROR 24
TRAP_NO_ERROR 25
TRAP_NO_ERROR 26
TRAP_NO_ERROR 27
TRAP_NO_ERROR 28
TRAP_ERROR 29
TRAP_ERROR 30
TRAP_NO_ERROR 31

/* Push order must match struct riad_trap_frame (exceptions.c), whose first
 * field is the last register pushed. */
    .balign 16
trap_common:
    cld
    /* A trap while a trap is being reported: halt from here, in ring 0,
     * rather than loop through a report that faults. */
    cmpb $0, trap_active(%rip)
    jne halt_abort
    movb $1, trap_active(%rip)
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rbx
    pushq %rbp
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %cr2, %rax
    pushq %rax
    movq %rsp, %rdi                         /* struct riad_trap_frame * */
    leaq trap_stack_top-8(%rip), %rax       /* as if called: rsp + 8 aligned */
    pushq $SELECTOR_USER_DATA
    pushq %rax
    pushq $0x2
    pushq $SELECTOR_USER_CODE
    leaq riad_hvt_trap(%rip), %rax
    pushq %rax
    iretq

halt_abort:
    leaq halt_abort_call(%rip), %rax
    movl $(0x500 + 8), %edx  /* HALT */
    outl %eax, %dx
1:  jmp 1b

    .data
    .balign 8
halt_abort_call:                            /* struct riad_hvt_hc_halt */
    .quad 0                                 /* cookie */
    .long 255                               /* RIAD_EXIT_ABORT */
    .long 0
trap_active:
    .byte 0
    .text

    /* The ring-3 stack the trap report runs on. */
    .bss
    .balign 16
    .skip RIAD_HVT_TRAP_STACK_SIZE
trap_stack_top:
    .text

/* Addresses of the stubs, read by exceptions.c to build the IDT. */
    .section .rodata
    .balign 8
    .globl riad_hvt_trap_vectors
riad_hvt_trap_vectors:
.irp vector, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad trap_vector_\vector
.endr

    .section .note.GNU-stack, "", @progbits
