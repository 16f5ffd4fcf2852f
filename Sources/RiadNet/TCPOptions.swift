// TCP options: RFC 9293 section 3.2 "Specific Option Definitions" (End of
// Option List, No-Operation, Maximum Segment Size), RFC 7323 section 2
// (Window Scale) and section 3 (Timestamps), RFC 2018 (SACK-Permitted and
// SACK). Options take at most 40 octets: the data offset is 15 words at
// most (RFC 9293 section 3.1).
//
// Parsing follows RFC 9293 section 3.2: an option kind other than End and
// No-Operation has a length octet that counts the kind and itself; a
// receiver "MUST ignore without error any TCP option it does not implement"
// (skipped by its length) and "MUST be prepared to handle an illegal option
// length (e.g., zero)": such a segment is refused.

/// One SACK block (RFC 2018 section 3): the data from `left` up to, not
/// including, `right` has been received.
public struct TCPSACKBlock: Sendable, Hashable {
    public var left: TCPSeqNumber
    public var right: TCPSeqNumber

    public init(left: TCPSeqNumber, right: TCPSeqNumber) {
        self.left = left
        self.right = right
    }
}

/// Up to four SACK blocks, stored inline: no allocation. Four is the most
/// a 40-octet options area holds (RFC 2018 section 3).
public struct TCPSACKBlocks: RandomAccessCollection, Sendable, Hashable {
    public static let capacity = 4
    private var storage: (TCPSACKBlock, TCPSACKBlock, TCPSACKBlock, TCPSACKBlock)
    public private(set) var count = 0

    public init() {
        let empty = TCPSACKBlock(left: TCPSeqNumber(rawValue: 0), right: TCPSeqNumber(rawValue: 0))
        storage = (empty, empty, empty, empty)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    /// The block at `index`, which must be in 0..<count.
    public subscript(index: Int) -> TCPSACKBlock {
        precondition(index >= 0 && index < count, "SACK block index out of range")
        switch index {
        case 0: return storage.0
        case 1: return storage.1
        case 2: return storage.2
        default: return storage.3
        }
    }

    /// Adds `block` at the end; returns false (and adds nothing) when the
    /// four places are taken.
    @discardableResult
    public mutating func append(_ block: TCPSACKBlock) -> Bool {
        switch count {
        case 0: storage.0 = block
        case 1: storage.1 = block
        case 2: storage.2 = block
        case 3: storage.3 = block
        default: return false
        }
        count += 1
        return true
    }

    public static func == (lhs: TCPSACKBlocks, rhs: TCPSACKBlocks) -> Bool {
        lhs.elementsEqual(rhs)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for block in self { hasher.combine(block) }
    }
}

/// The Timestamps option (RFC 7323 section 3.2): TSval and TSecr.
public struct TCPTimestamps: Sendable, Hashable {
    /// TSval: the sender's timestamp clock.
    public var value: UInt32
    /// TSecr: the TSval most recently received, valid when ACK is set.
    public var echoReply: UInt32

    public init(value: UInt32, echoReply: UInt32) {
        self.value = value
        self.echoReply = echoReply
    }
}

/// The options of one segment that this stack understands.
public struct TCPOptions: Sendable, Hashable {
    /// Maximum Segment Size (RFC 9293 section 3.7.1), sent in SYNs only.
    public var maximumSegmentSize: UInt16?
    /// The window shift count (RFC 7323 section 2.2), 0...14, sent in SYNs only.
    public var windowScale: UInt8?
    /// SACK-Permitted (RFC 2018 section 2), sent in SYNs only.
    public var sackPermitted = false
    /// SACK blocks (RFC 2018 section 3), most recent first (section 4).
    public var sackBlocks = TCPSACKBlocks()
    /// Timestamps (RFC 7323 section 3.2).
    public var timestamps: TCPTimestamps?

    public init() {}

    /// RFC 7323 section 2.3: a shift count above 14 "MUST" be taken as 14.
    public static let maximumWindowScale: UInt8 = 14
    /// The options area is at most 40 octets (RFC 9293 section 3.1).
    public static let maximumLength = 40

    enum Kind {
        static let end: UInt8 = 0
        static let noOperation: UInt8 = 1
        static let maximumSegmentSize: UInt8 = 2
        static let windowScale: UInt8 = 3
        static let sackPermitted: UInt8 = 4
        static let sack: UInt8 = 5
        static let timestamps: UInt8 = 8
    }

