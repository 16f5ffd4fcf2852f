// The retransmission timeout: RFC 6298 ("Computing TCP's Retransmission
// Timer"). SRTT and RTTVAR from RTT samples (section 2), a minimum and a
// maximum (sections 2.4, 2.5), exponential backoff on expiry (section 5.5).
// Which samples may be taken (Karn's rule, section 3; RFC 7323 section 4
// for timestamps) is the connection's business; this type only computes.

/// SRTT, RTTVAR and the RTO of one connection, in nanoseconds.
struct TCPRetransmissionTimer {
    /// The smoothed round-trip time; nil before the first sample.
    private(set) var smoothed: UInt64?
    /// The round-trip time variation.
    private(set) var variation: UInt64 = 0
    /// The timeout in force, backoff included.
    private(set) var timeout: UInt64
    private let minimum: UInt64
    private let maximum: UInt64

    /// The clock granularity G of RFC 6298 section 2: the timestamps
    /// option's tick, one millisecond.
    static let granularity: UInt64 = 1_000_000

    init(initial: UInt64, minimum: UInt64, maximum: UInt64) {
        self.minimum = minimum
        self.maximum = Swift.max(minimum, maximum)
        timeout = Swift.min(Swift.max(initial, minimum), self.maximum)
    }

    /// Takes the round-trip time `sample` (RFC 6298 sections 2.2, 2.3) and
    /// sets the RTO from it, which also ends any backoff.
    mutating func add(sample: UInt64) {
        let sample = Swift.min(sample, maximum)
        if let srtt = smoothed {
            // RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'|; SRTT <- 7/8 SRTT + 1/8 R'.
            let difference = srtt > sample ? srtt - sample : sample - srtt
            variation = (variation * 3 + difference) / 4
            smoothed = (srtt * 7 + sample) / 8
        } else {
            smoothed = sample
            variation = sample / 2
        }
        let rto = (smoothed ?? sample) + Swift.max(Self.granularity, 4 * variation)
        timeout = Swift.min(Swift.max(rto, minimum), maximum)
    }

    /// Doubles the RTO after an expiry, up to the maximum (RFC 6298 section 5.5).
    mutating func backOff() {
        timeout = timeout > maximum / 2 ? maximum : timeout * 2
    }
}
