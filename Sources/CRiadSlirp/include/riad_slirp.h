/*
 * riad_slirp.h: the part of libslirp's C interface riad-slirp uses, and a
 * loader that finds it in libslirp.so.0 at run time.
 *
 * Why declared here rather than taken from <slirp/libslirp.h>: riad-slirp
 * loads the library with dlopen when it starts, so that building Riad needs
 * neither libslirp's headers nor the library, and a machine without it gets
 * a message naming the Debian package instead of a loader error. The
 * declarations follow libslirp 4.x's stable ABI with a SlirpConfig of
 * version 1 (the oldest every 4.x release accepts). riad_slirp.c checks every
 * size and offset below against <slirp/libslirp.h> whenever that header is
 * installed (Debian: libslirp-dev).
 */
#ifndef RIAD_SLIRP_H
#define RIAD_SLIRP_H

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* libslirp's poll flags (SLIRP_POLL_*), which are not poll(2)'s. */
enum {
    RIAD_SLIRP_POLL_IN = 1 << 0,
    RIAD_SLIRP_POLL_OUT = 1 << 1,
    RIAD_SLIRP_POLL_PRI = 1 << 2,
    RIAD_SLIRP_POLL_ERR = 1 << 3,
    RIAD_SLIRP_POLL_HUP = 1 << 4,
};

/* The callbacks libslirp makes (SlirpCb). Every `opaque` is the pointer
 * given to riad_slirp_new. */
struct riad_slirp_callbacks {
    /* A frame for the guest. */
    ssize_t (*send_packet)(const void *frame, size_t length, void *opaque);
    /* The guest sent something libslirp could not make sense of. */
    void (*guest_error)(const char *message, void *opaque);
    /* A monotonic clock in nanoseconds. */
    int64_t (*clock_get_ns)(void *opaque);
    /* Timers: made, freed, and set to fire at a time in milliseconds of
     * clock_get_ns's clock. */
    void *(*timer_new)(void (*callback)(void *argument), void *argument, void *opaque);
    void (*timer_free)(void *timer, void *opaque);
    void (*timer_mod)(void *timer, int64_t expire_ms, void *opaque);
    /* For event loops that register sockets once; riad-slirp polls the
     * sockets libslirp lists each time round instead. */
    void (*register_poll_fd)(int fd, void *opaque);
    void (*unregister_poll_fd)(int fd, void *opaque);
    /* Wakes a loop running in another thread; riad-slirp has one thread. */
    void (*notify)(void *opaque);
    /* Read only with a configuration of version 4 or later; left NULL. */
    void (*init_completed)(void *slirp, void *opaque);
    void *(*timer_new_opaque)(int timer_id, void *argument, void *opaque);
};

/* SlirpConfig, up to the last field of version 1. */
struct riad_slirp_config {
    uint32_t version;
    int restricted;
    bool ipv4_enabled;
    struct in_addr network;
    struct in_addr netmask;
    struct in_addr host;
    bool ipv6_enabled;
    struct in6_addr ipv6_prefix;
    uint8_t ipv6_prefix_length;
    struct in6_addr ipv6_host;
    const char *hostname;
    const char *tftp_server_name;
    const char *tftp_path;
    const char *bootfile;
    struct in_addr dhcp_start;
    struct in_addr nameserver;
    struct in6_addr ipv6_nameserver;
    const char **dns_search;
    const char *domain_name;
    size_t mtu;
    size_t mru;
    bool disable_host_loopback;
    bool enable_emulation;
};

/* Loads libslirp.so.0 and finds its functions. Returns 0, or -1 with a
 * sentence saying why (and what to install) in `error`. */
int riad_slirp_load(char *error, size_t capacity);

/* The library's version, e.g. "4.7.0". */
const char *riad_slirp_version(void);

/* slirp_new. Returns NULL if libslirp refused the configuration. */
void *riad_slirp_new(const struct riad_slirp_config *config,
                     const struct riad_slirp_callbacks *callbacks, void *opaque);

/* slirp_input: one frame from the guest. */
void riad_slirp_input(void *slirp, const uint8_t *frame, int length);

/* slirp_pollfds_fill and slirp_pollfds_poll, around one poll(2). */
void riad_slirp_pollfds_fill(void *slirp, uint32_t *timeout_ms,
                             int (*add_poll)(int fd, int events, void *opaque), void *opaque);
void riad_slirp_pollfds_poll(void *slirp, int poll_failed,
                             int (*get_revents)(int index, void *opaque), void *opaque);

/* slirp_add_hostfwd: listen on host_address:host_port (TCP, or UDP when
 * `udp`) and pass what arrives to guest_address:guest_port. Returns 0, or
 * -1 with errno set by the failed bind or listen. */
int riad_slirp_add_hostfwd(void *slirp, bool udp, struct in_addr host_address, int host_port,
                           struct in_addr guest_address, int guest_port);

#endif /* RIAD_SLIRP_H */
