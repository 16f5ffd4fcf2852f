import RiadABI
import XCTest

@testable import RiadTender

/// Parses manifest bytes as the manifest of "kernel.hvt".
func manifest(_ bytes: [UInt8]) throws(TenderError) -> Manifest {
    try Manifest(bytes: bytes, kernelName: "kernel.hvt")
}

final class ManifestTests: XCTestCase {
    let good = ManifestBuilder().net("service").block("storage")

    func testLayoutMatchesTheCHeader() {
        XCTAssertEqual(MemoryLayout<riad_mft_entry>.size, 104)
        XCTAssertEqual(Manifest.headerSize, 8)
        XCTAssertEqual(Manifest.entrySize, 104)
        XCTAssertEqual(Manifest.typeOffset, 68)
        XCTAssertEqual(Manifest.unionOffset, 72)
        XCTAssertEqual(Manifest.privateOffset, 88)
        XCTAssertEqual(Manifest.attachedOffset, 96)
        XCTAssertEqual(Manifest.blockSizeOffset, 8)
        XCTAssertEqual(Manifest.mtuOffset, 6)
    }

    func testParsesAGoodManifest() throws {
        let parsed = try manifest(good.build())
        XCTAssertEqual(parsed.entries.count, 3)
        XCTAssertEqual(parsed.devices.map(\.name), ["service", "storage"])
        XCTAssertEqual(parsed.device(named: "storage")?.handle, 2)
        XCTAssertEqual(parsed.device(named: "storage")?.kind, .block)
        XCTAssertNil(parsed.device(named: ""))
        XCTAssertFalse(parsed.entries.contains { $0.isAttached })
    }

    func testAcceptsOnlyTheReservedEntry() throws {
        let parsed = try manifest(ManifestBuilder().build())
        XCTAssertEqual(parsed.entries.count, 1)
        XCTAssertNoThrow(try parsed.checkAllAttached())
    }

    func testNoteDescriptorDropsPadding() throws {
        let parsed = try Manifest(noteDescriptor: [9, 9, 9, 9] + good.build(), kernelName: "k")
        XCTAssertEqual(parsed.devices.count, 2)
        assertRefused("k: its manifest note has a 3-byte descriptor") {
            _ = try Manifest(noteDescriptor: [0, 0, 0], kernelName: "k")
        }
    }

    func testRefusesShortHeader() {
        assertRefused("kernel.hvt: its manifest is 6 bytes long, too short for its 8-byte header") {
            _ = try manifest([1, 0, 0, 0, 1, 0])
        }
    }

    func testRefusesWrongSize() {
        assertRefused("is 319 bytes long, but 3 entries need exactly 320 bytes") {
            _ = try manifest(Array(good.build().dropLast()))
        }
        assertRefused("is 321 bytes long, but 3 entries need exactly 320 bytes") {
            _ = try manifest(good.build() + [0])
        }
        var lying = good
        lying.count = 2
        assertRefused("is 320 bytes long, but 2 entries need exactly 216 bytes") {
            _ = try manifest(lying.build())
        }
    }

    func testRefusesOtherVersion() {
        var builder = good
        builder.version = 2
        assertRefused("its manifest has version 2, but riad-hvt reads only version 1") {
            _ = try manifest(builder.build())
        }
    }

    func testRefusesEntryCountOutOfRange() {
        var builder = good
        builder.count = 0
        assertRefused("declares 0 entries; expected 1 to 64") { _ = try manifest(builder.build()) }
        builder.count = 65
        assertRefused("declares 65 entries; expected 1 to 64") { _ = try manifest(builder.build()) }
        builder.count = UInt32.max
        assertRefused("declares 4294967295 entries") { _ = try manifest(builder.build()) }
        var full = ManifestBuilder()
        for index in 1..<64 { full = full.block("disk\(index)") }
        XCTAssertEqual(try manifest(full.build()).entries.count, 64)
        full = full.block("disk64")
        assertRefused("declares 65 entries") { _ = try manifest(full.build()) }
    }

    func testRefusesBadFirstEntry() {
        var builder = good
        builder.entries[0].type = 2
        assertRefused(
            "entry 0 has type 0x2 and name ''; expected the reserved first entry (type 0x40000000)"
        ) {
            _ = try manifest(builder.build())
        }
        builder = good
        builder.entries[0].name = Array("x\u{1b}".utf8)
        assertRefused("entry 0 has type 0x40000000 and name 'x\\x1b'") {
            _ = try manifest(builder.build())
        }
        builder = good
        builder.entries[0].attached = 1
        assertRefused("entry 0 ('') is already marked attached") {
            _ = try manifest(builder.build())
        }
    }

