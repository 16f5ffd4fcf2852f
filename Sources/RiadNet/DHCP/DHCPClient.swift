// The DHCPv4 client state machine: RFC 2131 section 4.4 and figure 5.
//
//     INIT ──DISCOVER──▶ SELECTING ──OFFER/REQUEST──▶ REQUESTING ──ACK──▶ BOUND
//       ▲                                                 │ NAK            │ T1
//       ├─────────────────────────────────────────────────┘                ▼
//       ├──────────────NAK, or lease expired──────── REBINDING ◀──T2── RENEWING
//       └──────────────────────────NAK─────────────────────────────────────┘
//
// Retransmission (RFC 2131 section 4.1): 4 s before the first, doubling up
// to 64 s, each randomised by ±1 s; in RENEWING and REBINDING, half the
// time left until T2 or the end of the lease, at least 60 s (section
// 4.4.5). Replies are matched by xid and chaddr (section 4.4.1).
//
// Not implemented: INIT-REBOOT and REBOOTING (a client that remembers its
// lease across boots), probing the offered address with ARP and sending
// DHCPDECLINE (section 2.2 and 4.4.1, SHOULD), DHCPRELEASE, DHCPINFORM,
// the random 1 to 10 s wait before the first DISCOVER (section 4.4.1,
// SHOULD: a unikernel booting wants its address now), choosing among
// several offers (the first is taken).

import Riad

/// A DHCPv4 client: it obtains an address and keeps it renewed.
///
/// Sans-I/O: it is told the time, handed UDP payloads that arrived on port
/// 68 from port 67, and emits its messages through `poll`'s `send`. It never
/// traps on a received payload: what does not parse, or is not an answer
/// to its current exchange, is counted and dropped.
///
/// ```swift
/// var client = DHCPClient(mac: mac, seed: entropy.next())
/// client.start(now: clock.now)
/// loop {
///     client.poll(now: clock.now) { destination, capacity, fill in
///         // UDP 68 → 67, from `client.sourceAddress`, to 255.255.255.255
///         // or to the server, with `fill` writing at most `capacity` bytes
///     }
///     wait until client.nextDeadline() or a datagram for port 68 arrives:
///     client.receive(payload, now: clock.now)
///     if client.leaseGeneration != seen { configure the interface from client.lease }
/// }
/// ```
public struct DHCPClient {
    /// RFC 2131 figure 5, without INIT-REBOOT and REBOOTING.
    public enum State: Sendable, Hashable {
        /// `start` has not been called.
        case stopped
        /// INIT: a DISCOVER goes out at the next `poll`.
        case initial
        /// A DISCOVER is out; waiting for an OFFER.
        case selecting
        /// A REQUEST for the offered address is out; waiting for ACK or NAK.
        case requesting
        /// The lease is held; nothing to do until T1.
        case bound
        /// After T1: REQUESTs go to the server that granted the lease.
        case renewing
        /// After T2: REQUESTs are broadcast to any server.
        case rebinding
    }

    /// Where a message goes. Its IP source address is `sourceAddress`:
    /// 0.0.0.0 until a lease is held (RFC 2131 section 4.1), the leased
    /// address after.
    public enum Destination: Sendable, Hashable {
        /// To 255.255.255.255 (and the Ethernet broadcast address).
        case broadcast
        /// To this server's address (RENEWING).
        case unicast(IPv4Address)
    }

    /// What happened to messages, for monitoring and tests.
    public struct Counters: Sendable, Hashable {
        public var sent: UInt64 = 0
        /// Replies accepted: OFFERs taken, ACKs and NAKs acted on.
        public var accepted: UInt64 = 0
        /// Well-formed but not for this exchange: another xid or chaddr, a
        /// client's message, a reply the state does not expect, an offer or
        /// ACK without a usable address or lease time.
        public var ignored: UInt64 = 0
        /// Did not parse as a DHCP message.
        public var malformed: UInt64 = 0
    }

