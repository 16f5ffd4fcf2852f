import CRiadTender
import Foundation
import Riad
import RiadNet
import XCTest

/// RiadNet's DHCP client and DNS resolver against dnsmasq, through a tap
/// device whose guest end this test holds. The test plays a guest with no
/// IP stack but these two engines, ARP replies and UDP, built from
/// RiadNet's wire types; time is the host's monotonic clock, moved forward
/// to reach T1 without waiting for it.
final class DHCPDNSInteropTests: XCTestCase {
    let mac = MACAddress(0x02, 0x00, 0x00, 0x00, 0x79, 0x01)
    /// The test's clock: the host's, plus `skipped`.
    var skipped: UInt64 = 0
    var now: UInt64 { DispatchTime.now().uptimeNanoseconds &+ skipped }

    func testLeaseRenewalAndNamesFromDnsmasq() throws {
        try XCTSkipUnless(getuid() == 0, "tap devices need root")
        try XCTSkipUnless(access("/dev/net/tun", R_OK | W_OK) == 0, "/dev/net/tun is missing")
        let dnsmasq = "/usr/sbin/dnsmasq"
        try XCTSkipUnless(
            FileManager.default.isExecutableFile(atPath: dnsmasq),
            "dnsmasq (Debian package dnsmasq-base) is missing")

        let subnet = Int(getpid() % 200) + 20
        let net = "10.79.\(subnet)"
        let tap = "riadd\(getpid() % 10000)"
        try Support.run("/sbin/ip", ["tuntap", "add", "dev", tap, "mode", "tap"]).check()
        defer { _ = try? Support.run("/sbin/ip", ["link", "del", tap]) }
        try Support.run("/sbin/ip", ["addr", "add", "\(net).1/24", "dev", tap]).check()
        try Support.run("/sbin/ip", ["link", "set", tap, "up"]).check()
        let guest = try GuestEnd(interface: tap)
        defer { guest.close() }
        let hostMAC = try XCTUnwrap(
            MACAddress(text: try String(contentsOfFile: "/sys/class/net/\(tap)/address", encoding: .utf8)))

        let leases = FileManager.default.temporaryDirectory.appendingPathComponent("riad-\(getpid()).leases")
        defer { try? FileManager.default.removeItem(at: leases) }
        let server = Process()
        server.executableURL = URL(fileURLWithPath: dnsmasq)
        server.arguments = [
            "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--pid-file=",
            "--interface=\(tap)", "--bind-interfaces", "--except-interface=lo", "--listen-address=\(net).1",
            "--dhcp-range=\(net).50,\(net).60,255.255.255.0,2m", "--dhcp-leasefile=\(leases.path)",
            "--dhcp-option=option:router,\(net).1", "--dhcp-option=option:dns-server,\(net).1",
            "--local=/test/", "--local-ttl=60", "--host-record=riad.test,\(net).7",
            "--cname=alias.test,riad.test",
        ]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        usleep(300_000)

        // DHCP: DISCOVER, OFFER, REQUEST, ACK.
        var client = DHCPClient(mac: mac, seed: UInt64(getpid()), hostname: "riad-interop")
        client.start(now: now)
        var resolver: DNSResolver?
        try exchange(guest, &client, &resolver, hostMAC: hostMAC) { client, _ in client.state == .bound }
        let lease = try XCTUnwrap(client.lease)
        // RFC 2131 4.4.1: announce the new address. Without this, the first
        // answers to it are lost: dnsmasq pinged the address before offering
        // it, which left Linux's neighbour entry for it failed.
        let announcement = ARPRepr(
            operation: .request, senderHardwareAddress: mac, senderProtocolAddress: lease.address.address,
            targetHardwareAddress: MACAddress(rawValue: 0), targetProtocolAddress: lease.address.address)
        guest.send(arpFrame(announcement, to: .broadcast))
        XCTAssertEqual(lease.address.prefixLength, 24)
        let octet = lease.address.address[3]
        XCTAssertTrue(lease.address.address.description.hasPrefix(net + "."), "\(lease)")
        XCTAssertTrue((50...60).contains(octet), "\(lease)")
        XCTAssertEqual(lease.router?.description, "\(net).1")
        XCTAssertEqual(lease.dnsServers.map(\.description), ["\(net).1"])
        XCTAssertEqual(lease.server.description, "\(net).1")
        XCTAssertEqual(lease.leaseTime, 120)
        XCTAssertEqual(client.leaseGeneration, 1)
        let recorded = try String(contentsOf: leases, encoding: .utf8)
        XCTAssertTrue(recorded.contains("riad-interop"), "dnsmasq's leases: \(recorded)")

        // DNS through the lease's server: an address, an alias, a missing name.
        var dns = DNSResolver(seed: UInt64(getpid()), servers: lease.dnsServers)
        var names: [(String, DNSResolver.QueryID)] = []
        for name in ["riad.test", "alias.test", "missing.test"] {
            guard case .pending(let query) = try dns.resolve(name, now: now) else { return XCTFail(name) }
            names.append((name, query))
        }
        resolver = dns
        try exchange(guest, &client, &resolver, hostMAC: hostMAC) { _, resolver in
            names.allSatisfy { resolver?.result(for: $0.1) != .pending }
        }
        let results = names.map { resolver?.result(for: $0.1) }
        XCTAssertEqual(results[0], .resolved(IPv4Address("\(net).7")!, ttl: 60))
        XCTAssertEqual(results[1], .resolved(IPv4Address("\(net).7")!, ttl: 60))
        XCTAssertEqual(results[2], .failed(.notFound))
        // Now from the cache, with what is left of the TTL.
        guard case .answer(let cached, let ttl) = try resolver?.resolve("riad.test", now: now) else {
            return XCTFail("riad.test is not cached")
        }
        XCTAssertEqual(cached, IPv4Address("\(net).7"))
        XCTAssertTrue((1...60).contains(ttl), "\(ttl)")

        // Renewal at T1, unicast to dnsmasq, which answers the leased address.
        skipped = lease.renewAt - DispatchTime.now().uptimeNanoseconds
        let renewedFrom = now
        try exchange(guest, &client, &resolver, hostMAC: hostMAC) { client, _ in
            client.state == .bound && client.lease?.obtainedAt ?? 0 >= renewedFrom
        }
        XCTAssertEqual(client.lease?.address, lease.address)
        XCTAssertEqual(client.leaseGeneration, 1, "a renewal of the same lease changes nothing")
        XCTAssertTrue(server.isRunning, "dnsmasq stopped")
    }

