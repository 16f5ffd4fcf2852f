import XCTest

@testable import RiadTender

/// Guest memory used by the tests: 4 MiB.
let testMemory: UInt64 = 0x40_0000

/// Parses `builder`'s image as "kernel.hvt".
func parse(_ builder: ELFBuilder, memory: UInt64 = testMemory) throws(TenderError) -> ELFImage {
    try ELFImage(bytes: builder.build(), name: "kernel.hvt", guestMemorySize: memory)
}

/// Asserts that `body` throws a TenderError whose message contains every
/// one of `fragments`.
func assertRefused(
    _ fragments: String..., file: StaticString = #filePath, line: UInt = #line,
    _ body: () throws -> Void
) {
    do {
        try body()
        XCTFail("expected an error containing \(fragments)", file: file, line: line)
    } catch let error as TenderError {
        for fragment in fragments {
            XCTAssertTrue(
                error.message.contains(fragment),
                "'\(error.message)' does not contain '\(fragment)'",
                file: file, line: line)
        }
        XCTAssertFalse(
            error.message.contains("\n"), "'\(error.message)' is not one line", file: file,
            line: line)
    } catch {
        XCTFail("expected a TenderError, got \(error)", file: file, line: line)
    }
}

final class ELFImageTests: XCTestCase {
    func testAcceptsAGoodKernel() throws {
        let image = try parse(.kernel())
        XCTAssertEqual(image.entry, 0x100010)
        XCTAssertEqual(image.segments.count, 2)
        XCTAssertEqual(image.segments[0].vaddr, 0x100000)
        XCTAssertEqual(image.segments[0].memSize, 0x40)
        XCTAssertEqual(image.segments[0].fileSize, 0x40)
        XCTAssertEqual(image.segments[0].flags, [.read, .execute])
        XCTAssertEqual(image.segments[1].vaddr, 0x101000)
        XCTAssertEqual(image.segments[1].fileSize, 8)
        XCTAssertEqual(image.segments[1].memSize, 0x2000)
        XCTAssertEqual(image.segments[1].flags, [.read, .write])
        XCTAssertEqual(image.kernelEnd, 0x103000)
        XCTAssertEqual(image.notes.count, 2)
        XCTAssertEqual(image.notes[0].name, "Solo5")
        XCTAssertEqual(image.notes[0].namesz, 6)
        XCTAssertEqual(image.notes[0].descsz, 16)
        XCTAssertEqual(image.notes[0].type, 0x3149_4241)
        XCTAssertEqual(image.notes[1].desc.count, 4 + 8 + 3 * 104)
        XCTAssertEqual(try image.note(owner: "Solo5", type: 0x3149_4241), ELFBuilder.abi1())
        XCTAssertNil(try image.note(owner: "Solo", type: 0x3149_4241))
        XCTAssertNil(try image.note(owner: "Solo5", type: 7))
    }

