/// The notes of a kernel file.
///
/// Notes are how a kernel tells the tender what it is (the ABI1 note) and
/// what it needs (the MFT1 manifest) before any of its code runs; see
/// KernelNotes.swift. They are read from PT_NOTE program headers rather than
/// from section headers, which a loader need not trust or even find. Every
/// size in a note is untrusted, so each is bounds-checked against its
/// segment, with overflow-checked arithmetic.
extension ELFImage {
    /// One ELF note found in a PT_NOTE segment.
    public struct Note: Sendable, Equatable {
        public let namesz: UInt32
        public let descsz: UInt32
        public let type: UInt32
        /// The owner name: the name bytes before the first NUL.
        public let name: String
        /// All `namesz` name bytes, the terminating NUL included.
        public let nameBytes: [UInt8]
        public let desc: [UInt8]
    }

    /// The descriptor of the note of owner `owner` and type `type`, or nil if
    /// there is none. Two such notes are refused: which one a tool would pick
    /// is unspecified, so the file is ambiguous.
    public func note(owner: String, type: UInt32) throws(TenderError) -> [UInt8]? {
        let wanted = Array(owner.utf8) + [0]
        let found = notes.filter { $0.type == type && $0.nameBytes == wanted }
        guard found.count <= 1 else {
            throw TenderError.about(
                name,
                "has \(found.count) '\(owner)' notes of type \(Self.noteTypeName(type)); expected at "
                    + "most one, so the file is corrupt or its notes were linked twice")
        }
        return found.first?.desc
    }

    /// A note type for messages: its four bytes as text if they are letters
    /// and digits (as "ABI1" and "MFT1" are), else hexadecimal.
    public static func noteTypeName(_ type: UInt32) -> String {
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: type >> (8 * $0)) }
        let printable = bytes.allSatisfy {
            (0x30...0x39).contains($0) || (0x41...0x5a).contains($0)
        }
        return printable ? String(decoding: bytes, as: UTF8.self) : TenderError.hex(type)
    }

    /// Parses the notes of the PT_NOTE header at `header`.
    ///
    /// Each note is a 12-byte header (namesz, descsz, type), the name, padding,
    /// the descriptor and padding. The padding aligns to 4 bytes, which is
    /// what toolchains emit for the Solo5 notes; a segment with p_align 8
    /// (such as .note.gnu.property) pads to 8, as readers like readelf do.
    static func notes(
        inSegment reader: ELFFieldReader, header: Int, index: Int
    ) throws(TenderError) -> [Note] {
        let offset = try reader.u64(header + 8, "p_offset")
        let fileSize = try reader.u64(header + 32, "p_filesz")
        let align = try reader.u64(header + 48, "p_align") == 8 ? 8 : 4
        func hex<T: BinaryInteger>(_ value: T) -> String { TenderError.hex(value) }
        guard let segment = reader.bytes.range(at: offset, count: fileSize) else {
            throw reader.error(
                "note segment \(index) has \(hex(fileSize)) bytes at offset \(hex(offset)), beyond the "
                    + "end of the \(reader.bytes.count)-byte file; the file is truncated or corrupt"
            )
        }
        var notes: [Note] = []
        var position = segment.lowerBound
        while position < segment.upperBound {
            let what = "note \(notes.count) of segment \(index)"
            guard segment.upperBound - position >= 12 else {
                throw reader.error(
                    "\(what) is truncated: \(segment.upperBound - position) bytes remain, but a note "
                        + "header needs 12; the file is corrupt")
            }
            let nameSize = try reader.u32(position, "n_namesz")
            let descSize = try reader.u32(position + 4, "n_descsz")
            let type = try reader.u32(position + 8, "n_type")
            // Offsets relative to the segment start, where alignment is measured.
            let relative = position - segment.lowerBound
            let nameStart = relative + 12
            guard let nameEnd = nameStart.checkedAdding(Int(nameSize)),
                let descStart = nameEnd.roundedUp(toMultipleOf: align),
                let descEnd = descStart.checkedAdding(Int(descSize)),
                descEnd <= segment.count
            else {
                throw reader.error(
                    "\(what) (type \(noteTypeName(type))) claims a \(hex(nameSize))-byte name and a "
                        + "\(hex(descSize))-byte descriptor, which do not fit in the segment's "
                        + "\(hex(segment.count)) bytes; the file is corrupt")
            }
            let base = segment.lowerBound
            let nameBytes = Array(reader.bytes[(base + nameStart)..<(base + nameEnd)])
            let desc = Array(reader.bytes[(base + descStart)..<(base + descEnd)])
            let visible = nameBytes.prefix { $0 != 0 }
            notes.append(
                Note(
                    namesz: nameSize, descsz: descSize, type: type,
                    name: String(decoding: visible, as: UTF8.self), nameBytes: nameBytes, desc: desc
                ))
            // The last note may omit its trailing padding: clamp to the end.
            let next = descEnd.roundedUp(toMultipleOf: align) ?? segment.count
            position = base + min(next, segment.count)
        }
        return notes
    }
}
