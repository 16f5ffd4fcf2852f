/*
 * riad_unix_sockets.h: host sockets for the unix target's socket stack
 * (Sources/PlatformUnix/SocketStack*.swift).
 *
 * As in riad_unix.h, every function is static inline, so an Embedded Swift
 * kernel gets them from the header alone. Swift sees only integers and
 * pointers: addresses cross as host-order uint32_t (10.0.0.1 is 0x0a000001,
 * RiadNet's IPv4Address.rawValue) and ports as host-order uint16_t; struct
 * sockaddr_in, the socket-option levels and the epoll flags stay here.
 *
 * Every socket is IPv4, nonblocking and close-on-exec. A failed call returns
 * -1 and leaves errno set; riad_unix_errno() reads it (errno is a macro that
 * Swift cannot import).
 */
#ifndef RIAD_UNIX_SOCKETS_H
#define RIAD_UNIX_SOCKETS_H

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

/* accept4 is a GNU extension: glibc declares it only under _GNU_SOURCE, which
 * has to be defined before the first system header (riad_unix.h's, say). */
#ifndef __USE_GNU
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
#endif

static inline int riad_unix_errno(void) { return errno; }

static inline struct sockaddr_in riad_unix_sockaddr(uint32_t address, uint16_t port)
{
    struct sockaddr_in socket_address;
    memset(&socket_address, 0, sizeof socket_address);
    socket_address.sin_family = AF_INET;
    socket_address.sin_port = htons(port);
    socket_address.sin_addr.s_addr = htonl(address);
    return socket_address;
}

/* --- Opening, binding, connecting ---------------------------------------- */

/* A new TCP (datagram = 0) or UDP (datagram = 1) socket. */
static inline int riad_unix_socket_open(int datagram)
{
    int type = datagram ? SOCK_DGRAM : SOCK_STREAM;
    return socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

/* Binds fd to address:port (port 0: an ephemeral port). reuse_address sets
 * SO_REUSEADDR first, so that a restarted server can listen again while
 * connections of its previous run are in TIME-WAIT. */
static inline int riad_unix_socket_bind(int fd, uint32_t address, uint16_t port, int reuse_address)
{
    if (reuse_address) {
        int on = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0)
            return -1;
    }
    struct sockaddr_in socket_address = riad_unix_sockaddr(address, port);
    return bind(fd, (struct sockaddr *)&socket_address, sizeof socket_address);
}

static inline int riad_unix_socket_listen(int fd, int backlog) { return listen(fd, backlog); }

/* An established connection from the listening fd, itself nonblocking and
 * close-on-exec; -1 with EAGAIN when none is waiting. */
static inline int riad_unix_socket_accept(int fd)
{
    int connection;
    do
        connection = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    while (connection < 0 && errno == EINTR);
    return connection;
}

/* Starts connecting fd to address:port: 0 when connected at once, else -1
 * with errno EINPROGRESS (wait until writable, then read
 * riad_unix_socket_pending_error) or the reason it failed. A connect
 * interrupted by a signal goes on in the background, like EINPROGRESS. */
static inline int riad_unix_socket_connect(int fd, uint32_t address, uint16_t port)
{
    struct sockaddr_in socket_address = riad_unix_sockaddr(address, port);
    int result = connect(fd, (struct sockaddr *)&socket_address, sizeof socket_address);
    if (result < 0 && errno == EINTR)
        errno = EINPROGRESS;
    return result;
}

/* The error a nonblocking connect ended with (SO_ERROR, which reading
 * clears): 0 if none, else an errno value. */
static inline int riad_unix_socket_pending_error(int fd)
{
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
        return errno;
    return error;
}

/* This end's (peer = 0) or the peer's (peer = 1) address and port: 0, or -1
 * (ENOTCONN for the peer of a socket still connecting). */
static inline int riad_unix_socket_address(int fd, int peer, uint32_t *address, uint16_t *port)
{
    struct sockaddr_in socket_address;
    socklen_t length = sizeof socket_address;
    memset(&socket_address, 0, sizeof socket_address);
    int result = peer ? getpeername(fd, (struct sockaddr *)&socket_address, &length)
                      : getsockname(fd, (struct sockaddr *)&socket_address, &length);
    if (result != 0)
        return -1;
    if (socket_address.sin_family != AF_INET) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    *address = ntohl(socket_address.sin_addr.s_addr);
    *port = ntohs(socket_address.sin_port);
    return 0;
}