    /// Runs the engines on the guest end of the tap until `done` or 30 s.
    private func exchange(
        _ guest: GuestEnd, _ client: inout DHCPClient, _ resolver: inout DNSResolver?, hostMAC: MACAddress,
        until done: (DHCPClient, DNSResolver?) -> Bool
    ) throws {
        let deadline = Date().addingTimeInterval(30)
        while !done(client, resolver) {
            guard Date() < deadline else { throw TestFailure(description: "no answer within 30 s") }
            let source = client.sourceAddress
            client.poll(now: now) { destination, capacity, fill in
                var payload = [UInt8](repeating: 0, count: capacity)
                payload.removeLast(capacity - payload.withUnsafeMutableBytes { fill($0) })
                switch destination {
                case .broadcast:
                    guest.send(udp(payload, from: (source, 68), to: (.broadcast, 67), mac: .broadcast))
                case .unicast(let server):
                    guest.send(udp(payload, from: (source, 68), to: (server, 67), mac: hostMAC))
                }
            }
            resolver?.poll(now: now) { server, capacity, fill in
                var payload = [UInt8](repeating: 0, count: capacity)
                payload.removeLast(capacity - payload.withUnsafeMutableBytes { fill($0) })
                guest.send(udp(payload, from: (source, 40053), to: (server, 53), mac: hostMAC))
            }
            guard let frame = guest.receive(timeoutMilliseconds: 50) else { continue }
            frame.withUnsafeBytes { bytes in
                guard let ethernet = try? EthernetRepr.parse(bytes) else { return }
                let payload = UnsafeRawBufferPointer(rebasing: bytes[EthernetRepr.headerLength...])
                if ethernet.etherType == .arp {
                    // Linux asks who has the leased address before it answers it.
                    guard let arp = try? ARPRepr.parse(payload), arp.operation == .request,
                        !source.isUnspecified, arp.targetProtocolAddress == source
                    else { return }
                    guest.send(arpReply(to: arp))
                    return
                }
                guard ethernet.etherType == .ipv4, let view = try? IPv4PacketView(checking: payload),
                    let ip = try? IPv4Repr.parse(view), ip.protocol == .udp,
                    let datagram = try? UDPDatagramView(checking: view.payload),
                    (try? UDPRepr.parse(datagram, source: ip.source, destination: ip.destination)) != nil
                else { return }
                switch datagram.destinationPort {
                case 68: client.receive(datagram.payload, now: now)
                case 40053: resolver?.receive(datagram.payload, from: ip.source, now: now)
                default: break
                }
            }
        }
    }

