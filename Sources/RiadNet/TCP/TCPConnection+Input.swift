import Riad

// Segment arrival for a connection that exists: RFC 9293 section 3.10.7.3
// (SYN-SENT) and 3.10.7.4 (the other states), with RFC 5961's defences
// against blind resets, SYNs and data (sections 3, 4 and 5), RFC 7323's
// PAWS and TS.Recent (sections 5.3 and 4.3), and RFC 5681 section 4.2's
// immediate ACKs. LISTEN and CLOSED are the layer's (TCPLayer+Input.swift).

/// What the layer must do for a connection after one of its segments.
enum TCPInputResult {
    case done
    /// Answer with <SEQ=sequence><CTL=RST>: an unacceptable ACK in
    /// SYN-SENT or SYN-RECEIVED (RFC 9293 sections 3.10.7.3, 3.10.7.4).
    case reset(sequence: TCPSeqNumber)
    /// Reset the connection: data arrived after the application closed it,
    /// so nobody will ever read it (RFC 9293 section 3.10.4; what Linux
    /// does). The connection is already CLOSED.
    case abort
}

extension TCPConnection {
    /// Takes what the peer offered in its SYN (RFC 9293 section 3.7.1 for
    /// the MSS, 536 without the option; RFC 7323 sections 2.2 and 3.2: window
    /// scaling and timestamps only if both ends offer them; RFC 2018
    /// section 2 for SACK).
    mutating func negotiate(_ options: TCPOptions, _ configuration: TCPConfiguration) {
        let peerMSS = options.maximumSegmentSize.map { Int($0) } ?? 536
        sendMSS = Swift.max(Self.minimumMSS, Swift.min(peerMSS, configuration.mss))
        if configuration.windowScaling, let scale = options.windowScale {
            sendScale = Swift.min(scale, TCPOptions.maximumWindowScale)
        } else {
            sendScale = 0
            receiveScale = 0
        }
        sackPermitted = configuration.sack && options.sackPermitted
        if configuration.timestamps, let timestamps = options.timestamps {
            timestampsEnabled = true
            timestampRecent = timestamps.value
        } else {
            timestampsEnabled = false
        }
        congestion.start(mss: dataPerSegment)
    }

    /// SMSS: the data a full segment carries, the MSS less the timestamps
    /// option every segment carries once it is on (RFC 7323 section 3.2;
    /// RFC 9293 section 3.7.1 "reduced by the TCP option length").
    var dataPerSegment: Int { sendMSS - (timestampsEnabled ? 12 : 0) }

    /// A SYN arrived at a listener: this connection answers it from
    /// SYN-RECEIVED (RFC 9293 section 3.10.7.2). Data in the SYN is not
    /// taken; the peer sends it again.
    mutating func acceptSYN(_ segment: TCPRepr, _ configuration: TCPConfiguration) {
        passive = true
        initialReceiveSequence = segment.sequenceNumber
        receiveNext = segment.sequenceNumber + 1
        receiveAdvertisedEdge = receiveNext
        negotiate(segment.options, configuration)
        // The window in a SYN is never scaled (RFC 7323 section 2.2).
        sendWindow = Int(segment.window)
        maximumSendWindow = sendWindow
        sendWindowUpdateSequence = segment.sequenceNumber
        sendWindowUpdateAcknowledgment = initialSendSequence
    }

    /// Processes one segment of this connection.
    mutating func receive(
        _ segment: TCPRepr, payload: UnsafeRawBufferPointer, now: UInt64,
        _ configuration: TCPConfiguration, _ counters: inout TCPCounters
    ) -> TCPInputResult {
        switch state {
        case .closed, .listen: return .done
        case .synSent: return receiveInSynSent(segment, payload: payload, now: now, configuration, &counters)
        default: return receiveSynchronized(segment, payload: payload, now: now, configuration, &counters)
        }
    }

