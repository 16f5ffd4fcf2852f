/*
 * exceptions.c: the IDT and the handler for CPU exceptions.
 *
 * No interrupts are ever delivered to an hvt guest, so the IDT only has the
 * 32 exception vectors, all pointing at the stubs in vectors.S. Every
 * exception is fatal: the handler prints what happened and the full register
 * state on the console, e.g.
 *
 *   Riad: trap: #PF (page fault) error=0x2 rip=0x... rsp=0x... cr2=0x...
 *   Riad:   rax=0x... rbx=0x... rcx=0x... rdx=0x...
 *   ...
 *
 * and halts with RIAD_EXIT_ABORT. It formats into a buffer on the stack and
 * never touches the heap, which may be what broke.
 */
#include <stdbool.h>

#include "runtime.h"

/* The stack built by vectors.S, lowest address first. */
struct riad_trap_frame {
    uint64_t cr2;
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
    uint64_t vector, error;
    /* Pushed by the CPU. */
    uint64_t rip, cs, rflags, rsp, ss;
};

#define IDT_VECTORS 32
#define VECTOR_PAGE_FAULT 14

static const char *const exception_names[IDT_VECTORS] = {
    [0] = "#DE (divide error)",
    [1] = "#DB (debug)",
    [2] = "NMI (non-maskable interrupt)",
    [3] = "#BP (breakpoint)",
    [4] = "#OF (overflow)",
    [5] = "#BR (bound range exceeded)",
    [6] = "#UD (invalid opcode)",
    [7] = "#NM (device not available)",
    [8] = "#DF (double fault)",
    [9] = "coprocessor segment overrun",
    [10] = "#TS (invalid TSS)",
    [11] = "#NP (segment not present)",
    [12] = "#SS (stack-segment fault)",
    [13] = "#GP (general protection)",
    [14] = "#PF (page fault)",
    [16] = "#MF (x87 floating-point error)",
    [17] = "#AC (alignment check)",
    [18] = "#MC (machine check)",
    [19] = "#XM (SIMD floating-point exception)",
    [20] = "#VE (virtualization exception)",
    [21] = "#CP (control protection)",
    [28] = "#HV (hypervisor injection)",
    [29] = "#VC (VMM communication)",
    [30] = "#SX (security exception)",
};

/* A line under construction, on the handler's stack. */
struct line {
    char text[160];
    size_t length;
};

static void append(struct line *line, const char *s)
{
    while (*s != '\0' && line->length < sizeof line->text)
        line->text[line->length++] = *s++;
}

static void append_hex(struct line *line, uint64_t value)
{
    static const char digits[] = "0123456789abcdef";
    char text[19] = "0x";
    for (int i = 0; i < 16; i++)
        text[2 + i] = digits[(value >> (60 - 4 * i)) & 0xf];
    text[18] = '\0';
    append(line, text);
}

static void append_register(struct line *line, const char *name,
                            uint64_t value)
{
    append(line, " ");
    append(line, name);
    append(line, "=");
    append_hex(line, value);
}

static void emit(struct line *line)
{
    append(line, "\n");
    if (line->length == sizeof line->text)
        line->text[line->length - 1] = '\n';
    riad_hvt_console_write(line->text, line->length);
    line->length = 0;
}

static volatile bool in_trap;

/* Runs in ring 3, entered from vectors.S with the frame ring 0 saved. */
void riad_hvt_trap(struct riad_trap_frame *frame)
{
    if (in_trap) {
        /* A fault while reporting a fault: stop without printing. */
        volatile struct riad_hvt_hc_halt hc = {
            .cookie = 0,
            .exit_status = RIAD_EXIT_ABORT,
        };
        riad_hvt_hypercall(RIAD_HVT_HYPERCALL_HALT, &hc);
        for (;;)
            ;
    }
    in_trap = true;

    struct line line = {.length = 0};
    riad_console_break_line();
    append(&line, "Riad: trap: ");
    const char *name =
        frame->vector < IDT_VECTORS ? exception_names[frame->vector] : NULL;
    if (name != NULL) {
        append(&line, name);
    } else {
        append(&line, "vector ");
        append_hex(&line, frame->vector);
    }
    append_register(&line, "error", frame->error);
    append_register(&line, "rip", frame->rip);
    append_register(&line, "rsp", frame->rsp);
    if (frame->vector == VECTOR_PAGE_FAULT) {
        append_register(&line, "cr2", frame->cr2);
    }
    emit(&line);

    const struct {
        const char *name;
        uint64_t value;
    } registers[] = {
        {"rax", frame->rax}, {"rbx", frame->rbx}, {"rcx", frame->rcx},
        {"rdx", frame->rdx}, {"rsi", frame->rsi}, {"rdi", frame->rdi},
        {"rbp", frame->rbp}, {"r8", frame->r8},   {"r9", frame->r9},
        {"r10", frame->r10}, {"r11", frame->r11}, {"r12", frame->r12},
        {"r13", frame->r13}, {"r14", frame->r14}, {"r15", frame->r15},
        {"rflags", frame->rflags}, {"cs", frame->cs}, {"ss", frame->ss},
    };
    const size_t count = sizeof registers / sizeof registers[0];
    for (size_t i = 0; i < count; i++) {
        if (i % 4 == 0)
            append(&line, "Riad:  ");
        append_register(&line, registers[i].name, registers[i].value);
        if (i % 4 == 3 || i == count - 1)
            emit(&line);
    }
    riad_hvt_halt(RIAD_EXIT_ABORT);
}