    public let mac: MACAddress
    /// The host name sent as option 12 (RFC 2132 section 3.14), if valid.
    public let hostname: String?
    public private(set) var state = State.stopped
    /// The lease held in BOUND, RENEWING and REBINDING; nil otherwise.
    public private(set) var lease: DHCPLease?
    /// Goes up by one whenever `lease` is obtained, lost, or changes the
    /// interface's configuration (address, prefix, router, DNS servers);
    /// not when a renewal only extends it. A caller compares it with the
    /// value it saw last to know when to reconfigure.
    public private(set) var leaseGeneration: UInt64 = 0
    public private(set) var counters = Counters()

    private var random: ProtocolRandom
    /// The hostname's octets, empty when there is none.
    private let hostnameBytes: [UInt8]
    /// xid of the current exchange (RFC 2131 section 4.4.1: "selected by
    /// the client", random so replies to other clients do not match).
    private var transactionID: UInt32 = 0
    /// When the current exchange began: for `secs` (RFC 2131 section 2).
    private var exchangeStart: UInt64 = 0
    /// When the first REQUEST of the current exchange went out: a lease runs
    /// from there (section 4.4.1).
    private var requestSentAt: UInt64 = 0
    /// Messages sent in the current state.
    private var transmissions = 0
    /// When the next message goes out; nil when none is due.
    private var transmitAt: UInt64?
    /// The OFFER taken in SELECTING: its address and server.
    private var offeredAddress = IPv4Address.unspecified
    private var offeringServer = IPv4Address.unspecified
    /// The last address held, asked for again in DISCOVER (option 50).
    private var previousAddress: IPv4Address?

    static let second: UInt64 = 1_000_000_000
    /// RFC 2131 section 4.1: the first retransmission after 4 s, doubling...
    static let initialBackoff = 4 * second
    /// ...up to 64 s...
    static let maximumBackoff = 64 * second
    /// ...each randomised by a uniform -1 to +1 s.
    static let jitter = second
    /// REQUESTs in REQUESTING before going back to INIT: 4, 8, 16, 32 s
    /// apart and 64 s after the last (section 3.1 step 5: with neither ACK
    /// nor NAK "after employing the retransmission algorithm", start over).
    static let requestTransmissions = 5
    /// RFC 2131 section 4.4.5: retransmissions in RENEWING and REBINDING
    /// are at least 60 s apart.
    static let minimumRenewalWait = 60 * second

    /// A client for the interface whose hardware address is `mac`.
    ///
    /// - Parameters:
    ///   - seed: Seeds the transaction IDs and the retransmission jitter;
    ///     a kernel takes it from the platform's `Entropy`.
    ///   - hostname: Sent as option 12 so the server can name the host
    ///     (dnsmasq puts it in its DNS). Kept only if it is 1 to 63
    ///     letters, digits and hyphens (a DNS label, RFC 1123 section 2.1).
    public init(mac: MACAddress, seed: UInt64, hostname: String? = nil) {
        self.mac = mac
        random = ProtocolRandom(seed: seed)
        if let hostname, DHCPClient.isValidHostname(hostname) {
            self.hostname = hostname
            hostnameBytes = Array(hostname.utf8)
        } else {
            self.hostname = nil
            hostnameBytes = []
        }
    }

    /// The IP source address of what `poll` sends.
    public var sourceAddress: IPv4Address { lease?.address.address ?? .unspecified }

    /// Starts (or restarts) from INIT: a DISCOVER goes out at the next
    /// `poll`. A lease held is dropped.
    public mutating func start(now: UInt64) {
        restart(now: now)
    }

    /// When `poll` next has something to do: a message to send, or T1, T2
    /// or the end of the lease. nil when nothing is scheduled.
    public func nextDeadline() -> UInt64? {
        var deadline = transmitAt ?? .max
        if let lease {
            switch state {
            case .bound: deadline = Swift.min(deadline, lease.renewAt)
            case .renewing: deadline = Swift.min(deadline, lease.rebindAt)
            default: break
            }
            deadline = Swift.min(deadline, lease.expiresAt)
        }
        return deadline == .max ? nil : deadline
    }

    // MARK: - Timers and transmission

