import Riad

// A connection's timers (RFC 9293 section 3.8): retransmission (RFC 6298
// section 5), delayed ACK (RFC 1122 section 4.2.3.2), persist (RFC 9293
// section 3.8.6.1; RFC 1122 section 4.2.2.17), keepalive (RFC 1122
// section 4.2.3.6), TIME-WAIT (RFC 9293 section 3.4.2) and the FIN-WAIT-2
// limit for connections the application has let go of.

extension TCPConnection {
    /// Runs every timer that has expired by `now`.
    mutating func runTimers(now: UInt64, _ configuration: TCPConfiguration, _ counters: inout TCPCounters) {
        guard inUse, state != .closed, state != .listen else { return }
        if let deadline = closeDeadline, deadline <= now {
            enterClosed(error: nil)
            return
        }
        if let deadline = retransmitDeadline, deadline <= now {
            retransmissionTimeout(configuration, &counters)
            if state == .closed { return }
        }
        if let deadline = persistDeadline, deadline <= now {
            persistTimeout(configuration, &counters)
            if state == .closed { return }
        }
        if let deadline = delayedACKDeadline, deadline <= now {
            delayedACKDeadline = nil
            ackNow = true
        }
        if let deadline = keepaliveDeadline(configuration), deadline <= now {
            keepaliveTimeout(now: now, configuration, &counters)
        }
    }

    /// RFC 6298 section 5.4 to 5.6: back off, and send again from the
    /// first unacknowledged byte (go-back-N) with cwnd at one segment (RFC
    /// 5681 section 3.1). Gives up after the configured number of tries.
    private mutating func retransmissionTimeout(
        _ configuration: TCPConfiguration, _ counters: inout TCPCounters
    ) {
        retransmitDeadline = nil
        counters.timeouts &+= 1
        let handshake = state == .synSent || state == .synReceived
        let limit = handshake ? configuration.synRetries : configuration.maximumRetransmissions
        guard retransmissions < limit else {
            counters.connectionFailures &+= 1
            enterClosed(error: .timedOut)
            return
        }
        retransmissions += 1
        rto.backOff()
        timedSequence = nil
        fastRetransmit = false
        if handshake {
            sendNext = initialSendSequence
        } else {
            congestion.timeout(flight: flightSize, highest: sendMax)
            sendNext = sendUnacknowledged
            // The receiver may have reneged: forget its SACKs (RFC 2018
            // section 8); ACKs of the retransmissions bring fresh ones.
            scoreboard.removeAll()
            recoveryPoint = sendUnacknowledged
        }
    }

    /// The persist timer: a zero window gets a probe, a window too small to
    /// fill gets whatever fits (RFC 9293 section 3.8.6.2.1's override).
    /// Probes back off like retransmissions; a peer that answers none of
    /// `maximumRetransmissions` of them is given up.
    private mutating func persistTimeout(_ configuration: TCPConfiguration, _ counters: inout TCPCounters) {
        persistDeadline = nil
        if sendWindow == 0 {
            guard probesUnanswered < configuration.maximumRetransmissions else {
                counters.connectionFailures &+= 1
                enterClosed(error: .timedOut)
                return
            }
            probesUnanswered += 1
            probeNow = true
        } else {
            forceSend = true
        }
        persistInterval =
            persistInterval > configuration.maximumRTO / 2 ? configuration.maximumRTO : persistInterval * 2
    }

    /// Arms the persist timer when data waits that nothing will send: no
    /// retransmission timer runs (so no ACK is coming) and the window does
    /// not let the data go. Disarms it otherwise. Called after output.
    mutating func updatePersistTimer(now: UInt64, _ configuration: TCPConfiguration) {
        let waiting =
            state.isSynchronized && retransmitDeadline == nil && !probeNow && !forceSend
            && sendBuffer.count > sendNext - sendBase && dataSegment(now: now, configuration) == nil
        if waiting {
            guard persistDeadline == nil else { return }
            if persistInterval == 0 { persistInterval = rto.timeout }
            persistDeadline = now &+ persistInterval
        } else if !probeNow && !forceSend {
            persistDeadline = nil
            persistInterval = 0
        }
    }

    /// RFC 1122 section 4.2.3.6: after the idle time, probes at the
    /// interval; the connection fails when `keepaliveCount` go unanswered.
    /// Only an otherwise quiet connection is probed: with data outstanding
    /// the retransmission timer watches the peer.
    private mutating func keepaliveTimeout(
        now: UInt64, _ configuration: TCPConfiguration, _ counters: inout TCPCounters
    ) {
        guard sendUnacknowledged == sendMax, sendBuffer.isEmpty else {
            lastReceived = now
            keepaliveProbes = 0
            return
        }
        guard keepaliveProbes < configuration.keepaliveCount else {
            counters.connectionFailures &+= 1
            enterClosed(error: .timedOut)
            return
        }
        keepaliveProbes += 1
        keepaliveProbeNow = true
    }
}
