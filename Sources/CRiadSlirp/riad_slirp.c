/*
 * riad_slirp.c: finds libslirp's functions in libslirp.so.0 at run time
 * (see riad_slirp.h for why), and checks riad_slirp.h's declarations
 * against the real header when it is installed.
 */
#include "riad_slirp.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#if __has_include(<slirp/libslirp.h>)
#include <slirp/libslirp.h>

/* The layouts libslirp reads must be exactly its own. */
#define SAME_FIELD(ours, theirs, our_field, their_field)                                \
    _Static_assert(offsetof(ours, our_field) == offsetof(theirs, their_field) &&        \
                       sizeof(((ours *)0)->our_field) == sizeof(((theirs *)0)->their_field), \
                   #our_field " differs from libslirp's " #their_field)

SAME_FIELD(struct riad_slirp_callbacks, SlirpCb, send_packet, send_packet);
SAME_FIELD(struct riad_slirp_callbacks, SlirpCb, guest_error, guest_error);
SAME_FIELD(struct riad_slirp_callbacks, SlirpCb, clock_get_ns, clock_get_ns);
SAME_FIELD(struct riad_slirp_callbacks, SlirpCb, timer_new, timer_new);
SAME_FIELD(struct riad_slirp_callbacks, SlirpCb, timer_free, timer_free);
SAME_FIELD(struct riad_slirp_callbacks, SlirpCb, timer_mod, timer_mod);
SAME_FIELD(struct riad_slirp_callbacks, SlirpCb, register_poll_fd, register_poll_fd);
SAME_FIELD(struct riad_slirp_callbacks, SlirpCb, unregister_poll_fd, unregister_poll_fd);
SAME_FIELD(struct riad_slirp_callbacks, SlirpCb, notify, notify);
SAME_FIELD(struct riad_slirp_callbacks, SlirpCb, init_completed, init_completed);
SAME_FIELD(struct riad_slirp_callbacks, SlirpCb, timer_new_opaque, timer_new_opaque);

SAME_FIELD(struct riad_slirp_config, SlirpConfig, version, version);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, restricted, restricted);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, ipv4_enabled, in_enabled);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, network, vnetwork);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, netmask, vnetmask);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, host, vhost);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, ipv6_enabled, in6_enabled);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, ipv6_prefix, vprefix_addr6);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, ipv6_prefix_length, vprefix_len);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, ipv6_host, vhost6);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, hostname, vhostname);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, tftp_server_name, tftp_server_name);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, tftp_path, tftp_path);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, bootfile, bootfile);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, dhcp_start, vdhcp_start);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, nameserver, vnameserver);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, ipv6_nameserver, vnameserver6);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, dns_search, vdnssearch);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, domain_name, vdomainname);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, mtu, if_mtu);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, mru, if_mru);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, disable_host_loopback, disable_host_loopback);
SAME_FIELD(struct riad_slirp_config, SlirpConfig, enable_emulation, enable_emu);
_Static_assert(RIAD_SLIRP_POLL_IN == SLIRP_POLL_IN && RIAD_SLIRP_POLL_OUT == SLIRP_POLL_OUT &&
                   RIAD_SLIRP_POLL_PRI == SLIRP_POLL_PRI && RIAD_SLIRP_POLL_ERR == SLIRP_POLL_ERR &&
                   RIAD_SLIRP_POLL_HUP == SLIRP_POLL_HUP,
               "libslirp's poll flags differ");
#endif

/* The library's functions, once loaded. */
static struct {
    const char *(*version_string)(void);
    void *(*new_)(const struct riad_slirp_config *, const struct riad_slirp_callbacks *, void *);
    void (*input)(void *, const uint8_t *, int);
    void (*pollfds_fill)(void *, uint32_t *, int (*)(int, int, void *), void *);
    void (*pollfds_poll)(void *, int, int (*)(int, void *), void *);
    int (*add_hostfwd)(void *, int, struct in_addr, int, struct in_addr, int);
} slirp;

int riad_slirp_load(char *error, size_t capacity)
{
    void *library = dlopen("libslirp.so.0", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(error, capacity,
                 "cannot load libslirp.so.0, which user networking needs (%s); install it with "
                 "`apt-get install libslirp0`",
                 dlerror());
        return -1;
    }
    struct {
        const char *name;
        void **slot;
    } symbols[] = {
        {"slirp_version_string", (void **)&slirp.version_string},
        {"slirp_new", (void **)&slirp.new_},
        {"slirp_input", (void **)&slirp.input},
        {"slirp_pollfds_fill", (void **)&slirp.pollfds_fill},
        {"slirp_pollfds_poll", (void **)&slirp.pollfds_poll},
        {"slirp_add_hostfwd", (void **)&slirp.add_hostfwd},
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        *symbols[i].slot = dlsym(library, symbols[i].name);
        if (*symbols[i].slot == NULL) {
            snprintf(error, capacity,
                     "libslirp.so.0 has no %s: it is not libslirp 4 or later "
                     "(`apt-get install libslirp0`)",
                     symbols[i].name);
            return -1;
        }
    }
    return 0;
}

const char *riad_slirp_version(void) { return slirp.version_string(); }

void *riad_slirp_new(const struct riad_slirp_config *config,
                     const struct riad_slirp_callbacks *callbacks, void *opaque)
{
    return slirp.new_(config, callbacks, opaque);
}

void riad_slirp_input(void *instance, const uint8_t *frame, int length)
{
    slirp.input(instance, frame, length);
}

void riad_slirp_pollfds_fill(void *instance, uint32_t *timeout_ms,
                             int (*add_poll)(int fd, int events, void *opaque), void *opaque)
{
    slirp.pollfds_fill(instance, timeout_ms, add_poll, opaque);
}

void riad_slirp_pollfds_poll(void *instance, int poll_failed,
                             int (*get_revents)(int index, void *opaque), void *opaque)
{
    slirp.pollfds_poll(instance, poll_failed, get_revents, opaque);
}

int riad_slirp_add_hostfwd(void *instance, bool udp, struct in_addr host_address, int host_port,
                           struct in_addr guest_address, int guest_port)
{
    errno = 0;
    return slirp.add_hostfwd(instance, udp ? 1 : 0, host_address, host_port, guest_address,
                             guest_port);
}