    /// RFC 9293 section 3.10.7.3.
    private mutating func receiveInSynSent(
        _ segment: TCPRepr, payload: UnsafeRawBufferPointer, now: UInt64,
        _ configuration: TCPConfiguration, _ counters: inout TCPCounters
    ) -> TCPInputResult {
        let flags = segment.flags
        if flags.contains(.rst) { counters.resetsReceived &+= 1 }
        // First: an ACK must acknowledge our SYN, ISS < SEG.ACK =< SND.NXT.
        if let ack = segment.acknowledgmentNumber, !(initialSendSequence < ack && ack <= sendMax) {
            counters.droppedUnacceptable &+= 1
            return flags.contains(.rst) ? .done : .reset(sequence: ack)
        }
        // Second: a reset is acceptable only with an acceptable ACK (RFC
        // 5961 section 3.2 for SYN-SENT).
        if flags.contains(.rst) {
            guard segment.acknowledgmentNumber != nil else { return .done }
            enterClosed(error: .refused)
            return .done
        }
        guard flags.contains(.syn) else { return .done }
        // Fourth: the peer's SYN.
        initialReceiveSequence = segment.sequenceNumber
        receiveNext = segment.sequenceNumber + 1
        receiveAdvertisedEdge = receiveNext
        negotiate(segment.options, configuration)
        sendWindow = Int(segment.window)
        maximumSendWindow = sendWindow
        sendWindowUpdateSequence = segment.sequenceNumber
        lastReceived = now
        guard let ack = segment.acknowledgmentNumber else {
            // Simultaneous open (RFC 9293 figure 8): SYN-RECEIVED, and the
            // SYN goes again, now with an ACK.
            state = .synReceived
            sendNext = initialSendSequence
            sendWindowUpdateAcknowledgment = initialSendSequence
            return .done
        }
        sendWindowUpdateAcknowledgment = ack
        sendUnacknowledged = ack
        if sendNext < ack { sendNext = ack }
        sampleRTT(segment, ack: ack, now: now)
        retransmitDeadline = nil
        retransmissions = 0
        enterEstablished(configuration)
        ackNow = true
        // Data or a FIN in the SYN-ACK (RFC 9293: "continue processing at
        // the sixth step").
        processText(
            sequence: segment.sequenceNumber + 1, payload: payload, fin: flags.contains(.fin), now: now,
            configuration, &counters)
        return .done
    }

    /// The handshake is over: ESTABLISHED, or FIN-WAIT-1 if the
    /// application shut down meanwhile.
    mutating func enterEstablished(_ configuration: TCPConfiguration) {
        allocateBuffers(configuration)
        state = finQueued ? .finWait1 : .established
        wasEstablished = true
        congestion.start(mss: dataPerSegment)
    }

