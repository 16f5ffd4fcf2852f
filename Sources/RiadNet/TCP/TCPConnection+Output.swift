// What a connection sends: RFC 9293 section 3.8.6 (the send window,
// sender SWS avoidance in 3.8.6.2.1, receiver SWS avoidance in 3.8.6.2.2,
// zero-window probes in 3.8.6.1), section 3.7.4 and RFC 896 (Nagle), RFC
// 5681 (cwnd), RFC 7323 (timestamps on every segment, scaled windows) and
// RFC 2018 (SACK blocks on ACKs while data is out of order).
//
// `nextSegment` decides without changing anything, so the layer can ask it
// both to send (then `didSend` records what went) and to know whether
// anything is waiting (`nextDeadline`). A segment the device refuses is
// therefore never half-sent.

/// A segment a connection wants sent: its header, and where its payload
/// lies in the send buffer.
struct TCPOutgoing {
    enum Kind {
        /// SYN or SYN-ACK.
        case synchronize
        /// Data and/or FIN from SND.NXT on (new, or again after a timeout).
        case data
        /// The first unacknowledged segment again: fast retransmit, or a
        /// partial ACK in fast recovery.
        case retransmission
        /// An ACK with an old sequence number, which the peer must answer:
        /// a zero-window probe or a keepalive.
        case probe
        case keepalive
        /// Only an ACK (and the window).
        case acknowledgment
    }

    var repr: TCPRepr
    /// Where the payload starts in the send buffer.
    var dataOffset: Int
    var kind: Kind
    /// The payload per wire segment when the device is to cut this one
    /// (segmentation offload); 0 when it goes as it is.
    var segmentSize = 0
}

extension TCPConnection {
    /// The segment to send now, if any; nil when nothing is due.
    func nextSegment(now: UInt64, _ configuration: TCPConfiguration) -> TCPOutgoing? {
        switch state {
        case .closed, .listen:
            return nil
        case .synSent:
            return sendNext == initialSendSequence ? synchronizeSegment(now: now, configuration) : nil
        case .synReceived:
            if sendNext == initialSendSequence { return synchronizeSegment(now: now, configuration) }
            return ackNow ? controlSegment(.acknowledgment, sequence: sendMax, now: now, configuration) : nil
        default:
            break
        }
        if fastRetransmit, let segment = retransmissionSegment(now: now, configuration) { return segment }
        if let segment = dataSegment(now: now, configuration) { return segment }
        if probeNow {
            return controlSegment(.probe, sequence: sendUnacknowledged - 1, now: now, configuration)
        }
        if keepaliveProbeNow {
            return controlSegment(.keepalive, sequence: sendUnacknowledged - 1, now: now, configuration)
        }
        if ackNow { return controlSegment(.acknowledgment, sequence: sendMax, now: now, configuration) }
        return nil
    }

    /// SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED) with our options; the
    /// window in it is not scaled (RFC 7323 section 2.2).
    private func synchronizeSegment(now: UInt64, _ configuration: TCPConfiguration) -> TCPOutgoing {
        let answering = state == .synReceived
        var options = TCPOptions()
        options.maximumSegmentSize = UInt16(clamping: configuration.mss)
        // Answering, offer only what the peer offered (RFC 7323 sections
        // 1.3 and 3.2, RFC 2018 section 2).
        if answering {
            // negotiate() zeroed both shifts if the peer did not offer one.
            if receiveScale > 0 || sendScale > 0 { options.windowScale = receiveScale }
        } else if configuration.windowScaling {
            options.windowScale = receiveScale
        }
        options.sackPermitted = answering ? sackPermitted : configuration.sack
        if answering ? timestampsEnabled : configuration.timestamps {
            options.timestamps = TCPTimestamps(
                value: timestampClock(now), echoReply: answering ? timestampRecent : 0)
        }
        let window = UInt16(Swift.min(receiveSpace(configuration), Int(UInt16.max)))
        let repr = TCPRepr(
            sourcePort: local.port, destinationPort: remote.port, sequenceNumber: initialSendSequence,
            acknowledgmentNumber: answering ? receiveNext : nil, flags: .syn, window: window,
            options: options)
        return TCPOutgoing(repr: repr, dataOffset: 0, kind: .synchronize)
    }

    /// The options of a segment after the handshake: timestamps (RFC 7323
    /// section 3.2: on every segment once negotiated) and SACK blocks.
    private func segmentOptions(now: UInt64) -> TCPOptions {
        var options = TCPOptions()
        if timestampsEnabled {
            options.timestamps = TCPTimestamps(value: timestampClock(now), echoReply: timestampRecent)
        }
        if sackPermitted && !reassembly.isEmpty { options.sackBlocks = reassembly.sackBlocks }
        return options
    }

