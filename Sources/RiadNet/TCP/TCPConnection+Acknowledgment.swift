// The ACK field of an acceptable segment (RFC 9293 section 3.10.7.4,
// "fifth, check the ACK field"): what it acknowledges leaves the send
// buffer, the RTT is sampled (RFC 6298 section 3, RFC 7323 section 4),
// cwnd moves (RFC 5681), duplicates lead to fast retransmit and recovery
// (RFC 5681 section 3.2, RFC 6582; with SACK, RFC 6675's choice of holes),
// and the send window is updated from the newest segment only.

extension TCPConnection {
    /// The ACK field of an acceptable segment (RFC 9293 section 3.10.7.4,
    /// ESTABLISHED; RFC 6298 for the timer; RFC 5681 and 6582 for cwnd).
    mutating func processACK(
        _ segment: TCPRepr, ack: TCPSeqNumber, bare: Bool, now: UInt64, _ configuration: TCPConfiguration,
        _ counters: inout TCPCounters
    ) {
        let window = Int(segment.window) << Int(sendScale)
        let acknowledged = ack - sendUnacknowledged
        if acknowledged > 0 {
            var data = acknowledged
            if sendUnacknowledged == initialSendSequence { data -= 1 }  // the SYN
            if finQueued && finSequence < ack { data -= 1 }  // the FIN
            data = Swift.min(Swift.max(data, 0), sendBuffer.count)
            sendBuffer.discard(data)
            sendBase += data
            sendUnacknowledged = ack
            if sendNext < ack { sendNext = ack }
            sampleRTT(segment, ack: ack, now: now)
            retransmissions = 0
        }
        if sackPermitted {
            scoreboard.acknowledge(sendUnacknowledged)
            scoreboard.record(segment.options.sackBlocks, unacknowledged: sendUnacknowledged, sent: sendMax)
        }
        if acknowledged > 0 {
            if congestion.newACK(acked: acknowledged, ack: ack, flight: flightSize) {
                // A partial ACK (RFC 6582 section 3.2 step 5): the next
                // hole goes at once. With SACK, only a hole that SACKed data
                // above shows lost (RFC 6675 section 4): a partial ACK alone
                // may just mean reordering.
                if !sackPermitted {
                    scheduleRetransmission(from: sendUnacknowledged)
                } else if let hole = nextHole() {
                    scheduleRetransmission(from: hole)
                }
            }
            if sendUnacknowledged == sendMax { fastRetransmit = false }
            retransmitDeadline = sendUnacknowledged < sendNext ? now &+ rto.timeout : nil
        } else if bare, ack == sendUnacknowledged, sendUnacknowledged < sendMax, window == sendWindow,
            sendWindow > 0
        {
            // A duplicate ACK (RFC 5681 section 2): no data, no window
            // change, data outstanding.
            if congestion.duplicateACK(ack: ack, flight: flightSize, highest: sendMax) {
                recoveryPoint = sendUnacknowledged
                scheduleRetransmission(from: sendUnacknowledged)
                timedSequence = nil
                counters.fastRetransmits &+= 1
            } else if congestion.inRecovery, let hole = nextHole() {
                // Each further duplicate with SACK blocks sends the next
                // hole, in place of the new segment cwnd inflation allows.
                scheduleRetransmission(from: hole)
                congestion.retransmittedHole()
            }
        }
        probesUnanswered = 0
        // The send window, from the newest segment only (SND.WL1, SND.WL2).
        if !(ack < sendUnacknowledged),
            sendWindowUpdateSequence < segment.sequenceNumber
                || (sendWindowUpdateSequence == segment.sequenceNumber
                    && !(ack < sendWindowUpdateAcknowledgment))
        {
            sendWindow = window
            maximumSendWindow = Swift.max(maximumSendWindow, window)
            sendWindowUpdateSequence = segment.sequenceNumber
            sendWindowUpdateAcknowledgment = ack
        }
        // A closed window: what was sent past it is not in the peer's
        // buffer; send it again once the window opens, and probe meanwhile.
        if sendWindow == 0 && sendUnacknowledged < sendNext {
            sendNext = sendUnacknowledged
            retransmitDeadline = nil
        }
    }

    /// Retransmits from `start` at the next poll, outside cwnd.
    private mutating func scheduleRetransmission(from start: TCPSeqNumber) {
        retransmitFrom = start
        fastRetransmit = true
    }

    /// The first hole below the highest SACKed byte that this recovery
    /// has not sent again (RFC 6675 section 4, NextSeg rule 1).
    private func nextHole() -> TCPSeqNumber? {
        guard let highest = scoreboard.highest else { return nil }
        let hole = scoreboard.nextUnsacked(from: TCPSeqNumber.max(sendUnacknowledged, recoveryPoint)).start
        return hole < highest ? hole : nil
    }

    /// An RTT sample from an ACK of new data: from the timestamp it echoes
    /// (RFC 7323 section 4, unambiguous even for retransmissions), else
    /// from the one timed segment (RFC 6298 section 3, Karn's rule).
    mutating func sampleRTT(_ segment: TCPRepr, ack: TCPSeqNumber, now: UInt64) {
        if timestampsEnabled, let timestamps = segment.options.timestamps, timestamps.echoReply != 0 {
            let elapsed = Int32(bitPattern: timestampClock(now) &- timestamps.echoReply)
            if elapsed >= 0 { rto.add(sample: UInt64(elapsed) * 1_000_000) }
            timedSequence = nil
        } else if let timed = timedSequence, timed < ack {
            rto.add(sample: now &- timedAt)
            timedSequence = nil
        }
    }
}
