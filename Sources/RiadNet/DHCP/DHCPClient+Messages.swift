// The client's messages on the wire: DHCPRepr's, plus the Host Name option
// (RFC 2132 section 3.14), which DHCPRepr does not carry, written after its
// other options.

extension DHCPClient {
    /// Option 12 (RFC 2132 section 3.14).
    static let hostnameOption: UInt8 = 12

    /// Whether `name` can go in option 12: one DNS label of 1 to 63
    /// letters, digits and hyphens, not starting or ending with a hyphen
    /// (RFC 1123 section 2.1), which every server accepts.
    static func isValidHostname(_ name: String) -> Bool {
        let bytes = name.utf8
        guard let first = bytes.first, let last = bytes.last, bytes.count <= 63,
            first != UInt8(ascii: "-"), last != UInt8(ascii: "-")
        else { return false }
        for byte in bytes {
            let letter = byte | 0x20
            guard
                (letter >= UInt8(ascii: "a") && letter <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
            else { return false }
        }
        return true
    }

    /// The most octets `emit` writes.
    static func length(of message: DHCPRepr, hostname: [UInt8]) -> Int {
        message.bufferLength + (hostname.isEmpty ? 0 : 2 + hostname.count)
    }

    /// Writes `message` and, if there is one, the host name option before
    /// End; returns the message's length (at most `length(of:hostname:)`,
    /// at least 300, RFC 1542 section 2.1), or 0 if `bytes` is too small
    /// (the datagram is then not sent).
    static func emit(_ message: DHCPRepr, hostname: [UInt8], into bytes: UnsafeMutableRawBufferPointer) -> Int
    {
        let total = length(of: message, hostname: hostname)
        guard bytes.count >= total else { return 0 }
        let emitted = message.emit(into: bytes)
        UnsafeMutableRawBufferPointer(rebasing: bytes[emitted..<total]).initializeMemory(
            as: UInt8.self, repeating: 0)
        guard !hostname.isEmpty else { return total }
        // Find End in what DHCPRepr wrote: codes and lengths it chose itself.
        var index = DHCPMessage.fixedLength
        while index < emitted, bytes[index] != DHCPRepr.Code.end {
            index += bytes[index] == DHCPRepr.Code.pad ? 1 : 2 + Int(bytes[index + 1])
        }
        guard index < emitted else { return 0 }
        bytes[index] = hostnameOption
        bytes[index + 1] = UInt8(hostname.count)
        for (offset, byte) in hostname.enumerated() { bytes[index + 2 + offset] = byte }
        bytes[index + 2 + hostname.count] = DHCPRepr.Code.end
        return Swift.max(DHCPMessage.minimumEmittedLength, index + 3 + hostname.count)
    }
}