    /// RFC 9293 section 3.10.7.4, in its order.
    private mutating func receiveSynchronized(
        _ segment: TCPRepr, payload: UnsafeRawBufferPointer, now: UInt64,
        _ configuration: TCPConfiguration, _ counters: inout TCPCounters
    ) -> TCPInputResult {
        let flags = segment.flags
        var sequence = segment.sequenceNumber
        var payload = payload
        var fin = flags.contains(.fin)
        let window = receiveSpace(configuration)

        // PAWS (RFC 7323 section 5.3 R1): an older timestamp marks an old
        // duplicate, whatever its sequence number says.
        if timestampsEnabled, !flags.contains(.rst), let timestamps = segment.options.timestamps,
            Int32(bitPattern: timestamps.value &- timestampRecent) < 0
        {
            counters.droppedUnacceptable &+= 1
            ackNow = true
            return .done
        }

        // Second, the RST bit, with RFC 5961 section 3.2: only an exact
        // match resets; elsewhere in the window it earns a challenge ACK.
        if flags.contains(.rst) {
            counters.resetsReceived &+= 1
            if sequence == receiveNext { return resetReceived() }
            if sequence.isIn(from: receiveNext, upTo: receiveNext + Swift.max(window, 1)) {
                challengeACK(now: now, configuration, &counters)
            } else {
                counters.droppedUnacceptable &+= 1
            }
            return .done
        }

        // Fourth, the SYN bit (RFC 5961 section 4.2: a challenge ACK,
        // whatever the sequence number). In SYN-RECEIVED the peer's own SYN
        // again means our SYN-ACK was lost; its SYN-ACK (simultaneous open)
        // is taken without the SYN, whose number is already acknowledged.
        if flags.contains(.syn) {
            if state == .synReceived, sequence == initialReceiveSequence {
                guard segment.acknowledgmentNumber != nil else {
                    sendNext = initialSendSequence
                    return .done
                }
                sequence = sequence + 1
            } else {
                challengeACK(now: now, configuration, &counters)
                return .done
            }
        }

        // First, the sequence number (RFC 9293 section 3.4's four cases).
        let length = payload.count + (fin ? 1 : 0)
        let windowEnd = receiveNext + window
        let acceptable: Bool
        if length == 0 {
            acceptable =
                window == 0 ? sequence == receiveNext : sequence.isIn(from: receiveNext, upTo: windowEnd)
        } else {
            acceptable =
                window > 0
                && (sequence.isIn(from: receiveNext, upTo: windowEnd)
                    || (sequence + (length - 1)).isIn(from: receiveNext, upTo: windowEnd))
        }
        if !acceptable {
            // "Special allowance" for a zero window: the ACK (and a FIN,
            // which takes no buffer space) at RCV.NXT are still processed.
            guard window == 0, sequence == receiveNext else {
                if state == .timeWait, fin { enterTimeWait(now: now, configuration) }
                counters.droppedUnacceptable &+= 1
                ackNow = true
                return .done
            }
            payload = UnsafeRawBufferPointer(rebasing: payload[0..<0])
            ackNow = true
        }
        // Only the new part of a segment counts: trim what was received
        // before and what lies past the window.
        if sequence < receiveNext {
            let old = Swift.min(receiveNext - sequence, payload.count)
            payload = UnsafeRawBufferPointer(rebasing: payload[old...])
            sequence = receiveNext
        }
        let excess = (sequence - receiveNext) + payload.count - window
        if excess > 0 {
            payload = UnsafeRawBufferPointer(rebasing: payload[0..<(payload.count - excess)])
            fin = false
        }
        lastReceived = now
        keepaliveProbes = 0

        // TS.Recent (RFC 7323 section 4.3): from segments that reach the
        // left edge of the window.
        if timestampsEnabled, let timestamps = segment.options.timestamps,
            !(lastACKSent < segment.sequenceNumber),
            Int32(bitPattern: timestamps.value &- timestampRecent) >= 0
        {
            timestampRecent = timestamps.value
        }

        // Fifth, the ACK field.
        guard let ack = segment.acknowledgmentNumber else { return .done }
        if state == .synReceived {
            guard sendUnacknowledged < ack && ack <= sendMax else { return .reset(sequence: ack) }
            sendWindow = Int(segment.window) << Int(sendScale)
            maximumSendWindow = Swift.max(maximumSendWindow, sendWindow)
            sendWindowUpdateSequence = segment.sequenceNumber
            sendWindowUpdateAcknowledgment = ack
            enterEstablished(configuration)
        }
        // RFC 5961 section 5.2: (SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT,
        // or a challenge ACK and the segment is dropped.
        guard !(sendMax < ack), !(ack < sendUnacknowledged - maximumSendWindow) else {
            counters.droppedUnacceptable &+= 1
            challengeACK(now: now, configuration, &counters)
            return .done
        }
        let bare =
            payload.isEmpty && !flags.contains(.fin) && !flags.contains(.syn) && segment.payload.isEmpty
        processACK(segment, ack: ack, bare: bare, now: now, configuration, &counters)
        switch state {
        case .finWait1 where finAcknowledged:
            state = .finWait2
            if applicationClosed { closeDeadline = now &+ configuration.finWait2Timeout }
        case .closing where finAcknowledged:
            enterTimeWait(now: now, configuration)
        case .lastAck where finAcknowledged:
            enterClosed(error: nil)
            return .done
        default:
            break
        }

        // Seventh, the text; eighth, the FIN.
        if !payload.isEmpty && receivesData && applicationClosed {
            enterClosed(error: nil)
            return .abort
        }
        processText(sequence: sequence, payload: payload, fin: fin, now: now, configuration, &counters)
        return .done
    }

