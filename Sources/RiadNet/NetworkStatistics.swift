/// What a network stack can say about its traffic, for monitoring.
public struct NetworkStatistics: Sendable {
    /// The link: frames and bytes each way.
    public var framesReceived: UInt64 = 0
    public var framesSent: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    public var bytesSent: UInt64 = 0
    /// Frames not delivered or not sent: not for this host, queues full,
    /// the device busy, no route.
    public var drops: UInt64 = 0
    /// Frames that did not parse or failed a checksum.
    public var errors: UInt64 = 0
    /// TCP connections in each state, and TCP's counters.
    public var tcpConnections: [(state: TCPState, count: Int)] = []
    public var tcp = TCPCounters()

    public init() {}
}

extension NetworkStack {
    /// A stack that keeps no figures reports zeros.
    public var statistics: NetworkStatistics { NetworkStatistics() }
}

extension TCPState {
    /// Every state, in the RFC's order.
    public static var all: [TCPState] {
        [
            .closed, .listen, .synSent, .synReceived, .established, .finWait1, .finWait2, .closeWait,
            .closing, .lastAck, .timeWait,
        ]
    }
}
