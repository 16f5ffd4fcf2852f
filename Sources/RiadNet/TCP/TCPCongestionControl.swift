// Congestion control: RFC 5681 (slow start, congestion avoidance, fast
// retransmit and fast recovery), with RFC 6582's NewReno change to fast
// recovery (partial ACKs keep the sender in recovery and retransmit the
// next hole) and RFC 6928's initial window of ten segments.

/// cwnd, ssthresh and the fast-recovery state of one connection.
struct TCPCongestionControl {
    /// cwnd, in bytes.
    private(set) var window: Int
    /// ssthresh, in bytes: "arbitrarily high" at first (RFC 5681 section 3.1).
    private(set) var threshold = Int.max
    /// Duplicate ACKs in a row (RFC 5681 section 2's definition).
    private(set) var duplicateACKs = 0
    /// RFC 6582's "recover": the highest sequence number sent when fast
    /// recovery (or a timeout) began; a full ACK covers it.
    private(set) var recover: TCPSeqNumber
    /// Whether fast recovery is on (RFC 6582 section 3.2 steps 2 to 5).
    private(set) var inRecovery = false
    /// SMSS: the most data a segment carries.
    private(set) var mss: Int

    init(mss: Int, initialSequence: TCPSeqNumber) {
        self.mss = mss
        window = Self.initialWindow(mss: mss)
        recover = initialSequence
    }

    /// IW = min(10 × MSS, max(2 × MSS, 14,600)) (RFC 6928 section 2).
    static func initialWindow(mss: Int) -> Int {
        Swift.min(10 * mss, Swift.max(2 * mss, 14_600))
    }

    /// Sets SMSS once the handshake has settled it, and the initial window
    /// with it if nothing was acknowledged yet.
    mutating func start(mss: Int) {
        self.mss = mss
        window = Self.initialWindow(mss: mss)
    }

    /// An ACK acknowledged `acked` new bytes, up to `ack`; `flight` bytes
    /// remain outstanding. Returns true for a partial ACK in fast recovery:
    /// the first unacknowledged segment must be retransmitted at once (RFC
    /// 6582 section 3.2 step 5).
    mutating func newACK(acked: Int, ack: TCPSeqNumber, flight: Int) -> Bool {
        if inRecovery {
            if recover < ack {
                // Full acknowledgment (step 6): "min(ssthresh, max(FlightSize, SMSS) + SMSS)".
                window = Swift.min(threshold, Swift.max(flight, mss) + mss)
                inRecovery = false
                duplicateACKs = 0
                return false
            }
            // Partial acknowledgment: deflate by what it acknowledged, add
            // back one SMSS if that was at least one SMSS.
            window = Swift.max(window - acked + (acked >= mss ? mss : 0), mss)
            return true
        }
        duplicateACKs = 0
        if window < threshold {
            // Slow start (RFC 5681 equation 2): at most SMSS per ACK.
            window += Swift.min(acked, mss)
        } else {
            // Congestion avoidance (RFC 5681 equation 3): about one SMSS per RTT.
            window += Swift.max(1, mss * mss / Swift.max(window, 1))
        }
        return false
    }

    /// A duplicate ACK for `ack` arrived while `flight` bytes were
    /// outstanding and `highest` was the highest sequence number sent.
    /// Returns true on the third one, when fast retransmit begins (RFC
    /// 5681 section 3.2 step 2, unless RFC 6582 section 3.2 step 2 finds
    /// the ACK does not cover "recover": a loss already being repaired).
    mutating func duplicateACK(ack: TCPSeqNumber, flight: Int, highest: TCPSeqNumber) -> Bool {
        duplicateACKs += 1
        if inRecovery {
            // Step 4: every further duplicate means a segment left the network.
            window += mss
            return false
        }
        guard duplicateACKs == 3, recover < ack else { return false }
        threshold = Swift.max(flight / 2, 2 * mss)
        recover = highest
        window = threshold + 3 * mss
        inRecovery = true
        return true
    }

    /// The retransmission timer expired with `flight` bytes outstanding
    /// (RFC 5681 section 3.1 equation 4, the loss window; RFC 6582 section
    /// 3.2 for "recover").
    mutating func timeout(flight: Int, highest: TCPSeqNumber) {
        threshold = Swift.max(flight / 2, 2 * mss)
        window = mss
        inRecovery = false
        duplicateACKs = 0
        recover = highest
    }

    /// A hole was sent again in fast recovery on a duplicate ACK: it takes
    /// the segment's worth that the duplicate inflated cwnd by.
    mutating func retransmittedHole() {
        guard inRecovery else { return }
        window = Swift.max(window - mss, mss)
    }

    /// What may be in flight: cwnd, plus one segment for each of the first
    /// two duplicate ACKs outside fast recovery, for new data only (Limited
    /// Transmit, RFC 3042): with a small window, the extra segments draw
    /// the third duplicate ACK that fast retransmit needs.
    func sendAllowance(newData: Bool) -> Int {
        guard newData, !inRecovery else { return window }
        return window + Swift.min(duplicateACKs, 2) * mss
    }

    /// Restart after idle (RFC 5681 section 4.1): a sender that has sent
    /// nothing for an RTO starts again from at most the initial window.
    mutating func restartAfterIdle() {
        window = Swift.min(window, Self.initialWindow(mss: mss))
    }
}
