import Riad
import RiadNet
import XCTest

final class IPv4AddressTests: XCTestCase {
    func testParsesAndFormatsDottedQuads() {
        XCTAssertEqual(IPv4Address("10.0.0.1"), IPv4Address(10, 0, 0, 1))
        XCTAssertEqual(IPv4Address("10.0.0.1")?.rawValue, 0x0a00_0001)
        XCTAssertEqual(IPv4Address("255.255.255.255"), .broadcast)
        XCTAssertEqual(IPv4Address("0.0.0.0"), .unspecified)
        XCTAssertEqual(IPv4Address(192, 168, 100, 7).description, "192.168.100.7")
        XCTAssertEqual(IPv4Address.unspecified.description, "0.0.0.0")
        XCTAssertEqual(IPv4Address.broadcast.description, "255.255.255.255")
    }

    func testRefusesMalformedText() {
        for text in [
            "", "1", "1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3", "1..2.3", "256.0.0.1", "1.2.3.1000",
            "01.2.3.4", "1.2.3.00", " 1.2.3.4", "1.2.3.4 ", "1.2.3.a", "1.2.3.-4", "1,2,3,4", "١.2.3.4",
        ] {
            XCTAssertNil(IPv4Address(text), text)
        }
    }

    func testOrderAndOctets() {
        XCTAssertLessThan(IPv4Address(10, 0, 0, 2), IPv4Address(10, 0, 1, 1))
        XCTAssertLessThan(IPv4Address(9, 255, 255, 255), IPv4Address(10, 0, 0, 0))
        let address = IPv4Address(1, 2, 3, 4)
        XCTAssertEqual(
            [address[0], address[1], address[2], address[3], address[4], address[-1]], [1, 2, 3, 4, 0, 0])
        XCTAssertEqual(IPv4Address(octets: [5, 6, 7, 8, 9]), IPv4Address(5, 6, 7, 8))
        XCTAssertNil(IPv4Address(octets: [5, 6, 7]))
    }

    func testClasses() {
        XCTAssertTrue(IPv4Address(224, 0, 0, 251).isMulticast)
        XCTAssertTrue(IPv4Address(239, 255, 255, 250).isMulticast)
        XCTAssertFalse(IPv4Address(240, 0, 0, 1).isMulticast)
        XCTAssertFalse(IPv4Address(223, 255, 255, 255).isMulticast)
        XCTAssertTrue(IPv4Address.broadcast.isBroadcast)
        XCTAssertFalse(IPv4Address.broadcast.isUnicast)
        XCTAssertTrue(IPv4Address.unspecified.isUnspecified)
        XCTAssertTrue(IPv4Address(127, 5, 6, 7).isLoopback)
        XCTAssertFalse(IPv4Address(128, 0, 0, 1).isLoopback)
        XCTAssertTrue(IPv4Address(169, 254, 3, 4).isLinkLocal)
        XCTAssertTrue(IPv4Address(10, 1, 2, 3).isPrivate)
        XCTAssertTrue(IPv4Address(172, 31, 0, 1).isPrivate)
        XCTAssertFalse(IPv4Address(172, 32, 0, 1).isPrivate)
        XCTAssertTrue(IPv4Address(192, 168, 0, 1).isPrivate)
        XCTAssertTrue(IPv4Address(8, 8, 8, 8).isUnicast)
    }

    func testCIDR() throws {
        let cidr = try XCTUnwrap(IPv4CIDR("10.0.0.2/24"))
        XCTAssertEqual(cidr.address, IPv4Address(10, 0, 0, 2))
        XCTAssertEqual(cidr.prefixLength, 24)
        XCTAssertEqual(cidr.netmask, IPv4Address(255, 255, 255, 0))
        XCTAssertEqual(cidr.network.description, "10.0.0.0/24")
        XCTAssertEqual(cidr.broadcast, IPv4Address(10, 0, 0, 255))
        XCTAssertTrue(cidr.contains(IPv4Address(10, 0, 0, 200)))
        XCTAssertFalse(cidr.contains(IPv4Address(10, 0, 1, 2)))
        XCTAssertTrue(cidr.contains(try XCTUnwrap(IPv4CIDR("10.0.0.128/25"))))
        XCTAssertFalse(cidr.contains(try XCTUnwrap(IPv4CIDR("10.0.0.0/16"))))
        XCTAssertEqual(cidr.description, "10.0.0.2/24")

        let everything = try XCTUnwrap(IPv4CIDR("0.0.0.0/0"))
        XCTAssertEqual(everything.netmask, .unspecified)
        XCTAssertTrue(everything.contains(IPv4Address(200, 1, 2, 3)))
        let host = try XCTUnwrap(IPv4CIDR("10.9.8.7/32"))
        XCTAssertEqual(host.netmask, .broadcast)
        XCTAssertNil(host.broadcast)
        XCTAssertNil(IPv4CIDR("10.0.0.0/31")?.broadcast)
        XCTAssertEqual(IPv4CIDR("172.16.5.4/12")?.network.address, IPv4Address(172, 16, 0, 0))

        for text in [
            "10.0.0.1", "10.0.0.1/", "10.0.0.1/33", "10.0.0.1/024", "10.0.0.1/2a", "/24", "10.0.0/8",
            "10.0.0.1/8/8", "10.0.0.1/100",
        ] {
            XCTAssertNil(IPv4CIDR(text), text)
        }
        XCTAssertNil(IPv4CIDR(address: .unspecified, prefixLength: -1))
        XCTAssertEqual(
            IPv4CIDR(address: IPv4Address(10, 0, 0, 2), netmask: IPv4Address(255, 255, 240, 0))?.prefixLength,
            20)
        XCTAssertEqual(IPv4CIDR(address: .unspecified, netmask: .unspecified)?.prefixLength, 0)
        XCTAssertNil(IPv4CIDR(address: .unspecified, netmask: IPv4Address(255, 0, 255, 0)))
    }

    func testPseudoHeaderChecksum() {
        // The pseudo-header summed by hand: c0a8 0001 c0a8 00c7 0011 000c.
        let checksum = pseudoHeaderChecksum(
            source: IPv4Address(192, 168, 0, 1), destination: IPv4Address(192, 168, 0, 199), protocol: .udp,
            length: 12)
        let words: [UInt8] = [0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7, 0x00, 0x11, 0x00, 0x0c]
        XCTAssertEqual(checksum.value, words.withUnsafeBytes { InternetChecksum.of($0) })
        XCTAssertEqual(IPProtocol.udp.description, "UDP")
        XCTAssertEqual(IPProtocol(rawValue: 132).description, "protocol 132")
    }

    func testWireErrorDescriptions() {
        XCTAssertEqual(WireError.truncated.description, "truncated")
        XCTAssertEqual(WireError.malformed("version").description, "malformed version")
        XCTAssertEqual(WireError.unsupported("hardware type").description, "unsupported hardware type")
        XCTAssertEqual(WireError.badChecksum.description, "bad checksum")
        XCTAssertEqual(WireError.malformed("version"), WireError.malformed("version"))
        XCTAssertNotEqual(WireError.malformed("version"), WireError.malformed("length"))
        XCTAssertNotEqual(WireError.malformed("version"), WireError.unsupported("version"))
    }
}
