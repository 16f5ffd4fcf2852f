/*
 * concurrency.c: what Embedded Swift's concurrency library needs from a
 * kernel, on every target: the global executor's hooks, which hand jobs to
 * the kernel's one event loop (Riad's EventLoop), and the few runtime entry
 * points a hosted Swift would provide.
 *
 * The platform module (PlatformHvt, PlatformUnix) exports, from Swift, the
 * riad_executor_* and riad_platform_* functions declared below. The kernel
 * has one thread and no custom executors: the main executor and the global
 * executor are the same loop, and everything is always isolated.
 *
 * Compiled by RiadBuild into every kernel (not a SwiftPM target: it must
 * never reach a host program, which has Swift's own executors).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

size_t strlen(const char *s);

/* A SerialExecutorRef or TaskExecutorRef: two words, passed in registers. */
struct executor_ref {
    void *identity;
    uintptr_t implementation;
};

/* In the concurrency library: run a job until it suspends or ends. */
void swift_job_run(void *job, struct executor_ref executor);

/* In the platform module (Swift): the event loop and the console. */
void riad_executor_enqueue(void *job);
void riad_executor_enqueue_at(uint64_t deadline_ns, void *job);
void riad_executor_run_until(bool (*condition)(void *), void *context);
__attribute__((noreturn)) void riad_executor_run_forever(void);
uint64_t riad_platform_monotonic_ns(void);
void riad_platform_write_error(const char *text, size_t length);
__attribute__((noreturn)) void riad_platform_abort(const char *message);
/* A deadline on one of Swift's clocks, on the loop's monotonic timeline. */
uint64_t riad_platform_clock_to_loop(uint64_t deadline_ns, int clock);

void riad_run_job(void *job)
{
    struct executor_ref generic = {0, 0};
    swift_job_run(job, generic);
}

void swift_task_enqueueGlobalImpl(void *job)
{
    riad_executor_enqueue(job);
}

void swift_task_enqueueMainExecutorImpl(void *job)
{
    riad_executor_enqueue(job);
}

void swift_task_enqueueGlobalWithDelayImpl(unsigned long long delay_ns, void *job)
{
    riad_executor_enqueue_at(riad_platform_monotonic_ns() + delay_ns, job);
}

/* Deadlines are on the clock's own timeline. The loop's clock is the
 * platform's monotonic clock: on hvt clock_gettime gives it for Swift's
 * clocks (stdio.c); on unix Swift's clocks use CLOCK_MONOTONIC and
 * CLOCK_BOOTTIME, which differ from the loop's only by a constant offset
 * while the process runs, so a deadline is taken relative to the clock's
 * now: the delay is what matters. */
void swift_task_enqueueGlobalWithDeadlineImpl(long long seconds, long long nanoseconds,
                                              long long tolerance_seconds,
                                              long long tolerance_nanoseconds, int clock,
                                              void *job)
{
    (void)tolerance_seconds;
    (void)tolerance_nanoseconds;
    (void)clock;
    uint64_t deadline = seconds < 0 ? 0 : (uint64_t)seconds * 1000000000ULL + (uint64_t)nanoseconds;
    riad_executor_enqueue_at(riad_platform_clock_to_loop(deadline, clock), job);
}

void swift_task_donateThreadToGlobalExecutorUntilImpl(bool (*condition)(void *), void *context)
{
    riad_executor_run_until(condition, context);
}

void swift_task_asyncMainDrainQueueImpl(void)
{
    riad_executor_run_forever();
}

struct executor_ref swift_task_getMainExecutorImpl(void)
{
    struct executor_ref generic = {0, 0};
    return generic;
}

bool swift_task_isMainExecutorImpl(struct executor_ref executor)
{
    return executor.identity == 0;
}

void swift_task_checkIsolatedImpl(struct executor_ref executor)
{
    (void)executor; /* one thread: always isolated */
}

int8_t swift_task_isIsolatingCurrentContextImpl(struct executor_ref executor)
{
    (void)executor;
    return 1; /* isolated */
}

struct executor_ref swift_getMainExecutor(void)
{
    return swift_task_getMainExecutorImpl();
}

struct executor_ref swift_getDefaultExecutor(void)
{
    struct executor_ref generic = {0, 0};
    return generic;
}

void swift_createDefaultExecutors(void)
{
}

/* Custom executors (actors with their own executor) are not supported. */
static __attribute__((noreturn)) void no_custom_executors(void)
{
    riad_platform_abort("custom executors are not supported by the Riad event loop");
}

void _task_serialExecutor_checkIsolated(void) { no_custom_executors(); }
void _task_serialExecutor_getExecutorRef(void) { no_custom_executors(); }
void _task_serialExecutor_isIsolatingCurrentContext(void) { no_custom_executors(); }
void _task_serialExecutor_isSameExclusiveExecutionContext(void) { no_custom_executors(); }
void _task_taskExecutor_getTaskExecutorRef(void) { no_custom_executors(); }

/* The runtime's error reporting. */
void swift_reportError(uint32_t flags, const char *message)
{
    (void)flags;
    riad_platform_write_error(message, strlen(message));
}

bool _swift_shouldReportFatalErrorsToDebugger(void)
{
    return false;
}

void _swift_reportToDebugger(uintptr_t flags, const char *message, void *details)
{
    (void)flags;
    (void)message;
    (void)details;
}

/* An Embedded Swift object starts with its metadata pointer. */
const void *swift_getObjectType(const void *object)
{
    return *(const void *const *)object;
}

bool swift_compareWitnessTables(const void *a, const void *b)
{
    return a == b;
}

/* From libstdc++, used by the library's task bookkeeping. */
void __cxa_pure_virtual(void)
{
    riad_platform_abort("pure virtual function called");
}

void _ZSt20__throw_length_errorPKc(const char *message)
{
    riad_platform_abort(message);
}
