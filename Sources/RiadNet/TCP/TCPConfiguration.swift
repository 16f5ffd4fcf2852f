// Tunables of the TCP engine, with defaults for a server unikernel. Every
// duration is in monotonic nanoseconds, like the `now` the engine is given.
//
// Sources of the defaults: RFC 9293 section 3.7.1 (MSS), RFC 7323 (window
// scaling, timestamps), RFC 2018 (SACK), RFC 6298 section 2 (initial RTO 1 s,
// a minimum of 1 s "SHOULD", which every deployed stack lowers to about
// 200 ms), RFC 1122 section 4.2.3.2 (delayed ACK under 0.5 s, an ACK for at
// least every second full segment), RFC 1122 section 4.2.3.6 (keepalive off
// by default, idle at least two hours), RFC 9293 section 3.4.2 (MSL, whose
// 2 minutes every stack shortens to 30 or 60 s).

/// How a `TCPLayer` behaves; one value for the whole layer.
///
/// ```swift
/// var configuration = TCPConfiguration()
/// configuration.receiveBufferSize = 256 * 1024
/// configuration.keepalive = true
/// var tcp = TCPLayer(configuration: configuration, seed: entropy)
/// ```
public struct TCPConfiguration: Sendable {
    /// The MSS this end advertises and the most it sends per segment
    /// (before TCP options): the link MTU less 40 octets of IPv4 and TCP
    /// headers (RFC 9293 section 3.7.1).
    public var mss: Int = 1460
    /// With a device that cuts segments itself (TSO), the most payload one
    /// segment handed to it carries, a whole number of full segments; 0
    /// (the default) sends every segment as it goes on the wire. At most
    /// 65,535 less the IPv4 and TCP headers.
    public var segmentationOffload: Int = 0
    /// Bytes an application may queue before `send` takes no more: unsent
    /// data plus data sent but not yet acknowledged. Allocated once per
    /// connection.
    public var sendBufferSize: Int = 128 * 1024
    /// Bytes received and not yet read, in order or not: the most this end
    /// ever advertises as its window. Allocated once per connection.
    public var receiveBufferSize: Int = 128 * 1024
    /// Offer the window scale option (RFC 7323 section 2), needed for a
    /// window above 65,535 bytes.
    public var windowScaling = true
    /// Offer the timestamps option (RFC 7323 section 3): RTT samples from
    /// every ACK, and PAWS (section 5).
    public var timestamps = true
    /// Offer SACK-Permitted (RFC 2018 section 2) and report out-of-order
    /// data in SACK blocks.
    public var sack = true

    /// The retransmission timeout before any RTT sample (RFC 6298 section 2.1).
    public var initialRTO: UInt64 = 1_000_000_000
    /// The lowest retransmission timeout (RFC 6298 section 2.4).
    public var minimumRTO: UInt64 = 200_000_000
    /// The highest, also the cap of exponential backoff (RFC 6298 section 2.5).
    public var maximumRTO: UInt64 = 60_000_000_000
    /// How long an ACK for in-order data may wait for more data or a reply
    /// to ride on (RFC 1122 section 4.2.3.2; RFC 5681 section 4.2); 0 sends
    /// every ACK at once. A second full-sized segment is acknowledged at once.
    public var delayedACK: UInt64 = 40_000_000
    /// Nagle's algorithm (RFC 896; RFC 9293 section 3.7.4) for new
    /// connections: a short segment waits while data is unacknowledged.
    /// `TCPLayer.setNoDelay` turns it off per connection.
    public var nagle = true

    /// Probe idle connections (RFC 1122 section 4.2.3.6).
    public var keepalive = false
    /// Idle time before the first keepalive probe.
    public var keepaliveIdle: UInt64 = 7200 * 1_000_000_000
    /// Time between unanswered probes.
    public var keepaliveInterval: UInt64 = 75 * 1_000_000_000
    /// Unanswered probes after which the connection fails with `.timedOut`.
    public var keepaliveCount = 9

    /// Retransmissions of the same data (or unanswered zero-window probes)
    /// after which the connection fails with `.timedOut` (RFC 9293 section
    /// 3.8.3, "R2"). With the defaults, 12 take about seven minutes.
    public var maximumRetransmissions = 12
    /// Retransmissions of a SYN or SYN-ACK before giving up (RFC 9293
    /// section 3.8.3, "R2 for a SYN", at least 3 minutes there; 6 take about
    /// two minutes with a 1 s initial RTO, as Linux's default does).
    public var synRetries = 6

    /// The maximum segment lifetime (RFC 9293 section 3.4.2): TIME-WAIT
    /// lasts twice this.
    public var msl: UInt64 = 30 * 1_000_000_000
    /// How long a connection the application has closed may wait in
    /// FIN-WAIT-2 for the peer's FIN before it is dropped (Linux's
    /// tcp_fin_timeout): nobody would ever read what the peer sends.
    public var finWait2Timeout: UInt64 = 60 * 1_000_000_000

    /// Connection slots: all connections, in every state but LISTEN, at once.
    public var maximumConnections = 512
    /// The cap on a listener's backlog: connections in SYN-RECEIVED or
    /// established and not accepted yet.
    public var maximumBacklog = 128
    /// Challenge ACKs (RFC 5961 section 7) one connection sends per second
    /// at most; the rest are not sent.
    public var challengeACKsPerSecond = 10

    public init() {}

    /// TIME-WAIT's duration: 2 × MSL.
    public var timeWaitDuration: UInt64 { msl &* 2 }
}
