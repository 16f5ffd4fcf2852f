import XCTest

@testable import RiadTender

final class KernelNotesTests: XCTestCase {
    func testAcceptsHvtABI() throws {
        try parse(.kernel()).checkABI()
    }

    func testRefusesMissingABINote() throws {
        let image = try parse(.kernel(abi: nil))
        assertRefused(
            "kernel.hvt: has no Solo5 ABI1 note (section .note.solo5.abi)",
            "rebuild it for the hvt target"
        ) {
            try image.checkABI()
        }
    }

    func testRefusesABINoteOfAnotherOwner() throws {
        var builder = ELFBuilder.kernel(abi: nil)
        builder.programs[2].data += ELFBuilder.note(
            owner: "Riad", type: 0x3149_4241, desc: ELFBuilder.abi1())
        let image = try parse(builder)
        assertRefused("has no Solo5 ABI1 note") { try image.checkABI() }
    }

    func testRefusesWrongDescriptorSize() throws {
        let image = try parse(.kernel(abi: [1, 0, 0, 0, 2, 0, 0, 0]))
        assertRefused("its ABI1 note has a 0x8-byte descriptor; expected 16 bytes") {
            try image.checkABI()
        }
    }

    func testRefusesOtherTargets() throws {
        let spt = try parse(.kernel(abi: ELFBuilder.abi1(target: 2)))
        assertRefused(
            "kernel.hvt: was built for the spt target (solo5-spt), but riad-hvt runs only hvt kernels"
        ) {
            try spt.checkABI()
        }
        let virtio = try parse(.kernel(abi: ELFBuilder.abi1(target: 3)))
        assertRefused("was built for the virtio target") { try virtio.checkABI() }
        let unknown = try parse(.kernel(abi: ELFBuilder.abi1(target: 77)))
        assertRefused("was built for an unknown target (77)") { try unknown.checkABI() }
    }

    func testRefusesOtherVersion() throws {
        let image = try parse(.kernel(abi: ELFBuilder.abi1(version: 1)))
        assertRefused("kernel.hvt: was built for hvt ABI version 1, but riad-hvt speaks version 2") {
            try image.checkABI()
        }
    }

    func testRefusesDuplicatedABINote() throws {
        var builder = ELFBuilder.kernel()
        builder.programs[2].data += ELFBuilder.note(
            owner: "Solo5", type: 0x3149_4241, desc: ELFBuilder.abi1())
        let image = try parse(builder)
        assertRefused("has 2 'Solo5' notes of type ABI1") { try image.checkABI() }
    }

    func testFindsTheManifest() throws {
        let manifest = try parse(.kernel()).manifest()
        XCTAssertEqual(manifest.entries.map(\.name), ["", "service", "storage"])
        XCTAssertEqual(manifest.entries.map(\.kind), [.reserved, .net, .block])
        XCTAssertEqual(manifest.entries.map(\.handle), [0, 1, 2])
        XCTAssertEqual(manifest.kernelName, "kernel.hvt")
    }

    func testRefusesKernelWithoutManifest() throws {
        let image = try parse(.kernel(manifest: nil))
        assertRefused("kernel.hvt: has no manifest note", "was it built for hvt?") {
            _ = try image.manifest()
        }
    }
}