    /// An acceptable reset (RFC 9293 section 3.10.7.4, "second").
    private mutating func resetReceived() -> TCPInputResult {
        switch state {
        case .synReceived:
            // Back to LISTEN for a passive open (the listener never left
            // it); refused for an active one.
            enterClosed(error: passive ? nil : .refused)
        case .established, .finWait1, .finWait2, .closeWait:
            enterClosed(error: .reset)
        default:
            enterClosed(error: nil)
        }
        return .done
    }

    /// Segment text and FIN (RFC 9293 section 3.10.7.4, seventh and
    /// eighth), `sequence` being where `payload` starts, trimmed to the
    /// window.
    private mutating func processText(
        sequence: TCPSeqNumber, payload: UnsafeRawBufferPointer, fin: Bool, now: UInt64,
        _ configuration: TCPConfiguration, _ counters: inout TCPCounters
    ) {
        if !payload.isEmpty && receivesData {
            if sequence == receiveNext {
                let taken = receiveBuffer.append(payload)
                receiveNext += taken
                if !reassembly.isEmpty {
                    // RFC 5681 section 4.2: data that fills a hole is
                    // acknowledged at once.
                    let next = reassembly.advance(receiveNext)
                    receiveBuffer.extend(by: next - receiveNext)
                    receiveNext = next
                    ackNow = true
                }
                bytesSinceACK += taken
                largestSegmentReceived = Swift.max(largestSegmentReceived, payload.count)
                // RFC 1122 section 4.2.3.2 / RFC 5681 section 4.2: an ACK
                // for at least every second full-sized segment, and none
                // held longer than the delay.
                if configuration.delayedACK == 0 || bytesSinceACK >= 2 * largestSegmentReceived {
                    ackNow = true
                } else if delayedACKDeadline == nil {
                    delayedACKDeadline = now &+ configuration.delayedACK
                }
            } else {
                // Ahead of a hole: kept in the ring at its place, reported
                // in SACK blocks, acknowledged at once (RFC 5681 section 4.2).
                counters.outOfOrderSegments &+= 1
                if reassembly.insert(from: sequence, to: sequence + payload.count) {
                    receiveBuffer.write(payload, atOffset: sequence - receiveNext)
                }
                ackNow = true
            }
        }
        if fin && receivesOrAwaitsFIN {
            let at = sequence + payload.count
            if at == receiveNext {
                processFIN(now: now, configuration)
            } else if receiveNext < at {
                pendingFIN = at
                ackNow = true
            }
        }
        if let at = pendingFIN, at == receiveNext { processFIN(now: now, configuration) }
    }

    /// States where a FIN from the peer is still news.
    private var receivesOrAwaitsFIN: Bool {
        state == .synReceived || receivesData
    }

    /// The peer's FIN, in order (RFC 9293 section 3.10.7.4, "eighth").
    private mutating func processFIN(now: UInt64, _ configuration: TCPConfiguration) {
        receiveNext += 1
        finReceived = true
        pendingFIN = nil
        ackNow = true
        switch state {
        case .synReceived, .established: state = .closeWait
        case .finWait1:
            if finAcknowledged {
                enterTimeWait(now: now, configuration)
            } else {
                state = .closing
            }
        case .finWait2: enterTimeWait(now: now, configuration)
        default: break
        }
    }
}