    /// Acts on the time: moves to RENEWING at T1, REBINDING at T2, INIT when
    /// the lease ends, and sends the message that is due, if any.
    ///
    /// - Parameter send: Called with where the message goes, the most bytes
    ///   it can take, and a closure that writes it into a buffer of that
    ///   size and returns its length: a UDP payload from port 68 to 67.
    public mutating func poll(
        now: UInt64, send: (Destination, Int, (UnsafeMutableRawBufferPointer) -> Int) -> Void
    ) {
        runTimers(now: now)
        guard let due = transmitAt, now >= due else { return }
        switch state {
        case .stopped, .bound:
            transmitAt = nil
        case .initial:
            transactionID = UInt32(truncatingIfNeeded: random.next())
            exchangeStart = now
            transmissions = 0
            state = .selecting
            transmit(discover(now: now), to: .broadcast, now: now, send: send)
            transmitAt = now &+ backoff()
        case .selecting:
            transmit(discover(now: now), to: .broadcast, now: now, send: send)
            transmitAt = now &+ backoff()
        case .requesting:
            guard transmissions < DHCPClient.requestTransmissions else {
                restart(now: now)
                return poll(now: now, send: send)
            }
            if transmissions == 0 { requestSentAt = now }
            let request = DHCPRepr.request(
                transactionID: transactionID, clientHardwareAddress: mac, requestedAddress: offeredAddress,
                serverIdentifier: offeringServer, secondsElapsed: secondsElapsed(now), broadcast: true)
            transmit(request, to: .broadcast, now: now, send: send)
            transmitAt = now &+ backoff()
        case .renewing, .rebinding:
            guard let lease else { return restart(now: now) }
            if transmissions == 0 { requestSentAt = now }
            // RFC 2131 section 4.4.5 and table 5: ciaddr set, no server
            // identifier, no requested address.
            var request = DHCPRepr.discover(
                transactionID: transactionID, clientHardwareAddress: mac,
                secondsElapsed: secondsElapsed(now))
            request.messageType = .request
            request.clientAddress = lease.address.address
            let renewing = state == .renewing
            transmit(request, to: renewing ? .unicast(lease.server) : .broadcast, now: now, send: send)
            let until = renewing ? lease.rebindAt : lease.expiresAt
            let half = until > now ? (until - now) / 2 : 0
            transmitAt = DHCPLease.add(now, Swift.max(half, DHCPClient.minimumRenewalWait))
        }
    }

    /// Moves through T1, T2 and the end of the lease; a clock that jumped
    /// past several goes straight to the last.
    private mutating func runTimers(now: UInt64) {
        guard let lease, state == .bound || state == .renewing || state == .rebinding else { return }
        if now >= lease.expiresAt {
            // RFC 2131 section 4.4.5: "the client MUST ... stop using its
            // IP address" and return to INIT.
            restart(now: now)
        } else if now >= lease.rebindAt, state != .rebinding {
            beginExchange(.rebinding, now: now, keepingStart: state == .renewing)
        } else if now >= lease.renewAt, state == .bound {
            beginExchange(.renewing, now: now, keepingStart: false)
        }
    }

    /// Enters RENEWING or REBINDING with a new xid; a REQUEST goes out now.
    /// `secs` counts from the start of renewal (RFC 2131 section 2), so
    /// rebinding after renewing keeps its start.
    private mutating func beginExchange(_ next: State, now: UInt64, keepingStart: Bool) {
        state = next
        transactionID = UInt32(truncatingIfNeeded: random.next())
        if !keepingStart { exchangeStart = now }
        transmissions = 0
        transmitAt = now
    }

    /// Back to INIT, dropping any lease: a DISCOVER goes out at once.
    private mutating func restart(now: UInt64) {
        if let lease {
            previousAddress = lease.address.address
            self.lease = nil
            leaseGeneration &+= 1
        }
        state = .initial
        transmissions = 0
        transmitAt = now
    }

    /// The wait after the `transmissions`-th message in SELECTING or
    /// REQUESTING (RFC 2131 section 4.1).
    private mutating func backoff() -> UInt64 {
        let doublings = UInt64(Swift.min(Swift.max(transmissions - 1, 0), 4))
        let base = Swift.min(DHCPClient.initialBackoff << doublings, DHCPClient.maximumBackoff)
        return UInt64(Int64(base) + random.jitter(DHCPClient.jitter))
    }