    func testRefusesUnterminatedName() {
        var builder = good
        builder.entries[1].name = [UInt8](repeating: 0x61, count: 68)
        assertRefused("entry 1 has a name that is not NUL-terminated within 68 bytes") {
            _ = try manifest(builder.build())
        }
        builder.entries[1].name = [UInt8](repeating: 0x61, count: 67)
        XCTAssertEqual(try manifest(builder.build()).entries[1].name.utf8.count, 67)
    }

    func testRefusesEmptyName() {
        var builder = good
        builder.entries[2].name = []
        assertRefused("kernel.hvt: its manifest entry 2 has an empty name; the file is corrupt") {
            _ = try manifest(builder.build())
        }
    }

    func testRefusesUnprintableNames() {
        for bad in ["a b", "a=b", "caf\u{e9}", "\u{1b}[2J"] {
            let builder = ManifestBuilder().net(bad)
            assertRefused("entry 1 has the name", "not printable ASCII") {
                _ = try manifest(builder.build())
            }
        }
        XCTAssertNoThrow(try manifest(ManifestBuilder().net("net:0.a-b_c").build()))
    }

    func testRefusesDuplicateNames() {
        let builder = good.block("service")
        assertRefused("declares the device name 'service' twice (again in entry 3)") {
            _ = try manifest(builder.build())
        }
    }

    func testRefusesUnknownOrReservedTypes() {
        assertRefused("entry 1 ('thing') has device type 0x3, which riad-hvt does not know") {
            _ = try manifest(ManifestBuilder().adding("thing", type: 3).build())
        }
        assertRefused("entry 1 ('again') has the reserved type that only entry 0 may have") {
            _ = try manifest(ManifestBuilder().adding("again", type: 1 << 30).build())
        }
    }

    func testRefusesAttachedEntries() {
        var builder = good
        builder.entries[1].attached = 1
        assertRefused("entry 1 ('service') is already marked attached") {
            _ = try manifest(builder.build())
        }
    }

    // MARK: - Attaching

    func testAttachesDevices() throws {
        var parsed = try manifest(good.build())
        try parsed.attachNet(name: "service", fd: 7, mac: [2, 0, 0, 0, 0, 1], mtu: 1500)
        try parsed.attachBlock(name: "storage", fd: 9, capacity: 1 << 20, blockSize: 512)
        XCTAssertEqual(
            parsed.entries[1].attachment, .net(fd: 7, mac: [2, 0, 0, 0, 0, 1], mtu: 1500))
        XCTAssertEqual(
            parsed.entries[2].attachment, .block(fd: 9, capacity: 1 << 20, blockSize: 512))
        XCTAssertNoThrow(try parsed.checkAllAttached())
    }

    func testRefusesUndeclaredDevice() throws {
        var parsed = try manifest(good.build())
        assertRefused(
            "--block:disk: kernel.hvt declares no device named 'disk' (it declares network device 'service', "
                + "block device 'storage'); check the name"
        ) { try parsed.attachBlock(name: "disk", fd: 3, capacity: 512, blockSize: 512) }
        var empty = try manifest(ManifestBuilder().build())
        assertRefused("(it declares no devices)") {
            try empty.attachNet(name: "x", fd: 3, mac: [0, 0, 0, 0, 0, 0], mtu: 1500)
        }
        assertRefused("no device named ''") {
            try empty.attachBlock(name: "", fd: 3, capacity: 512, blockSize: 512)
        }
    }

    func testRefusesDeviceOfTheOtherKind() throws {
        var parsed = try manifest(good.build())
        assertRefused(
            "--block:service: kernel.hvt declares 'service' as a network device, not a block device; "
                + "use --net:service=IFACE instead"
        ) { try parsed.attachBlock(name: "service", fd: 3, capacity: 512, blockSize: 512) }
        assertRefused(
            "declares 'storage' as a block device, not a network device; use --block:storage=PATH"
        ) {
            try parsed.attachNet(name: "storage", fd: 3, mac: [0, 0, 0, 0, 0, 0], mtu: 1500)
        }
    }

    func testRefusesAttachingTwice() throws {
        var parsed = try manifest(good.build())
        try parsed.attachBlock(name: "storage", fd: 3, capacity: 512, blockSize: 512)
        assertRefused("--block:storage: block device 'storage' is attached twice; give it once") {
            try parsed.attachBlock(name: "storage", fd: 4, capacity: 512, blockSize: 512)
        }
    }

    func testRefusesBadMAC() throws {
        var parsed = try manifest(good.build())
        assertRefused("--net:service: a MAC address has 6 bytes, but 5 were given") {
            try parsed.attachNet(name: "service", fd: 3, mac: [1, 2, 3, 4, 5], mtu: 1500)
        }
    }