    private func udp(
        _ payload: [UInt8], from source: (IPv4Address, UInt16), to destination: (IPv4Address, UInt16),
        mac destinationMAC: MACAddress
    ) -> [UInt8] {
        let udp = UDPRepr(sourcePort: source.1, destinationPort: destination.1, payloadLength: payload.count)
        let ip = IPv4Repr(
            source: source.0, destination: destination.0, protocol: .udp, payloadLength: udp.bufferLength)
        var frame = [UInt8](repeating: 0, count: max(60, EthernetRepr.headerLength + ip.bufferLength))
        frame.withUnsafeMutableBytes { bytes in
            EthernetRepr(source: mac, destination: destinationMAC, etherType: .ipv4).emit(into: bytes)
            let packet = UnsafeMutableRawBufferPointer(
                rebasing: bytes[EthernetRepr.headerLength..<EthernetRepr.headerLength + ip.bufferLength])
            let datagram = UnsafeMutableRawBufferPointer(rebasing: packet[IPv4Repr.headerLength...])
            UnsafeMutableRawBufferPointer(rebasing: datagram[UDPRepr.headerLength...]).copyBytes(
                from: payload)
            udp.emit(into: datagram, source: source.0, destination: destination.0)
            ip.emit(into: packet)
        }
        return frame
    }

    private func arpReply(to request: ARPRepr) -> [UInt8] {
        let reply = ARPRepr(
            operation: .reply, senderHardwareAddress: mac,
            senderProtocolAddress: request.targetProtocolAddress,
            targetHardwareAddress: request.senderHardwareAddress,
            targetProtocolAddress: request.senderProtocolAddress)
        return arpFrame(reply, to: request.senderHardwareAddress)
    }

    private func arpFrame(_ arp: ARPRepr, to destination: MACAddress) -> [UInt8] {
        var frame = [UInt8](repeating: 0, count: 60)
        frame.withUnsafeMutableBytes { bytes in
            EthernetRepr(source: mac, destination: destination, etherType: .arp).emit(into: bytes)
            arp.emit(into: UnsafeMutableRawBufferPointer(rebasing: bytes[EthernetRepr.headerLength...]))
        }
        return frame
    }
}

/// The guest's end of a tap interface: what it writes, the host receives.
private struct GuestEnd {
    let fd: Int32

    init(interface: String) throws {
        fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw TestFailure(description: "open /dev/net/tun: \(errno)") }
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { name in
            for (index, byte) in interface.utf8.enumerated() { name[index] = byte }
        }
        request.ifr_ifru.ifru_flags = Int16(IFF_TAP | IFF_NO_PI)
        guard riad_ioctl_ptr(fd, RIAD_TUNSETIFF, &request) == 0 else {
            throw TestFailure(description: "TUNSETIFF \(interface): \(errno)")
        }
    }

    func send(_ frame: [UInt8]) {
        _ = frame.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// The next frame the host sends, if one comes within the timeout.
    func receive(timeoutMilliseconds: Int32) -> [UInt8]? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 2048)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return count > 0 ? Array(buffer[..<count]) : nil
    }

    func close() { _ = Glibc.close(fd) }
}

extension MACAddress {
    /// Parses "aa:bb:cc:dd:ee:ff" (a trailing newline allowed, as sysfs gives it).
    fileprivate init?(text: String) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":")
        guard parts.count == 6 else { return nil }
        let octets = parts.compactMap { UInt8($0, radix: 16) }
        guard octets.count == 6 else { return nil }
        self.init(bytes: octets)
    }
}