    /// Parses an options area (the bytes between the fixed header and the
    /// data offset).
    ///
    /// - Throws: `.malformed("option length")` for a length under 2 or
    ///   past the end of the area, `.malformed("option")` for a known option
    ///   whose length is not the one its RFC gives.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> TCPOptions {
        var options = TCPOptions()
        var index = 0
        while index < bytes.count {
            let kind = bytes[index]
            // RFC 9293 section 3.2: End of Option List ends the options;
            // what follows it is padding.
            if kind == Kind.end { break }
            if kind == Kind.noOperation {
                index += 1
                continue
            }
            guard index + 1 < bytes.count else { throw .malformed("option length") }
            let length = Int(bytes[index + 1])
            guard length >= 2, length <= bytes.count - index else { throw .malformed("option length") }
            let data = index + 2
            switch kind {
            case Kind.maximumSegmentSize:
                // RFC 9293 section 3.2: "Length: 4 bytes".
                guard length == 4 else { throw .malformed("MSS option") }
                options.maximumSegmentSize = bytes.wireUInt16(at: data)
            case Kind.windowScale:
                // RFC 7323 section 2.2: kind 3, length 3.
                guard length == 3 else { throw .malformed("window scale option") }
                options.windowScale = Swift.min(bytes[data], maximumWindowScale)
            case Kind.sackPermitted:
                // RFC 2018 section 2: kind 4, length 2.
                guard length == 2 else { throw .malformed("SACK-permitted option") }
                options.sackPermitted = true
            case Kind.sack:
                // RFC 2018 section 3: 2 + 8n octets, n blocks of two edges.
                let blocks = (length - 2) / 8
                guard (length - 2) % 8 == 0, blocks >= 1, blocks <= TCPSACKBlocks.capacity else {
                    throw .malformed("SACK option")
                }
                options.sackBlocks = TCPSACKBlocks()
                for block in 0..<blocks {
                    let at = data + block * 8
                    options.sackBlocks.append(
                        TCPSACKBlock(
                            left: TCPSeqNumber(rawValue: bytes.wireUInt32(at: at)),
                            right: TCPSeqNumber(rawValue: bytes.wireUInt32(at: at + 4))))
                }
            case Kind.timestamps:
                // RFC 7323 section 3.2: kind 8, length 10.
                guard length == 10 else { throw .malformed("timestamps option") }
                options.timestamps = TCPTimestamps(
                    value: bytes.wireUInt32(at: data), echoReply: bytes.wireUInt32(at: data + 4))
            default:
                break  // Unknown: skipped by its length (RFC 9293 section 3.2).
            }
            index += length
        }
        return options
    }

    /// How many SACK blocks `emit` writes: as many as fit beside the other
    /// options (three with timestamps, RFC 2018 section 3), first ones first.
    public var emittedSACKBlockCount: Int {
        guard !sackBlocks.isEmpty else { return 0 }
        let room = TCPOptions.maximumLength - lengthWithoutSACK - 4
        return Swift.max(0, Swift.min(sackBlocks.count, room / 8))
    }

    /// The octets `emit` writes, a multiple of 4, at most 40.
    public var encodedLength: Int {
        let blocks = emittedSACKBlockCount
        return lengthWithoutSACK + (blocks == 0 ? 0 : 4 + 8 * blocks)
    }

    private var lengthWithoutSACK: Int {
        var length = 0
        if maximumSegmentSize != nil { length += 4 }
        if timestamps != nil {
            length += 12
        } else if sackPermitted {
            length += 4
        }
        if windowScale != nil { length += 4 }
        return length
    }

    /// Writes the options in the layout Linux uses, padded with
    /// No-Operations so that each option's fields fall on the boundaries
    /// RFC 7323 appendix A suggests:
    ///
    ///     MSS | SACKOK TS or NOP NOP TS or NOP NOP SACKOK | NOP WS | NOP NOP SACK
    ///
    /// `bytes` must hold `encodedLength` octets; no more are touched.
    public func emit(into bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count >= encodedLength, "TCP options buffer too small")
        var index = 0
        func put(_ byte: UInt8) {
            bytes[index] = byte
            index += 1
        }
        if let mss = maximumSegmentSize {
            put(Kind.maximumSegmentSize)
            put(4)
            bytes.setWireUInt16(mss, at: index)
            index += 2
        }
        if let timestamps {
            if sackPermitted {
                put(Kind.sackPermitted)
                put(2)
            } else {
                put(Kind.noOperation)
                put(Kind.noOperation)
            }
            put(Kind.timestamps)
            put(10)
            bytes.setWireUInt32(timestamps.value, at: index)
            bytes.setWireUInt32(timestamps.echoReply, at: index + 4)
            index += 8
        } else if sackPermitted {
            put(Kind.noOperation)
            put(Kind.noOperation)
            put(Kind.sackPermitted)
            put(2)
        }
        if let windowScale {
            put(Kind.noOperation)
            put(Kind.windowScale)
            put(3)
            put(Swift.min(windowScale, TCPOptions.maximumWindowScale))
        }
        let blocks = emittedSACKBlockCount
        if blocks > 0 {
            put(Kind.noOperation)
            put(Kind.noOperation)
            put(Kind.sack)
            put(UInt8(2 + 8 * blocks))
            for block in sackBlocks.prefix(blocks) {
                bytes.setWireUInt32(block.left.rawValue, at: index)
                bytes.setWireUInt32(block.right.rawValue, at: index + 4)
                index += 8
            }
        }
    }
}