    func testReportsOneUnattachedDevice() throws {
        var parsed = try manifest(good.build())
        try parsed.attachBlock(name: "storage", fd: 3, capacity: 512, blockSize: 512)
        assertRefused(
            "kernel.hvt declares network device 'service' but none was given: add --net:service=IFACE"
        ) { try parsed.checkAllAttached() }
    }

    func testReportsEveryUnattachedDevice() throws {
        let parsed = try manifest(good.block("logs").build())
        assertRefused(
            "kernel.hvt declares 3 devices that were not given: network device 'service' (add "
                + "--net:service=IFACE), block device 'storage' (add --block:storage=PATH), block device "
                + "'logs' (add --block:logs=PATH)"
        ) { try parsed.checkAllAttached() }
    }

    // MARK: - Serialising

    func testBytesLayout() throws {
        var parsed = try manifest(good.build())
        XCTAssertEqual(
            parsed.bytes(), good.build(), "an unattached manifest serialises to its input")
        try parsed.attachNet(
            name: "service", fd: 7, mac: [2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee], mtu: 1500)
        try parsed.attachBlock(
            name: "storage", fd: 0x1234_5678, capacity: 0x1_0000_0200, blockSize: 4096)
        let bytes = parsed.bytes()
        XCTAssertEqual(bytes.count, 8 + 3 * 104)
        XCTAssertEqual(Array(bytes[0..<8]), [1, 0, 0, 0, 3, 0, 0, 0])

        let reserved = 8
        XCTAssertTrue(bytes[reserved..<reserved + 68].allSatisfy { $0 == 0 })
        XCTAssertEqual(bytes.u32(at: reserved + 68), 1 << 30)
        XCTAssertEqual(bytes[reserved + 96], 0, "the reserved entry stays unattached")

        let net = 8 + 104
        XCTAssertEqual(Array(bytes[net..<net + 8]), Array("service".utf8) + [0])
        XCTAssertTrue(bytes[net + 7..<net + 68].allSatisfy { $0 == 0 })
        XCTAssertEqual(bytes.u32(at: net + 68), 2)
        XCTAssertEqual(Array(bytes[net + 72..<net + 78]), [2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee])
        XCTAssertEqual(bytes.u16(at: net + 78), 1500)
        XCTAssertEqual(bytes.u64(at: net + 88), 7)
        XCTAssertEqual(bytes[net + 96], 1)
        XCTAssertTrue(bytes[net + 97..<net + 104].allSatisfy { $0 == 0 })

        let block = 8 + 2 * 104
        XCTAssertEqual(Array(bytes[block..<block + 8]), Array("storage".utf8) + [0])
        XCTAssertEqual(bytes.u32(at: block + 68), 1)
        XCTAssertEqual(bytes.u64(at: block + 72), 0x1_0000_0200)
        XCTAssertEqual(bytes.u16(at: block + 80), 4096)
        XCTAssertEqual(bytes.u32(at: block + 88), 0x1234_5678)
        XCTAssertEqual(bytes.u32(at: block + 92), 0)
        XCTAssertEqual(bytes[block + 96], 1)
    }

    func testBytesMatchTheCStructs() throws {
        var parsed = try manifest(good.build())
        try parsed.attachNet(
            name: "service", fd: 7, mac: [2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee], mtu: 9000)
        try parsed.attachBlock(name: "storage", fd: 11, capacity: 1 << 30, blockSize: 512)
        let bytes = parsed.bytes()
        let entries: [riad_mft_entry] = (0..<3).map { index in
            bytes.withUnsafeBytes { raw in
                raw.loadUnaligned(fromByteOffset: 8 + index * 104, as: riad_mft_entry.self)
            }
        }
        XCTAssertEqual(entries[1].type, RIAD_MFT_DEV_NET_BASIC.rawValue)
        XCTAssertEqual(entries[1].u.net_basic.mtu, 9000)
        XCTAssertEqual(entries[1].u.net_basic.mac.0, 2)
        XCTAssertEqual(entries[1].u.net_basic.mac.5, 0xee)
        XCTAssertEqual(entries[1].b.hostfd, 7)
        XCTAssertTrue(entries[1].attached)
        XCTAssertEqual(entries[2].u.block_basic.capacity, 1 << 30)
        XCTAssertEqual(entries[2].u.block_basic.block_size, 512)
        XCTAssertEqual(entries[2].b.hostfd, 11)
        XCTAssertTrue(entries[2].attached)
        XCTAssertFalse(entries[0].attached)
        // The bytes parse again, except that attached entries are refused.
        assertRefused("entry 1 ('service') is already marked attached") { _ = try manifest(bytes) }
    }
}
