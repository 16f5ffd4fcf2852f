/* The tender's stop signals (riad_tender_c.h): a handler must be C, and its
 * state a real global, not a header's static. */
#include "riad_tender_c.h"

static volatile sig_atomic_t stop_signal;
static struct kvm_run *volatile stop_run;

static void stop_handler(int signal)
{
    stop_signal = signal;
    struct kvm_run *run = stop_run;
    if (run != NULL)
        run->immediate_exit = 1;
}

int riad_catch_stop_signals(struct kvm_run *run)
{
    stop_run = run;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = stop_handler;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGINT, &action, NULL) != 0 || sigaction(SIGTERM, &action, NULL) != 0)
        return -1;
    return 0;
}

int riad_stop_signal_received(void) { return stop_signal; }