    /// A segment with ACK and no data.
    private func controlSegment(
        _ kind: TCPOutgoing.Kind, sequence: TCPSeqNumber, now: UInt64, _ configuration: TCPConfiguration
    ) -> TCPOutgoing {
        let repr = TCPRepr(
            sourcePort: local.port, destinationPort: remote.port, sequenceNumber: sequence,
            acknowledgmentNumber: receiveNext, window: windowField(configuration),
            options: segmentOptions(now: now))
        return TCPOutgoing(repr: repr, dataOffset: 0, kind: kind)
    }

    /// States in which data and the FIN go out (or go out again).
    private var sendsData: Bool {
        switch state {
        case .established, .closeWait, .finWait1, .closing, .lastAck: return true
        default: return false
        }
    }

    /// New data (or data again after a timeout) from SND.NXT, within the
    /// send window and cwnd, by the rules of sender SWS avoidance and
    /// Nagle; the FIN after the last byte.
    func dataSegment(now: UInt64, _ configuration: TCPConfiguration) -> TCPOutgoing? {
        guard sendsData else { return nil }
        // Sending again after a timeout skips what the peer has SACKed.
        var start = sendNext
        var sackedAhead: TCPSeqNumber?
        if start < sendMax && !scoreboard.isEmpty {
            (start, sackedAhead) = scoreboard.nextUnsacked(from: start)
        }
        let offset = start - sendBase
        guard offset >= 0 else { return nil }
        let unsent = Swift.max(0, sendBuffer.count - offset)
        let finPending = finQueued && !(finSequence < start)
        guard unsent > 0 || finPending else { return nil }
        let options = segmentOptions(now: now)
        let largest = Swift.max(1, sendMSS - options.encodedLength)
        // With segmentation offload, several full segments go as one: the
        // device cuts them, so each is still `largest` on the wire.
        let batch = Swift.max(1, configuration.segmentationOffload / largest) * largest
        let allowance = congestion.sendAllowance(newData: start == sendMax)
        let inFlight =
            (start - sendUnacknowledged) - scoreboard.sackedBytes(from: sendUnacknowledged, to: start)
        let usable = Swift.min(sendWindow, allowance) - inFlight
        var length = Swift.min(unsent, batch, Swift.max(0, usable))
        if let sackedAhead { length = Swift.min(length, sackedAhead - start) }
        // Only whole segments in a batch: a short tail goes on its own,
        // under Nagle's rule like any short segment.
        if length > largest { length -= length % largest }
        if length > 0 {
            let all = length == unsent
            let nothingUnacknowledged = sendUnacknowledged == sendMax
            // RFC 9293 section 3.8.6.2.1: a full segment; or everything
            // queued when Nagle allows (nothing unacknowledged, or no
            // delay wanted, or a FIN waiting behind it); or half the
            // largest window the peer offered; or data sent before, or the
            // persist timer's say-so.
            let send =
                length >= largest || start < sendMax || forceSend
                || (all && (noDelay || nothingUnacknowledged || finQueued))
                || (maximumSendWindow > 0 && length >= maximumSendWindow / 2)
            guard send else { return nil }
        }
        let fin = finPending && start + length == finSequence
        guard length > 0 || fin else { return nil }
        var flags: TCPFlags = fin ? .fin : []
        if length > 0 && length == unsent { flags.insert(.psh) }
        let repr = TCPRepr(
            sourcePort: local.port, destinationPort: remote.port, sequenceNumber: start,
            acknowledgmentNumber: receiveNext, flags: flags, window: windowField(configuration),
            options: options, payloadLength: length)
        return TCPOutgoing(
            repr: repr, dataOffset: offset, kind: .data, segmentSize: length > largest ? largest : 0)
    }

    /// A segment from `retransmitFrom` (the first unacknowledged one, or a
    /// hole the peer's SACKs show), outside cwnd (RFC 5681 section 3.2 step
    /// 3; RFC 6582 section 3.2 step 5; RFC 6675 section 5).
    private func retransmissionSegment(now: UInt64, _ configuration: TCPConfiguration) -> TCPOutgoing? {
        let start = TCPSeqNumber.max(retransmitFrom, sendUnacknowledged)
        guard sendsData || state == .finWait2, start < sendMax else { return nil }
        let offset = start - sendBase
        guard offset >= 0 else { return nil }
        let options = segmentOptions(now: now)
        let largest = Swift.max(1, sendMSS - options.encodedLength)
        var sent = Swift.min(sendBuffer.count - offset, sendMax - start)
        if let sackedAhead = scoreboard.nextUnsacked(from: start).limit {
            sent = Swift.min(sent, sackedAhead - start)
        }
        let length = Swift.max(0, Swift.min(sent, largest))
        let fin = finSent && start + length == finSequence
        guard length > 0 || fin else { return nil }
        let repr = TCPRepr(
            sourcePort: local.port, destinationPort: remote.port, sequenceNumber: start,
            acknowledgmentNumber: receiveNext, flags: fin ? .fin : [], window: windowField(configuration),
            options: options, payloadLength: length)
        return TCPOutgoing(repr: repr, dataOffset: offset, kind: .retransmission)
    }