    private func secondsElapsed(_ now: UInt64) -> UInt16 {
        UInt16(clamping: (now &- exchangeStart) / DHCPClient.second)
    }

    private func discover(now: UInt64) -> DHCPRepr {
        // RFC 2131 section 4.1: a client that cannot receive unicast before
        // it has an address sets BROADCAST; the IP layer below accepts
        // broadcasts for port 68 whatever its configuration.
        DHCPRepr.discover(
            transactionID: transactionID, clientHardwareAddress: mac, secondsElapsed: secondsElapsed(now),
            requestedAddress: previousAddress, broadcast: true)
    }

    private mutating func transmit(
        _ message: DHCPRepr, to destination: Destination, now: UInt64,
        send: (Destination, Int, (UnsafeMutableRawBufferPointer) -> Int) -> Void
    ) {
        let hostname = hostnameBytes
        let length = DHCPClient.length(of: message, hostname: hostname)
        send(destination, length) { buffer in
            DHCPClient.emit(message, hostname: hostname, into: buffer)
        }
        transmissions += 1
        counters.sent &+= 1
    }

    // MARK: - Replies

    /// Handles a UDP payload that arrived for port 68. Replies that do not
    /// belong to the current exchange are ignored (RFC 2131 section 4.4.1:
    /// xid and chaddr must match). After an OFFER, a REQUEST is due: call
    /// `poll`.
    public mutating func receive(_ payload: UnsafeRawBufferPointer, now: UInt64) {
        guard let reply = try? DHCPRepr.parse(payload) else {
            counters.malformed &+= 1
            return
        }
        guard !reply.messageType.isFromClient, reply.transactionID == transactionID,
            reply.clientHardwareAddress == mac
        else { return ignored() }
        switch (state, reply.messageType) {
        case (.selecting, .offer):
            // RFC 2131 section 4.3.1: an OFFER carries the server
            // identifier, which the REQUEST names.
            guard let server = reply.serverIdentifier, DHCPLease.isUsableUnicast(reply.yourAddress)
            else { return ignored() }
            counters.accepted &+= 1
            offeredAddress = reply.yourAddress
            offeringServer = server
            state = .requesting
            transmissions = 0
            transmitAt = now
        case (.requesting, .ack):
            guard reply.serverIdentifier == nil || reply.serverIdentifier == offeringServer else {
                return ignored()
            }
            bind(reply, server: offeringServer, now: now)
        case (.renewing, .ack), (.rebinding, .ack):
            guard let held = lease else { return ignored() }
            // In REBINDING another server may answer; it takes over renewals.
            let server =
                state == .rebinding ? (reply.serverIdentifier ?? held.server) : held.server
            bind(reply, server: server, now: now)
        case (.requesting, .nak):
            guard reply.serverIdentifier == nil || reply.serverIdentifier == offeringServer else {
                return ignored()
            }
            counters.accepted &+= 1
            restart(now: now)
        case (.renewing, .nak), (.rebinding, .nak):
            // RFC 2131 section 4.4.5: the lease is gone; start over.
            counters.accepted &+= 1
            restart(now: now)
        default:
            ignored()
        }
    }

    /// Takes the lease an ACK grants, if it is usable.
    private mutating func bind(_ ack: DHCPRepr, server: IPv4Address, now: UInt64) {
        guard let granted = DHCPLease(ack, server: server, start: requestSentAt) else { return ignored() }
        counters.accepted &+= 1
        if let held = lease, held.sameConfiguration(as: granted) {
            lease = granted
        } else {
            lease = granted
            leaseGeneration &+= 1
        }
        state = .bound
        transmissions = 0
        transmitAt = nil
        // An ACK that comes too late for its lease (a clock that jumped, a
        // very short lease) ends at the next poll.
        runTimers(now: now)
    }

    private mutating func ignored() {
        counters.ignored &+= 1
    }
}