/* Turns Nagle's algorithm off (on = 1) or on (on = 0) for a TCP socket. */
static inline int riad_unix_socket_set_no_delay(int fd, int on)
{
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

/* --- Moving bytes ------------------------------------------------------- */

/* Up to length bytes of a stream: their count, 0 at the end of the stream,
 * -1 with EAGAIN when none are waiting. */
static inline ssize_t riad_unix_socket_receive(int fd, void *buffer, size_t length)
{
    ssize_t n;
    do
        n = recv(fd, buffer, length, 0);
    while (n < 0 && errno == EINTR);
    return n;
}

/* Queues up to length bytes on a stream: the count taken, -1 with EAGAIN when
 * the send buffer is full. MSG_NOSIGNAL: a connection the peer reset gives
 * EPIPE here instead of SIGPIPE, which would kill the process. */
static inline ssize_t riad_unix_socket_send(int fd, const void *bytes, size_t length)
{
    ssize_t n;
    do
        n = send(fd, bytes, length, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
}

/* Sends one datagram to address:port; its length, or -1. */
static inline ssize_t riad_unix_socket_send_to(int fd, const void *bytes, size_t length, uint32_t address,
                                               uint16_t port)
{
    struct sockaddr_in socket_address = riad_unix_sockaddr(address, port);
    ssize_t n;
    do
        n = sendto(fd, bytes, length, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&socket_address,
                   sizeof socket_address);
    while (n < 0 && errno == EINTR);
    return n;
}

/* Takes one datagram, copying up to length bytes of it (the rest is
 * dropped): the count copied and the sender, or -1 with EAGAIN when none is
 * waiting. */
static inline ssize_t riad_unix_socket_receive_from(int fd, void *buffer, size_t length, uint32_t *address,
                                                    uint16_t *port)
{
    struct sockaddr_in socket_address;
    socklen_t address_length = sizeof socket_address;
    memset(&socket_address, 0, sizeof socket_address);
    ssize_t n;
    do
        n = recvfrom(fd, buffer, length, 0, (struct sockaddr *)&socket_address, &address_length);
    while (n < 0 && errno == EINTR);
    if (n >= 0) {
        *address = ntohl(socket_address.sin_addr.s_addr);
        *port = ntohs(socket_address.sin_port);
    }
    return n;
}

static inline int riad_unix_socket_shutdown_write(int fd) { return shutdown(fd, SHUT_WR); }

/* Closes fd. Linux releases the descriptor even when close reports EINTR,
 * so it is never retried (a retry could close a descriptor reused since). */
static inline void riad_unix_socket_close(int fd) { (void)close(fd); }

/* --- Readiness ---------------------------------------------------------- */

/* Adds fd to the stack's epoll set, edge-triggered, for input, output and
 * the peer's shutdown; events on it report fd. */
static inline int riad_unix_socket_watch(int epoll_fd, int fd)
{
    struct epoll_event event = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data = { .fd = fd } };
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

/* Takes the events waiting in the stack's epoll set without waiting: writes
 * the descriptors they concern to fds (at most max, at most 64) and returns
 * how many, 0 if none. */
static inline int riad_unix_socket_events(int epoll_fd, int32_t *fds, int max)
{
    struct epoll_event events[64];
    if (max > 64)
        max = 64;
    int count;
    do
        count = epoll_wait(epoll_fd, events, max, 0);
    while (count < 0 && errno == EINTR);
    for (int i = 0; i < count; i++)
        fds[i] = events[i].data.fd;
    return count < 0 ? 0 : count;
}

/* --- Names -------------------------------------------------------------- */

/* What riad_unix_resolve_ipv4 returns. */
#define RIAD_UNIX_RESOLVED 0
/* The name does not exist, or has no IPv4 address. */
#define RIAD_UNIX_RESOLVE_NOT_FOUND 1
/* The resolver got no answer (EAI_AGAIN): a later try may succeed. */
#define RIAD_UNIX_RESOLVE_TEMPORARY 2
/* Anything else: the resolver itself failed. */
#define RIAD_UNIX_RESOLVE_FAILED 3

/* The first IPv4 address of name, by getaddrinfo: /etc/hosts, DNS, whatever
 * the host's nsswitch.conf says. It blocks the calling thread until the
 * resolver answers. */
static inline int riad_unix_resolve_ipv4(const char *name, uint32_t *address)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    /* One entry per address rather than one per socket type. */
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *results = NULL;
    int status = getaddrinfo(name, NULL, &hints, &results);
    if (status != 0) {
        switch (status) {
        case EAI_NONAME:
#ifdef EAI_NODATA
        case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
        case EAI_ADDRFAMILY:
#endif
        case EAI_FAIL:
            return RIAD_UNIX_RESOLVE_NOT_FOUND;
        case EAI_AGAIN:
            return RIAD_UNIX_RESOLVE_TEMPORARY;
        default:
            return RIAD_UNIX_RESOLVE_FAILED;
        }
    }
    int outcome = RIAD_UNIX_RESOLVE_NOT_FOUND;
    for (struct addrinfo *entry = results; entry != NULL; entry = entry->ai_next) {
        if (entry->ai_family == AF_INET && entry->ai_addrlen >= sizeof(struct sockaddr_in)) {
            *address = ntohl(((struct sockaddr_in *)entry->ai_addr)->sin_addr.s_addr);
            outcome = RIAD_UNIX_RESOLVED;
            break;
        }
    }
    freeaddrinfo(results);
    return outcome;
}

#endif /* RIAD_UNIX_SOCKETS_H */