    /// The window to advertise, in bytes: the free space of the receive
    /// buffer, except that it grows only in steps of at least
    /// min(buffer / 2, MSS) (RFC 9293 section 3.8.6.2.2, receiver SWS
    /// avoidance), and never past what 16 bits scaled can say.
    func windowToAdvertise(_ configuration: TCPConfiguration) -> Int {
        let free = receiveSpace(configuration)
        let promised = Swift.min(Swift.max(0, receiveAdvertisedEdge - receiveNext), free)
        let step = Swift.min(receiveCapacity(configuration) / 2, configuration.mss)
        let window = free - promised >= step ? free : promised
        return Swift.min(window, Int(UInt16.max) << Int(receiveScale))
    }

    /// The window field: the window shifted by our scale (RFC 7323 section 2.3).
    func windowField(_ configuration: TCPConfiguration) -> UInt16 {
        UInt16(truncatingIfNeeded: windowToAdvertise(configuration) >> Int(receiveScale))
    }

    /// Whether reading has opened the window enough to tell the peer (RFC
    /// 9293 section 3.8.6.2.2): by at least min(buffer / 2, MSS).
    func windowUpdateDue(_ configuration: TCPConfiguration) -> Bool {
        guard receivesData else { return false }
        let promised = Swift.max(0, receiveAdvertisedEdge - receiveNext)
        let step = Swift.min(receiveCapacity(configuration) / 2, configuration.mss)
        return windowToAdvertise(configuration) - promised >= step
    }

    /// Writes `segment` into `bytes` (exactly its length): the payload from
    /// the send buffer, then the header and checksum.
    func fill(_ bytes: UnsafeMutableRawBufferPointer, with segment: TCPOutgoing) {
        let repr = segment.repr
        if !repr.payload.isEmpty {
            sendBuffer.copy(
                fromOffset: segment.dataOffset,
                into: UnsafeMutableRawBufferPointer(rebasing: bytes[repr.payload]))
        }
        // A segment the device cuts gets its checksums from the device.
        repr.emit(
            into: bytes, source: local.address, destination: remote.address,
            partialChecksum: segment.segmentSize > 0)
    }

    /// Records that `segment` went out (RFC 6298 section 5.1 for the timer).
    mutating func didSend(_ segment: TCPOutgoing, now: UInt64, _ counters: inout TCPCounters) {
        counters.segmentsSent &+= 1
        let repr = segment.repr
        if repr.acknowledgmentNumber != nil {
            lastACKSent = receiveNext
            ackNow = false
            delayedACKDeadline = nil
            bytesSinceACK = 0
            let scale = repr.flags.contains(.syn) ? 0 : Int(receiveScale)
            receiveAdvertisedEdge = receiveNext + (Int(repr.window) << scale)
        }
        let idle = now &- lastSent
        lastSent = now
        let end = repr.sequenceNumber + repr.segmentLength
        switch segment.kind {
        case .synchronize:
            if initialSendSequence < sendMax {
                counters.retransmissions &+= 1
            } else {
                timedSequence = initialSendSequence
                timedAt = now
            }
        case .data:
            if repr.sequenceNumber < sendMax {
                counters.retransmissions &+= 1
            } else {
                // RFC 5681 section 4.1: after an idle RTO, start again from
                // at most the initial window.
                if sendUnacknowledged == sendMax && idle > rto.timeout { congestion.restartAfterIdle() }
                if !timestampsEnabled && timedSequence == nil && !repr.payload.isEmpty {
                    timedSequence = repr.sequenceNumber
                    timedAt = now
                }
            }
            forceSend = false
        case .retransmission:
            counters.retransmissions &+= 1
            fastRetransmit = false
            timedSequence = nil
            if recoveryPoint < end { recoveryPoint = end }
        case .probe:
            probeNow = false
        case .keepalive:
            keepaliveProbeNow = false
        case .acknowledgment:
            break
        }
        guard repr.segmentLength > 0 else { return }
        if segment.kind != .retransmission {
            sendNext = end
            if sendMax < end { sendMax = end }
        }
        if retransmitDeadline == nil { retransmitDeadline = now &+ rto.timeout }
    }
}