    func testLoadCopiesFileBytesAndZeroesTheRest() throws {
        let image = try parse(.kernel())
        let memory = UnsafeMutableRawBufferPointer.allocate(
            byteCount: Int(testMemory), alignment: 4096)
        defer { memory.deallocate() }
        memory.initializeMemory(as: UInt8.self, repeating: 0xee)
        try image.load(into: memory)
        XCTAssertEqual(memory[0x100000], 0x90)
        XCTAssertEqual(memory[0x10003f], 0x90)
        XCTAssertEqual(memory[0x100040], 0xee, "bytes past memsz are untouched")
        XCTAssertEqual(Array(memory[0x101000..<0x101008]), [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertTrue(memory[0x101008..<0x103000].allSatisfy { $0 == 0 }, "bss is zeroed")
        XCTAssertEqual(memory[0x103000], 0xee)
    }

    func testLoadRefusesTooSmallMemory() throws {
        let image = try parse(.kernel())
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: 0x102000, alignment: 4096)
        defer { memory.deallocate() }
        assertRefused("kernel.hvt: segment 1 (vaddr 0x101000, 0x2000 bytes) does not fit") {
            try image.load(into: memory)
        }
    }

    func testRefusesTooShortFile() {
        assertRefused("kernel.hvt: is 10 bytes long, too short for an ELF header") {
            _ = try ELFImage(
                bytes: [UInt8](repeating: 0, count: 10), name: "kernel.hvt",
                guestMemorySize: testMemory)
        }
    }

    func testRefusesBadMagic() {
        var builder = ELFBuilder.kernel()
        builder.ident[1] = 0x45 + 1
        assertRefused("kernel.hvt: is not an ELF file") { _ = try parse(builder) }
    }

    func testRefuses32Bit() {
        var builder = ELFBuilder.kernel()
        builder.ident[4] = 1
        assertRefused("is a 32-bit ELF file; expected a 64-bit x86-64 kernel") {
            _ = try parse(builder)
        }
        builder.ident[4] = 9
        assertRefused("invalid ELF class 9") { _ = try parse(builder) }
    }

    func testRefusesBigEndian() {
        var builder = ELFBuilder.kernel()
        builder.ident[5] = 2
        assertRefused("is a big-endian ELF file") { _ = try parse(builder) }
    }

    func testRefusesOtherIdentificationVersion() {
        var builder = ELFBuilder.kernel()
        builder.ident[6] = 0
        assertRefused("ELF identification version 0; expected 1") { _ = try parse(builder) }
    }

    func testRefusesWrongMachine() {
        var builder = ELFBuilder.kernel()
        builder.machine = 183
        assertRefused("is built for aarch64 (machine 183), but riad-hvt runs only x86-64") {
            _ = try parse(builder)
        }
        builder.machine = 1000
        assertRefused("machine 1000") { _ = try parse(builder) }
    }

    func testRefusesPositionIndependentExecutable() {
        var builder = ELFBuilder.kernel()
        builder.type = 3
        assertRefused("position-independent executable (ET_DYN)", "ET_EXEC") {
            _ = try parse(builder)
        }
        builder.type = 1
        assertRefused("has ELF type 1") { _ = try parse(builder) }
    }

    func testRefusesOtherELFVersion() {
        var builder = ELFBuilder.kernel()
        builder.version = 2
        assertRefused("ELF version 2 in e_version") { _ = try parse(builder) }
    }

    func testRefusesWrongProgramHeaderSize() {
        var builder = ELFBuilder.kernel()
        builder.phentsize = 64
        assertRefused("program headers of 64 bytes (e_phentsize); expected 56") {
            _ = try parse(builder)
        }
    }

    func testRefusesProgramHeadersOutsideTheFile() {
        var builder = ELFBuilder.kernel()
        builder.phoff = 0x10_0000
        assertRefused("program header table (3 entries at offset 0x100000) lies outside") {
            _ = try parse(builder)
        }
        builder.phoff = UInt64.max - 8
        assertRefused("program header table") { _ = try parse(builder) }
        builder.phoff = nil
        builder.phnum = 0xffff
        assertRefused("program header table (65535 entries") { _ = try parse(builder) }
    }

    func testRefusesImageWithoutLoadSegments() {
        var builder = ELFBuilder.kernel()
        builder.programs.removeFirst(2)
        assertRefused("has no loadable (PT_LOAD) segment") { _ = try parse(builder) }
        builder.phnum = 0
        assertRefused("has no loadable (PT_LOAD) segment") { _ = try parse(builder) }
    }

    func testRefusesSegmentDataOutsideTheFile() {
        var builder = ELFBuilder.kernel()
        builder.programs[1].offset = 0x10_0000
        assertRefused(
            "segment 1 (vaddr 0x101000, 0x2000 bytes) has 0x8 file bytes at offset 0x100000, beyond"
        ) {
            _ = try parse(builder)
        }
        builder.programs[1].offset = UInt64.max - 2
        assertRefused("segment 1", "beyond the end of the") { _ = try parse(builder) }
        builder.programs[1].offset = nil
        builder.programs[1].fileSize = 0x1000
        assertRefused("has 0x1000 file bytes") { _ = try parse(builder) }
    }

    func testRefusesFileSizeAboveMemorySize() {
        var builder = ELFBuilder.kernel()
        builder.programs[1].memSize = 4
        assertRefused(
            "segment 1 (vaddr 0x101000, 0x4 bytes) has more file bytes (0x8) than memory bytes"
        ) {
            _ = try parse(builder)
        }
    }

    func testRefusesSegmentBelowMinimumBase() {
        var builder = ELFBuilder.kernel()
        builder.programs[0].vaddr = 0x1000
        assertRefused("segment 0 (vaddr 0x1000, 0x40 bytes) starts below 0x100000") {
            _ = try parse(builder)
        }
    }

    func testRefusesUnalignedSegment() {
        var builder = ELFBuilder.kernel()
        builder.programs[1].vaddr = 0x101010
        assertRefused("segment 1 (vaddr 0x101010, 0x2000 bytes) does not start on a 4096-byte page") {
            _ = try parse(builder)
        }
    }

    func testRefusesSegmentBeyondGuestMemory() {
        var builder = ELFBuilder.kernel()
        builder.programs[1].memSize = 0x40_0000
        assertRefused(
            "segment 1 (vaddr 0x101000, 0x400000 bytes) ends at 0x501000, beyond the 4 MiB"
        ) {
            _ = try parse(builder)
        }
        // Ends exactly at the end of memory: accepted.
        builder.programs[1].memSize = 0x40_0000 - 0x101000
        XCTAssertNoThrow(try parse(builder))
        // The same segment in a smaller guest: refused.
        assertRefused("beyond the 2 MiB") { _ = try parse(builder, memory: 0x20_0000) }
    }

    func testRefusesOverflowingSegmentEnd() {
        var builder = ELFBuilder.kernel()
        builder.programs[1].vaddr = 0xffff_ffff_ffff_f000
        builder.programs[1].memSize = 0x2000
        assertRefused(
            "segment 1 (vaddr 0xfffffffffffff000, 0x2000 bytes) ends beyond the 64-bit address space"
        ) {
            _ = try parse(builder)
        }
        builder.programs[1].memSize = 0xfff
        assertRefused("ends beyond the 64-bit address space") {
            _ = try parse(builder, memory: UInt64.max)
        }
    }

    func testRefusesOverlappingSegments() {
        var builder = ELFBuilder.kernel()
        builder.programs[1].vaddr = 0x100000
        assertRefused("kernel.hvt: segment 1 (vaddr 0x100000, 0x2000 bytes) overlaps segment 0") {
            _ = try parse(builder)
        }
        // Sharing a page is overlapping, even if the bytes do not.
        builder = .kernel()
        builder.programs[0].memSize = 0x1001
        builder.programs[0].data = [UInt8](repeating: 0x90, count: 0x40)
        assertRefused(
            "segment 1 (vaddr 0x101000, 0x2000 bytes) overlaps segment 0 (vaddr 0x100000, 0x1001 bytes)"
        ) {
            _ = try parse(builder)
        }
        // Found whatever the header order.
        builder = .kernel()
        builder.programs.swapAt(0, 1)
        builder.programs[1].vaddr = 0x101000
        builder.programs[1].memSize = 0x2000
        builder.programs[1].data = [0x90]
        builder.programs[0].vaddr = 0x102000
        assertRefused(
            "segment 0 (vaddr 0x102000, 0x2000 bytes) overlaps segment 1 (vaddr 0x101000, 0x2000 bytes)"
        ) {
            _ = try parse(builder)
        }
    }

    func testRefusesWritableExecutableSegment() {
        var builder = ELFBuilder.kernel()
        builder.programs[0].flags = ELFBuilder.r | ELFBuilder.w | ELFBuilder.x
        assertRefused("segment 0 (vaddr 0x100000, 0x40 bytes) is both writable and executable") {
            _ = try parse(builder)
        }
    }

    func testRefusesEntryOutsideExecutableSegments() {
        assertRefused(
            "entry point 0x101000 is not inside the file contents of any executable segment"
        ) {
            _ = try parse(.kernel(entry: 0x101000))
        }
        assertRefused("entry point 0x100040") { _ = try parse(.kernel(entry: 0x100040)) }
        assertRefused("entry point 0x0") { _ = try parse(.kernel(entry: 0)) }
        XCTAssertNoThrow(try parse(.kernel(entry: 0x10003f)))
    }

    func testIgnoresEmptyLoadSegments() throws {
        var builder = ELFBuilder.kernel()
        builder.programs.append(.load(vaddr: 0x1234, flags: 7, data: []))
        let image = try parse(builder)
        XCTAssertEqual(image.segments.map(\.index), [0, 1])
    }

    // MARK: - Notes

    func testParsesNotesWithEightByteAlignment() throws {
        var builder = ELFBuilder.kernel()
        let gnu = ELFBuilder.note(
            owner: "GNU", type: 5, desc: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], align: 8)
        builder.programs.append(.note(gnu + gnu, align: 8))
        let image = try parse(builder)
        XCTAssertEqual(image.notes.count, 4)
        XCTAssertEqual(image.notes[2].name, "GNU")
        XCTAssertEqual(image.notes[3].desc, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    }

    func testAcceptsLastNoteWithoutTrailingPadding() throws {
        var builder = ELFBuilder.kernel()
        let note = ELFBuilder.note(owner: "Riad", type: 9, desc: [1, 2, 3])
        builder.programs.append(.note(Array(note.dropLast())))
        let image = try parse(builder)
        XCTAssertEqual(try image.note(owner: "Riad", type: 9), [1, 2, 3])
    }

    func testRefusesTruncatedNoteHeader() {
        var builder = ELFBuilder.kernel()
        builder.programs.append(
            .note(ELFBuilder.note(owner: "Riad", type: 9, desc: []) + [0, 0, 0, 0]))
        assertRefused(
            "kernel.hvt: note 1 of segment 3 is truncated: 4 bytes remain, but a note header needs 12"
        ) {
            _ = try parse(builder)
        }
    }

    func testRefusesTruncatedNoteDescriptor() {
        var builder = ELFBuilder.kernel()
        let note = ELFBuilder.note(owner: "Riad", type: 9, desc: [1, 2, 3, 4, 5, 6, 7, 8])
        builder.programs.append(.note(Array(note.dropLast(4))))
        assertRefused(
            "note 0 of segment 3 (type 0x9) claims a 0x5-byte name and a 0x8-byte descriptor"
        ) {
            _ = try parse(builder)
        }
    }

    func testRefusesHugeNoteSizes() {
        for (namesz, descsz) in [
            (UInt32.max, UInt32(16)), (6, UInt32.max), (UInt32.max, UInt32.max),
        ] {
            var builder = ELFBuilder.kernel()
            let note = ELFBuilder.note(
                owner: "Solo5", type: 0x3149_4241, desc: [], namesz: namesz, descsz: descsz)
            builder.programs.append(.note(note))
            assertRefused(
                "note 0 of segment 3 (type ABI1) claims a \(TenderError.hex(namesz))-byte name"
            ) {
                _ = try parse(builder)
            }
        }
    }

    func testRefusesNoteSegmentOutsideTheFile() {
        var builder = ELFBuilder.kernel()
        builder.programs[2].offset = UInt64.max
        assertRefused("note segment 2 has", "at offset 0xffffffffffffffff, beyond the end") {
            _ = try parse(builder)
        }
    }

    func testRefusesDuplicatedNote() throws {
        var builder = ELFBuilder.kernel()
        builder.programs.append(
            .note(ELFBuilder.note(owner: "Solo5", type: 0x3149_4241, desc: ELFBuilder.abi1())))
        let image = try parse(builder)
        assertRefused("kernel.hvt: has 2 'Solo5' notes of type ABI1; expected at most one") {
            _ = try image.note(owner: "Solo5", type: 0x3149_4241)
        }
    }

    func testNoteOwnerMatchesExactly() throws {
        var builder = ELFBuilder.kernel(abi: nil)
        // namesz 8 ("Solo5\0\0\0") is not the owner "Solo5" (namesz 6).
        builder.programs[2].data += ELFBuilder.note(
            owner: "Solo5\0\0", type: 0x3149_4241, desc: ELFBuilder.abi1())
        let image = try parse(builder)
        XCTAssertEqual(image.notes[1].name, "Solo5")
        XCTAssertNil(try image.note(owner: "Solo5", type: 0x3149_4241))
    }

    func testNoteTypeNames() {
        XCTAssertEqual(ELFImage.noteTypeName(0x3149_4241), "ABI1")
        XCTAssertEqual(ELFImage.noteTypeName(0x3154_464d), "MFT1")
        XCTAssertEqual(ELFImage.noteTypeName(3), "0x3")
    }
}
