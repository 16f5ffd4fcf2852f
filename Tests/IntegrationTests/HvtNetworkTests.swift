import CRiadTender
import Foundation
import XCTest

/// Frames both ways between a kernel and the host through a tap device. The
/// host side is a raw packet socket on the tap, so nothing but the two
/// programs is involved.
final class HvtNetworkTests: XCTestCase {
    override func setUp() async throws {
        try Support.requireKVM()
        try XCTSkipUnless(getuid() == 0, "tap devices need root")
        try XCTSkipUnless(access("/dev/net/tun", R_OK | W_OK) == 0, "/dev/net/tun is missing")
    }

    func testFramesBothWaysThroughTap() throws {
        let image = try Support.kernel("net")
        try checkFramesBothWaysThroughTap(tapPrefix: "riadt", macLastByte: 0x2a) { tap, mac in
            (Support.tender, ["--net:service=\(tap)", "--net-mac:service=\(mac)", image.path])
        }
    }
}

extension XCTestCase {
    /// Runs the `net` test kernel (`launch` gives its command for a tap and
    /// a MAC) on a fresh tap device: the kernel's greeting must come from
    /// the MAC given, a frame sent to it must come back echoed, and the
    /// kernel must have been woken from its wait by that frame.
    func checkFramesBothWaysThroughTap(
        tapPrefix: String, macLastByte: UInt8, launch: (_ tap: String, _ mac: String) -> (String, [String])
    ) throws {
        let tap = "\(tapPrefix)\(getpid() % 10000)"
        try Support.run("/sbin/ip", ["tuntap", "add", "dev", tap, "mode", "tap"]).check()
        defer { _ = try? Support.run("/sbin/ip", ["link", "del", tap]) }
        try Support.run("/sbin/ip", ["link", "set", tap, "up"]).check()
        let socket = try PacketSocket(interface: tap)
        defer { socket.close() }

        let mac: [UInt8] = [0x02, 0, 0, 0, 0, macLastByte]
        let (executable, arguments) = launch(
            tap, mac.map { String(format: "%02x", $0) }.joined(separator: ":"))
        let kernel = Process()
        kernel.executableURL = URL(fileURLWithPath: executable)
        kernel.arguments = arguments
        let output = Pipe()
        kernel.standardOutput = output
        try kernel.run()
        defer { if kernel.isRunning { kernel.terminate() } }

        // The kernel's greeting, from the MAC we gave it.
        let hello = try XCTUnwrap(socket.receive(etherType: 0x88b5, timeout: 20), "no frame from the kernel")
        XCTAssertEqual(Array(hello[6..<12]), mac)
        XCTAssertTrue(String(decoding: hello[14...], as: UTF8.self).hasPrefix("riad-hello"))

        // A frame to the kernel, and its echo.
        var frame = [UInt8](repeating: 0, count: 60)
        frame.replaceSubrange(0..<6, with: hello[6..<12])
        frame.replaceSubrange(6..<12, with: [0x02, 0, 0, 0, 0, 0x01])
        frame[12] = 0x88
        frame[13] = 0xb5
        frame.replaceSubrange(14..<18, with: Array("ping".utf8))
        try socket.send(frame)
        let echo = try XCTUnwrap(socket.receive(etherType: 0x88b5, timeout: 20), "no echo from the kernel")
        XCTAssertTrue(String(decoding: echo[14...], as: UTF8.self).hasPrefix("echo:ping"))

        kernel.waitUntilExit()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(kernel.terminationStatus, 0, printed)
        XCTAssertTrue(printed.contains("received: ping"), printed)
        // The kernel's task was suspended on the device and woken by input.
        XCTAssertTrue(printed.contains("woken by input"), printed)
    }
}

/// A raw AF_PACKET socket bound to one interface.
struct PacketSocket {
    let fd: Int32
    let index: Int32

    init(interface: String) throws {
        fd = socket(AF_PACKET, Int32(SOCK_RAW.rawValue), Int32(UInt16(ETH_P_ALL).bigEndian))
        guard fd >= 0 else { throw TestFailure(description: "socket(AF_PACKET): \(errno)") }
        index = Int32(if_nametoindex(interface))
        var address = sockaddr_ll()
        address.sll_family = UInt16(AF_PACKET)
        address.sll_protocol = UInt16(ETH_P_ALL).bigEndian
        address.sll_ifindex = index
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_ll>.size))
            }
        }
        guard bound == 0 else { throw TestFailure(description: "bind(\(interface)): \(errno)") }
    }

    /// The next frame of `etherType` within `timeout` seconds.
    func receive(etherType: UInt16, timeout: Double) -> [UInt8]? {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 2048)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let count = recv(fd, &buffer, buffer.count, 0)
            if count >= 14, UInt16(buffer[12]) << 8 | UInt16(buffer[13]) == etherType {
                return Array(buffer[0..<count])
            }
        }
        return nil
    }

    func send(_ frame: [UInt8]) throws {
        guard Glibc.send(fd, frame, frame.count, 0) == frame.count else {
            throw TestFailure(description: "send: \(errno)")
        }
    }

    func close() { _ = Glibc.close(fd) }
}

extension Support.Result {
    /// Throws unless the command succeeded.
    @discardableResult
    func check() throws -> Self {
        guard status == 0 else { throw TestFailure(description: "command failed (\(status)): \(errors)") }
        return self
    }
}
