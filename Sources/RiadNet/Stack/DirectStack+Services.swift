import Riad
import _Concurrency

/// The direct stack's own UDP services: the DHCP client (when no static
/// address is given) and the DNS stub resolver.
struct DirectStackServices {
    var dhcp: DHCPClient?
    var seenLease: UInt64 = 0
    var resolver: DNSResolver
    var dnsPort: UInt16 = 0
    /// Where received datagrams are copied for the engines.
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)

    static let dhcpClientPort: UInt16 = 68
    static let dhcpServerPort: UInt16 = 67
    static let dnsServerPort: UInt16 = 53
}

extension DirectStack {
    /// Starts DHCP if the address is not static, and opens the resolver's
    /// port. Called when the network task starts.
    func startServices(now: UInt64) {
        if services.dnsPort == 0, let port = try? interface.udp.bind(0) { services.dnsPort = port }
        services.resolver.setServers(configuration.dnsServers)
        guard configuration.ipv4 == nil, services.dhcp == nil else { return }
        guard (try? interface.udp.bind(DirectStackServices.dhcpClientPort)) != nil else { return }
        var client = DHCPClient(
            mac: device.macAddress, seed: platform.next(as: UInt64.self), hostname: hostname)
        client.start(now: now)
        services.dhcp = client
    }

    /// Feeds the services what arrived for them and sends what they have due.
    func pollServices(now: UInt64) {
        if services.dhcp != nil {
            while let (length, _) = interface.udp.receive(
                on: DirectStackServices.dhcpClientPort, into: services.buffer)
            {
                services.dhcp!.receive(UnsafeRawBufferPointer(rebasing: services.buffer[..<length]), now: now)
            }
            services.dhcp!.poll(now: now) { destination, length, fill in
                let message = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 8)
                defer { message.deallocate() }
                let used = fill(message)
                let to: SocketAddress
                switch destination {
                case .broadcast: to = SocketAddress(.broadcast, DirectStackServices.dhcpServerPort)
                case .unicast(let server): to = SocketAddress(server, DirectStackServices.dhcpServerPort)
                }
                _ = interface.sendUDP(
                    UnsafeRawBufferPointer(rebasing: message[..<used]),
                    from: DirectStackServices.dhcpClientPort,
                    to: to, now: now, transmit: { self.transmitFrame($0, $1) })
            }
            applyLease()
        }
        if services.dnsPort != 0 {
            while let (length, from) = interface.udp.receive(on: services.dnsPort, into: services.buffer) {
                services.resolver.receive(
                    UnsafeRawBufferPointer(rebasing: services.buffer[..<length]), from: from.address, now: now
                )
            }
            let port = services.dnsPort
            services.resolver.poll(now: now) { server, length, fill in
                let message = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 8)
                defer { message.deallocate() }
                let used = fill(message)
                _ = interface.sendUDP(
                    UnsafeRawBufferPointer(rebasing: message[..<used]), from: port,
                    to: SocketAddress(server, DirectStackServices.dnsServerPort), now: now,
                    transmit: { self.transmitFrame($0, $1) })
            }
        }
    }

    /// Configures the interface from a new or changed lease, or takes the
    /// address away when it is lost.
    private func applyLease() {
        guard let dhcp = services.dhcp, dhcp.leaseGeneration != services.seenLease else { return }
        services.seenLease = dhcp.leaseGeneration
        guard let lease = dhcp.lease else {
            interface.address = .unconfigured
            interface.gateway = nil
            return
        }
        interface.address = lease.address
        interface.gateway = lease.router
        if configuration.dnsServers.isEmpty { services.resolver.setServers(lease.dnsServers) }
        // Neighbours that marked the address unreachable while the server
        // probed it learn it now (RFC 2131 section 4.4.1).
        interface.announce(transmit: { self.transmitFrame($0, $1) })
        platform.write("riad: DHCP: \(lease.address) via \(lease.router?.description ?? "no router")\n")
    }

    /// When the services next need the network task.
    var servicesDeadline: UInt64? {
        let dhcp = services.dhcp?.nextDeadline()
        let dns = services.resolver.nextDeadline()
        switch (dhcp, dns) {
        case (let a?, let b?): return min(a, b)
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (nil, nil): return nil
        }
    }

    public func resolve(_ name: String) async throws(RiadError) -> IPv4Address {
        if let address = IPv4Address(name) { return address }
        if services.resolver.servers.isEmpty && configuration.ipv4 == nil {
            // DHCP may yet give servers: wait for the lease first.
            try await wait(for: .configured, until: platform.monotonicNanoseconds() &+ 30_000_000_000)
        }
        guard !services.resolver.servers.isEmpty else {
            throw RiadError(.unsupported, "no DNS server: give --dns or use DHCP")
        }
        let query: DNSResolver.QueryID
        switch try services.resolver.resolve(name, now: platform.monotonicNanoseconds()) {
        case .answer(let address, _): return address
        case .pending(let id): query = id
        }
        defer { services.resolver.forget(query) }
        flushServices()
        while true {
            switch services.resolver.result(for: query) {
            case .resolved(let address, _): return address
            case .failed(let kind): throw RiadError(kind == .refused ? .notFound : kind, "resolving a name")
            case .pending: try await wait(for: .resolved(query), until: .max)
            }
        }
    }

    /// Sends a new query at once rather than at the network task's next turn.
    private func flushServices() {
        pollServices(now: platform.monotonicNanoseconds())
        if networkWait != nil { platform.notify(handle: device.handle.rawValue) }
    }
}
