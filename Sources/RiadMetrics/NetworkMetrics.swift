import Riad
import RiadNet

/// The sampled sources of a network stack: `net` (frames, bytes, drops and
/// errors of the interface) and `tcp` (connections per state as gauges,
/// segments, retransmissions, resets, failures as counters), both tagged
/// with the interface's name.
public struct NetworkMetrics {
    public let net: MetricSource
    public let tcp: MetricSource

    public init<Stack: NetworkStack>(metrics: Metrics, stack: Stack, interface: String) {
        let tags = [MetricTag("interface", interface)]
        let net = metrics.source("net", tags: tags)
        let framesReceived = net.counter("frames_received", help: "Frames received.")
        let framesSent = net.counter("frames_sent", help: "Frames sent.")
        let bytesReceived = net.counter("received", unit: .bytes, help: "Bytes received.")
        let bytesSent = net.counter("sent", unit: .bytes, help: "Bytes sent.")
        let drops = net.counter("drops", help: "Frames dropped: not for this host, queues full, no route.")
        let errors = net.counter("errors", help: "Frames that did not parse or failed a checksum.")

        let tcp = metrics.source("tcp", tags: tags)
        let states = TCPState.all.map { state in
            (state, tcp.gauge(Self.fieldName(state), help: "TCP connections in \(state.description)."))
        }
        let segmentsReceived = tcp.counter("segments_received", help: "TCP segments received.")
        let segmentsSent = tcp.counter("segments_sent", help: "TCP segments sent.")
        let retransmissions = tcp.counter("retransmissions", help: "TCP segments sent again.")
        let resetsSent = tcp.counter("resets_sent", help: "TCP resets sent.")
        let resetsReceived = tcp.counter("resets_received", help: "TCP resets received.")
        let failures = tcp.counter("connection_failures", help: "TCP connections that timed out.")
        let badSegments = tcp.counter("bad_segments", help: "TCP segments that did not parse.")

        net.sampler = {
            let figures = stack.statistics
            framesReceived.set(figures.framesReceived)
            framesSent.set(figures.framesSent)
            bytesReceived.set(figures.bytesReceived)
            bytesSent.set(figures.bytesSent)
            drops.set(figures.drops)
            errors.set(figures.errors)
        }
        tcp.sampler = {
            let figures = stack.statistics
            for (state, gauge) in states {
                let count = figures.tcpConnections.first { $0.state == state }?.count ?? 0
                gauge.set(Int64(count))
            }
            segmentsReceived.set(figures.tcp.segmentsReceived)
            segmentsSent.set(figures.tcp.segmentsSent)
            retransmissions.set(figures.tcp.retransmissions)
            resetsSent.set(figures.tcp.resetsSent)
            resetsReceived.set(figures.tcp.resetsReceived)
            failures.set(figures.tcp.connectionFailures)
            badSegments.set(figures.tcp.badSegments)
        }
        self.net = net
        self.tcp = tcp
    }

    /// "established", "time_wait": a state as a field name.
    static func fieldName(_ state: TCPState) -> String {
        switch state {
        case .closed: return "closed"
        case .listen: return "listen"
        case .synSent: return "syn_sent"
        case .synReceived: return "syn_received"
        case .established: return "established"
        case .finWait1: return "fin_wait_1"
        case .finWait2: return "fin_wait_2"
        case .closeWait: return "close_wait"
        case .closing: return "closing"
        case .lastAck: return "last_ack"
        case .timeWait: return "time_wait"
        }
    }
}
