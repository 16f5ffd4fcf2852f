// The classic pcap capture file format, as libpcap writes it and Wireshark
// and tcpdump read it: draft-ietf-opsawg-pcap (sections 4 and 5) and
// pcap-savefile(5). A file is a 24-octet header, then for every frame a
// 16-octet record header and the frame's first octets.
//
//    File header                        Record header
//    +-------------------------------+  +-------------------------------+
//    | magic number                  |  | timestamp, seconds            |
//    | major 2       | minor 4       |  | timestamp, micro/nanoseconds  |
//    | reserved (0)                  |  | captured length               |
//    | reserved (0)                  |  | original length               |
//    | snapshot length               |  +-------------------------------+
//    | link type (1: Ethernet)       |
//    +-------------------------------+
//
// Fields are in the writer's byte order, which readers learn from the magic
// number. These functions always write little-endian, so that a capture's
// bytes are the same on every machine.

/// How to write a pcap file: the header, and a record header per frame.
///
/// ```swift
/// let format = PcapFormat()
/// format.writeFileHeader(into: header)            // once, 24 octets
/// let captured = format.writeRecordHeader(         // per frame, 16 octets
///     into: record, nanosecondsSinceEpoch: wallClock, frameLength: frame.count)
/// // then write the first `captured` octets of the frame
/// ```
public struct PcapFormat: Sendable, Hashable {
    /// The unit of the second timestamp field.
    public enum Precision: Sendable, Hashable {
        /// Magic 0xa1b2c3d4: the original format.
        case microseconds
        /// Magic 0xa1b23c4d: readable by libpcap 1.5 and Wireshark 1.4 on.
        case nanoseconds

        public var magic: UInt32 {
            switch self {
            case .microseconds: return 0xa1b2_c3d4
            case .nanoseconds: return 0xa1b2_3c4d
            }
        }
    }

    /// LINKTYPE_ETHERNET: frames from the destination address on, without
    /// preamble or frame check sequence (linktypes registry, value 1).
    public static let ethernet: UInt32 = 1
    public static let fileHeaderLength = 24
    public static let recordHeaderLength = 16
    /// libpcap's default snapshot length: every frame whole.
    public static let defaultSnapLength: UInt32 = 262_144

    public var precision: Precision
    /// Frames are cut to this many octets in the file.
    public var snapLength: UInt32
    public var linkType: UInt32

    public init(
        precision: Precision = .microseconds, snapLength: UInt32 = PcapFormat.defaultSnapLength,
        linkType: UInt32 = PcapFormat.ethernet
    ) {
        self.precision = precision
        self.snapLength = snapLength
        self.linkType = linkType
    }

    /// Writes the 24-octet file header at the start of `bytes`, which must
    /// hold it.
    public func writeFileHeader(into bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count >= PcapFormat.fileHeaderLength, "pcap header buffer too small")
        store(precision.magic, at: 0, in: bytes)
        store(UInt32(2) | UInt32(4) << 16, at: 4, in: bytes)  // major 2, minor 4, each 16 bits
        store(0, at: 8, in: bytes)  // "thiszone", reserved: 0
        store(0, at: 12, in: bytes)  // "sigfigs", reserved: 0
        store(snapLength, at: 16, in: bytes)
        store(linkType, at: 20, in: bytes)
    }

    /// The octets of a frame of `frameLength` that go in the file: at most
    /// `snapLength`.
    public func capturedLength(frameLength: Int) -> Int {
        Swift.max(0, Swift.min(frameLength, Int(clamping: snapLength)))
    }

    /// Writes the 16-octet record header of a frame at the start of `bytes`,
    /// which must hold it, and returns how many of the frame's octets
    /// follow it in the file.
    ///
    /// - Parameters:
    ///   - nanosecondsSinceEpoch: When the frame was sent or received, on
    ///     the wall clock. Seconds past 2106 do not fit the format and wrap.
    ///   - frameLength: The frame's length on the wire (the original length).
    @discardableResult
    public func writeRecordHeader(
        into bytes: UnsafeMutableRawBufferPointer, nanosecondsSinceEpoch: UInt64, frameLength: Int
    ) -> Int {
        precondition(bytes.count >= PcapFormat.recordHeaderLength, "pcap record buffer too small")
        let captured = capturedLength(frameLength: frameLength)
        let seconds = nanosecondsSinceEpoch / 1_000_000_000
        let fraction = nanosecondsSinceEpoch % 1_000_000_000
        store(UInt32(truncatingIfNeeded: seconds), at: 0, in: bytes)
        store(UInt32(precision == .microseconds ? fraction / 1000 : fraction), at: 4, in: bytes)
        store(UInt32(captured), at: 8, in: bytes)
        store(UInt32(clamping: Swift.max(frameLength, 0)), at: 12, in: bytes)
        return captured
    }

    private func store(_ value: UInt32, at offset: Int, in bytes: UnsafeMutableRawBufferPointer) {
        for index in 0..<4 {
            bytes[offset + index] = UInt8(truncatingIfNeeded: value >> UInt32(8 * index))
        }
    }
}
