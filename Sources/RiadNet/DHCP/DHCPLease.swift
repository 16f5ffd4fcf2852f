// What a DHCPv4 server granted: RFC 2131 section 4.4.1 (the lease starts
// when the request was sent), section 4.4.5 (T1 and T2, by default 0.5 and
// 0.875 of the lease) and RFC 2132 (the options the configuration comes
// from).

/// The configuration a `DHCPClient` holds and the times it acts on.
///
/// Times are monotonic nanoseconds, on the clock the client is told;
/// `UInt64.max` means never (an infinite lease, RFC 2131 section 3.3).
public struct DHCPLease: Sendable, Hashable, CustomStringConvertible {
    /// The address and the prefix of its subnet (from the subnet mask
    /// option, or the address's class when the server sends none).
    public var address: IPv4CIDR
    /// The first router the server named, if any.
    public var router: IPv4Address?
    /// Up to three DNS servers, in the server's order of preference.
    public var dnsServers: DHCPAddressList
    /// The server identifier (option 54): where renewals go.
    public var server: IPv4Address
    /// The lease time in seconds as granted; `0xffff_ffff` is infinite.
    public var leaseTime: UInt32
    /// When the request the server answered was first sent: the lease runs
    /// from there (RFC 2131 section 4.4.1).
    public var obtainedAt: UInt64
    /// T1: when the client starts renewing with `server`.
    public var renewAt: UInt64
    /// T2: when the client asks any server to extend the lease.
    public var rebindAt: UInt64
    /// When the address must no longer be used.
    public var expiresAt: UInt64

    /// RFC 2131 section 3.3: "0xffffffff ... represents infinity".
    public static let infinite: UInt32 = 0xffff_ffff

    static let nanosecondsPerSecond: UInt64 = 1_000_000_000

    /// A lease granted by `ack`, for a request first sent at `start`; nil
    /// if the ACK does not carry what a lease needs (a usable address, a
    /// non-zero lease time, a contiguous subnet mask).
    init?(_ ack: DHCPRepr, server: IPv4Address, start: UInt64) {
        guard let leaseTime = ack.leaseTime, leaseTime > 0 else { return nil }
        let address = ack.yourAddress
        let prefix: IPv4CIDR?
        if let mask = ack.subnetMask {
            prefix = IPv4CIDR(address: address, netmask: mask)
        } else {
            prefix = IPv4CIDR(address: address, prefixLength: DHCPLease.classfulPrefix(address))
        }
        guard let prefix, DHCPLease.isUsableHost(prefix) else { return nil }
        self.address = prefix
        self.server = server
        self.leaseTime = leaseTime
        obtainedAt = start

        if let router = ack.router, DHCPLease.isUsableUnicast(router) { self.router = router }
        dnsServers = DHCPAddressList()
        for candidate in ack.dnsServers where DHCPLease.isUsableUnicast(candidate) {
            dnsServers.append(candidate)
        }

        guard leaseTime != DHCPLease.infinite else {
            renewAt = .max
            rebindAt = .max
            expiresAt = .max
            return
        }
        // RFC 2131 section 4.4.5: T1 defaults to half the lease and T2 to
        // seven eighths; a server's values are used when they are in order
        // (T1 < T2 < lease), which protects the timers from a server that
        // sends them out of order.
        let lease = UInt64(leaseTime) * DHCPLease.nanosecondsPerSecond
        var rebinding = lease - lease / 8
        if let given = ack.rebindingTime, UInt64(given) < UInt64(leaseTime) {
            rebinding = UInt64(given) * DHCPLease.nanosecondsPerSecond
        }
        var renewal = Swift.min(lease / 2, rebinding)
        if let given = ack.renewalTime, UInt64(given) * DHCPLease.nanosecondsPerSecond < rebinding {
            renewal = UInt64(given) * DHCPLease.nanosecondsPerSecond
        }
        renewAt = DHCPLease.add(start, renewal)
        rebindAt = DHCPLease.add(start, rebinding)
        expiresAt = DHCPLease.add(start, lease)
    }

    /// Whether `other` configures the interface the same way (the times
    /// aside): a renewal that returns the same lease changes nothing a
    /// caller must act on.
    func sameConfiguration(as other: DHCPLease) -> Bool {
        address == other.address && router == other.router && dnsServers == other.dnsServers
    }

    /// A unicast address a host can have: not 0.0.0.0, broadcast,
    /// multicast, loopback, nor in 0.0.0.0/8 ("this network", RFC 1122
    /// section 3.2.1.3).
    static func isUsableUnicast(_ address: IPv4Address) -> Bool {
        address.isUnicast && !address.isLoopback && address[0] != 0 && address.rawValue >> 28 != 0xf
    }

    /// A usable address that is neither its subnet's network nor its
    /// broadcast address.
    static func isUsableHost(_ cidr: IPv4CIDR) -> Bool {
        guard isUsableUnicast(cidr.address) else { return false }
        guard let broadcast = cidr.broadcast else { return true }
        return cidr.address != broadcast && cidr.address != cidr.network.address
    }

    /// The prefix of the address's class (RFC 791 section 3.2): what hosts
    /// assumed before subnet masks, and what a server that sends no mask
    /// means (RFC 2131 leaves the option out of the required list).
    static func classfulPrefix(_ address: IPv4Address) -> Int {
        switch address[0] {
        case 0..<128: return 8
        case 128..<192: return 16
        default: return 24
        }
    }

    static func add(_ time: UInt64, _ duration: UInt64) -> UInt64 {
        let (sum, overflow) = time.addingReportingOverflow(duration)
        return overflow ? .max : sum
    }

    /// "10.0.2.15/24 router 10.0.2.2 dns 10.0.2.3 server 10.0.2.2 lease 86400".
    public var description: String {
        var text = WireText()
        text.add(address.description)
        if let router {
            text.add(" router " as StaticString)
            text.add(router.description)
        }
        for server in dnsServers {
            text.add(" dns " as StaticString)
            text.add(server.description)
        }
        text.add(" server " as StaticString)
        text.add(server.description)
        text.add(" lease " as StaticString)
        if leaseTime == DHCPLease.infinite {
            text.add("infinite" as StaticString)
        } else {
            text.add(decimal: Int(leaseTime))
        }
        return text.string
    }
}
