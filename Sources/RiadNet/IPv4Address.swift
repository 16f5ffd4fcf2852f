// IPv4 addresses and networks: RFC 791 section 3.2 (addressing), RFC 4632
// (CIDR notation), RFC 6890 (special-purpose address blocks).

/// A 32-bit IPv4 address.
///
/// ```swift
/// let gateway = IPv4Address(10, 0, 0, 1)
/// let server = IPv4Address("10.0.0.2")  // nil if the text is not a dotted quad
/// ```
public struct IPv4Address: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The four octets in transmission order, the first in the most
    /// significant position: 10.0.0.1 is 0x0a00_0001.
    public var rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// The address a.b.c.d.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// The address in the first four bytes of `octets`; nil if there are
    /// fewer than four.
    public init?<Octets: Collection>(octets: Octets) where Octets.Element == UInt8 {
        guard octets.count >= 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets.prefix(4) { value = value << 8 | UInt32(octet) }
        rawValue = value
    }

    /// The address at `offset` in a buffer its caller has checked.
    @inline(__always)
    init(wire bytes: UnsafeRawBufferPointer, at offset: Int) {
        rawValue = bytes.wireUInt32(at: offset)
    }

    /// Parses a dotted quad ("192.168.1.20"): exactly four decimal numbers
    /// from 0 to 255 separated by dots. Leading zeros are refused ("010"
    /// is octal to inet_aton and decimal to others), as are the shorter
    /// forms ("10.1") and surrounding spaces.
    public init?(_ text: String) {
        self.init(utf8: text.utf8)
    }

    /// Parses a dotted quad given as UTF-8 bytes; see `init?(_:)`.
    public init?<Bytes: Sequence>(utf8 bytes: Bytes) where Bytes.Element == UInt8 {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                octet = 0
                digits = 0
                dots += 1
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                // A leading zero is allowed only as the whole number "0".
                guard digits < 3, !(digits == 1 && octet == 0) else { return nil }
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                guard octet <= 255 else { return nil }
                digits += 1
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        rawValue = value << 8 | octet
    }

    /// 0.0.0.0: "this host", a source before it has an address (RFC 1122
    /// section 3.2.1.3).
    public static let unspecified = IPv4Address(rawValue: 0)
    /// 255.255.255.255: the limited broadcast address (RFC 919).
    public static let broadcast = IPv4Address(rawValue: 0xffff_ffff)
    /// 127.0.0.1
    public static let loopback = IPv4Address(127, 0, 0, 1)

    /// The octet at `index` (0 is sent first); 0 for an index outside 0..<4.
    public subscript(index: Int) -> UInt8 {
        guard index >= 0, index < 4 else { return 0 }
        return UInt8(truncatingIfNeeded: rawValue >> UInt32(8 * (3 - index)))
    }

    /// 0.0.0.0
    public var isUnspecified: Bool { rawValue == 0 }
    /// 255.255.255.255 (a subnet's directed broadcast depends on its
    /// prefix: see `IPv4CIDR.broadcast`).
    public var isBroadcast: Bool { rawValue == 0xffff_ffff }
    /// 224.0.0.0/4 (RFC 5771).
    public var isMulticast: Bool { rawValue >> 28 == 0xe }
    /// 127.0.0.0/8 (RFC 1122 section 3.2.1.3).
    public var isLoopback: Bool { rawValue >> 24 == 127 }
    /// 169.254.0.0/16 (RFC 3927).
    public var isLinkLocal: Bool { rawValue >> 16 == 0xa9fe }
    /// 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16 (RFC 1918).
    public var isPrivate: Bool {
        rawValue >> 24 == 10 || rawValue >> 20 == 0xac1 || rawValue >> 16 == 0xc0a8
    }
    /// An address a packet may come from: not multicast, not broadcast
    /// (RFC 1122 section 3.2.1.3).
    public var isUnicast: Bool { !isMulticast && !isBroadcast }

    /// Writes the four octets at `offset` in a buffer its caller has checked.
    @inline(__always)
    func write(to bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
        bytes.setWireUInt32(rawValue, at: offset)
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// "10.0.0.1"
    public var description: String {
        var text: [UInt8] = []
        text.reserveCapacity(15)
        for index in 0..<4 {
            if index > 0 { text.append(UInt8(ascii: ".")) }
            appendDecimal(UInt32(self[index]), to: &text)
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// An IPv4 address with a prefix length (RFC 4632): an interface's address
/// and its subnet, "10.0.0.2/24", or a network, "10.0.0.0/24".
///
/// ```swift
/// let cidr = IPv4CIDR("10.0.0.2/24")!
/// cidr.contains(IPv4Address(10, 0, 0, 77))  // true
/// cidr.broadcast                             // 10.0.0.255
/// ```
public struct IPv4CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The address, host bits included.
    public let address: IPv4Address
    /// The number of leading bits that name the network, 0...32.
    public let prefixLength: Int

    /// nil unless `prefixLength` is in 0...32.
    public init?(address: IPv4Address, prefixLength: Int) {
        guard prefixLength >= 0, prefixLength <= 32 else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    /// The network of `address` under `netmask`; nil if the netmask's ones
    /// are not contiguous (255.0.255.0).
    public init?(address: IPv4Address, netmask: IPv4Address) {
        let ones = netmask.rawValue.leadingZeroBitCount == 0 ? (~netmask.rawValue).leadingZeroBitCount : 0
        guard IPv4CIDR.mask(ones) == netmask.rawValue else { return nil }
        self.address = address
        self.prefixLength = ones
    }

    /// Parses "a.b.c.d/n" with n a decimal from 0 to 32 without leading zeros.
    public init?(_ text: String) {
        self.init(utf8: text.utf8)
    }

    /// Parses "a.b.c.d/n" given as UTF-8 bytes; see `init?(_:)`.
    public init?<Bytes: Collection>(utf8 bytes: Bytes) where Bytes.Element == UInt8 {
        guard let slash = bytes.firstIndex(of: UInt8(ascii: "/")),
            let address = IPv4Address(utf8: bytes[..<slash])
        else { return nil }
        let digits = bytes[bytes.index(after: slash)...]
        guard !digits.isEmpty, digits.count <= 2,
            digits.count == 1 || digits.first != UInt8(ascii: "0")
        else { return nil }
        var length = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            length = length * 10 + Int(byte - UInt8(ascii: "0"))
        }
        self.init(address: address, prefixLength: length)
    }

    private static func mask(_ prefixLength: Int) -> UInt32 {
        // A shift by 32 or more gives 0 in Swift, which is the /0 mask.
        prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - prefixLength)
    }

    /// 255.255.255.0 for a /24.
    public var netmask: IPv4Address { IPv4Address(rawValue: IPv4CIDR.mask(prefixLength)) }

    /// The network itself, host bits cleared: 10.0.0.0/24 for 10.0.0.2/24.
    public var network: IPv4CIDR {
        IPv4CIDR(
            unchecked: IPv4Address(rawValue: address.rawValue & IPv4CIDR.mask(prefixLength)),
            prefixLength)
    }

    /// The directed broadcast address, all host bits set (RFC 919, RFC 922);
    /// nil for /31 (point-to-point, RFC 3021) and /32, which have none.
    public var broadcast: IPv4Address? {
        guard prefixLength < 31 else { return nil }
        return IPv4Address(rawValue: address.rawValue | ~IPv4CIDR.mask(prefixLength))
    }

    /// Whether `other` is in this network.
    public func contains(_ other: IPv4Address) -> Bool {
        let mask = IPv4CIDR.mask(prefixLength)
        return other.rawValue & mask == address.rawValue & mask
    }

    /// Whether all of `other` is in this network.
    public func contains(_ other: IPv4CIDR) -> Bool {
        other.prefixLength >= prefixLength && contains(other.address)
    }

    private init(unchecked address: IPv4Address, _ prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// "10.0.0.2/24"
    public var description: String {
        var text = Array(address.description.utf8)
        text.append(UInt8(ascii: "/"))
        appendDecimal(UInt32(prefixLength), to: &text)
        return String(decoding: text, as: UTF8.self)
    }
}
