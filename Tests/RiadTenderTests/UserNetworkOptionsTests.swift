import XCTest

@testable import RiadTender

/// The tender's side of user-mode networking that needs no KVM: parsing
/// `--forward`, the rules tying forwards to a user network, and the bounded
/// queue riad-slirp keeps frames for the kernel in.
final class UserNetworkOptionsTests: XCTestCase {
    private func message(_ body: () throws(TenderError) -> Void) -> String {
        do throws(TenderError) {
            try body()
            return ""
        } catch {
            return error.message
        }
    }

    func testForwardsParseWithAndWithoutAnAddress() throws {
        XCTAssertEqual(
            try PortForward.parse("tcp:8080:80"),
            PortForward(transport: .tcp, hostAddress: "127.0.0.1", hostPort: 8080, guestPort: 80))
        XCTAssertEqual(
            try PortForward.parse("udp:0.0.0.0:5353:53"),
            PortForward(transport: .udp, hostAddress: "0.0.0.0", hostPort: 5353, guestPort: 53))
        XCTAssertEqual(try PortForward.parse("tcp:65535:1").description, "tcp:127.0.0.1:65535:1")
        // The address in network byte order: 127.0.0.1 is 7f 00 00 01 in memory.
        let address = try PortForward.parse("tcp:127.0.0.1:1:2").hostInAddr
        withUnsafeBytes(of: address) { XCTAssertEqual(Array($0), [127, 0, 0, 1]) }
    }

    func testMalformedForwardsAreRefusedWithTheSyntax() {
        for bad in ["", "tcp", "tcp:80", "tcp:1:2:3:4:5", ":1:2", "TCP:1:2"] {
            XCTAssertTrue(
                message { () throws(TenderError) in _ = try PortForward.parse(bad) }.hasPrefix(
                    "--forward=\(bad): "),
                bad)
        }
        XCTAssertTrue(
            message { () throws(TenderError) in _ = try PortForward.parse("tcp:8080:") }.contains(
                "ports are numbers from 1 to 65535"))
        XCTAssertTrue(
            message { () throws(TenderError) in _ = try PortForward.parse("tcp:-1:80") }.contains(
                "ports are numbers"))
        XCTAssertTrue(
            message { () throws(TenderError) in _ = try PortForward.parse("tcp:256.0.0.1:1:2") }.contains(
                "'256.0.0.1' is not an IPv4 address"))
        XCTAssertTrue(
            message { () throws(TenderError) in _ = try PortForward.parse("tcp:::1:1:2") }.hasPrefix(
                "--forward=tcp:::1:1:2: expected"))
    }

    func testUserNetworkAndForwardsOnTheCommandLine() throws {
        let options = try TenderOptions.parse([
            "--net:service=user", "--net:admin=tap0", "--forward=tcp:8080:80", "--forward=udp:8080:53",
            "kernel.hvt", "--ipv4=10.0.2.15/24",
        ])
        XCTAssertEqual(options.nets, ["service": "user", "admin": "tap0"])
        XCTAssertEqual(options.userNets, ["service"])
        XCTAssertEqual(
            options.forwards.map(\.description), ["tcp:127.0.0.1:8080:80", "udp:127.0.0.1:8080:53"])
        XCTAssertEqual(options.kernelArguments, ["--ipv4=10.0.2.15/24"])
    }

    func testForwardsNeedExactlyOneUserNetworkAndDistinctPorts() {
        let parse = { (arguments: [String]) -> String in
            self.message { () throws(TenderError) in _ = try TenderOptions.parse(arguments + ["kernel.hvt"]) }
        }
        XCTAssertEqual(
            parse(["--net:service=tap0", "--forward=tcp:8080:80"]),
            "--forward=tcp:127.0.0.1:8080:80 needs a user network: add --net:NAME=user "
                + "(forwards reach a kernel on user-mode networking only)")
        XCTAssertEqual(
            parse(["--net:a=user", "--net:b=user", "--forward=tcp:8080:80"]),
            "--forward: 2 devices are on user networks (a, b); forwards need exactly one")
        XCTAssertEqual(
            parse(["--net:a=user", "--net:b=user"]), "", "two user networks without forwards are fine")
        XCTAssertTrue(
            parse(["--net:a=user", "--forward=tcp:8080:80", "--forward=tcp:8080:81"]).contains(
                "host port tcp 8080 is already forwarded (--forward=tcp:127.0.0.1:8080:80)"))
        XCTAssertTrue(
            parse(["--net:a=user", "--forward=tcp:0.0.0.0:8080:80", "--forward=tcp:8080:81"]).contains(
                "already forwarded"))
        // Other addresses, or the other protocol, are other ports.
        XCTAssertEqual(parse(["--net:a=user", "--forward=tcp:8080:80", "--forward=udp:8080:80"]), "")
        XCTAssertEqual(
            parse(["--net:a=user", "--forward=tcp:127.0.0.1:8080:80", "--forward=tcp:127.0.0.2:8080:80"]), "")
        XCTAssertTrue(parse(["--forward"]).hasPrefix("option --forward needs a value"))
    }

    func testFrameQueueKeepsOrderAndDropsWhenFull() {
        var queue = FrameQueue(capacity: 3, maximumFrame: 16)
        for byte: UInt8 in 1...4 {
            let frame = [UInt8](repeating: byte, count: Int(byte))
            frame.withUnsafeBytes { XCTAssertEqual(queue.append($0), byte <= 3) }
        }
        XCTAssertEqual(queue.count, 3)
        XCTAssertEqual(queue.dropped, 1)
        // Oversized frames are dropped too.
        [UInt8](repeating: 9, count: 17).withUnsafeBytes { XCTAssertFalse(queue.append($0)) }
        XCTAssertEqual(queue.dropped, 2)
        var seen: [[UInt8]] = []
        while let frame = queue.withFirst({ Array($0) }) {
            seen.append(frame)
            queue.removeFirst()
            // Room again: the ring wraps around.
            if seen.count == 1 {
                [UInt8](repeating: 5, count: 5).withUnsafeBytes { XCTAssertTrue(queue.append($0)) }
            }
        }
        XCTAssertEqual(seen, [[1], [2, 2], [3, 3, 3], [5, 5, 5, 5, 5]])
        XCTAssertTrue(queue.isEmpty)
        XCTAssertNil(queue.withFirst { $0.count })
    }
}
