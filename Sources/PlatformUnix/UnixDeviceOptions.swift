import CPlatformUnix

/// Why a unix kernel refused to start: a message for its user, printed on
/// standard error before the process exits with status 1.
public struct UnixStartError: Error {
    public let message: String
    init(_ message: String) { self.message = message }
}

/// The device options at the front of a unix kernel's command line, the same
/// as riad-hvt's:
///
///     KERNEL [--net:NAME=IFACE] [--net-mac:NAME=HWADDR] [--pcap:NAME=FILE]
///            [--net-offload=on|off] [--block:NAME=PATH] [--block-sector-size:NAME=N]
///            [--] [ARGS...]
///
/// The first word that is not a device option starts the kernel's own
/// arguments; a `--` ends the options and is dropped, so that a kernel
/// argument that looks like a device option can still be passed.
struct UnixDeviceOptions {
    var nets: [(name: String, interface: String)] = []
    var macs: [(name: String, mac: [UInt8])] = []
    /// Network devices whose frames are captured, and the pcap files.
    var pcaps: [(name: String, path: String)] = []
    var blocks: [(name: String, path: String)] = []
    var sectorSizes: [(name: String, size: Int)] = []
    /// Taps carry 64 KiB TCP segments with checksums left to the host
    /// (IFF_VNET_HDR, TUNSETOFFLOAD), as riad-hvt's `--net-offload`.
    var netOffload = true
    var kernelArguments: [String] = []

    /// Parses `words` (the command line without the program name).
    init(parsing words: [String]) throws(UnixStartError) {
        var index = 0
        while index < words.count {
            let word = Array(words[index].utf8)
            if word == Array("--".utf8) {
                index += 1
                break
            }
            if word.starts(with: "--net-offload=".utf8) {
                let value = String(decoding: word.dropFirst("--net-offload=".utf8.count), as: UTF8.self)
                guard same(value, "on") || same(value, "off") else {
                    throw UnixStartError("\(words[index]): expected on or off")
                }
                netOffload = same(value, "on")
                index += 1
                continue
            }
            guard let (option, name, value) = Self.split(word) else { break }
            try apply(option: option, name: name, value: value, word: words[index])
            index += 1
        }
        kernelArguments = Array(words[index...])
    }

    /// The device names given with `--net` or `--block`.
    var givenNames: [String] { nets.map { $0.name } + blocks.map { $0.name } }

    /// The device options.
    enum Option: CaseIterable {
        case net
        case netMAC
        case pcap
        case block
        case sectorSize

        var text: String {
            switch self {
            case .net: "--net"
            case .netMAC: "--net-mac"
            case .pcap: "--pcap"
            case .block: "--block"
            case .sectorSize: "--block-sector-size"
            }
        }
    }

    /// Splits `--OPTION:NAME=VALUE` for the device options; nil for
    /// any other word. A missing `=` gives a nil value.
    private static func split(_ word: [UInt8]) -> (option: Option, name: String, value: String?)? {
        guard let colon = word.firstIndex(of: UInt8(ascii: ":")),
            let option = Option.allCases.first(where: { $0.text.utf8.elementsEqual(word[..<colon]) })
        else { return nil }
        let rest = word[(colon + 1)...]
        guard let equals = rest.firstIndex(of: UInt8(ascii: "=")) else {
            return (option, String(decoding: rest, as: UTF8.self), nil)
        }
        return (
            option, String(decoding: rest[..<equals], as: UTF8.self),
            String(decoding: rest[(equals + 1)...], as: UTF8.self)
        )
    }

    private mutating func apply(option: Option, name: String, value: String?, word: String)
        throws(UnixStartError)
    {
        guard let value else { throw UnixStartError("option \(word) needs a value (\(word)=...)") }
        guard !name.utf8.isEmpty else { throw UnixStartError("\(word): the device name is empty") }
        switch option {
        case .net:
            try checkNew(name, word, value)
            nets.append((name, value))
        case .netMAC:
            guard let mac = Self.parseMAC(value) else {
                throw UnixStartError("\(word): expected a MAC address like 02:00:00:00:00:01")
            }
            macs.append((name, mac))
        case .pcap:
            guard !value.utf8.isEmpty else { throw UnixStartError("\(word): the value is empty") }
            guard !pcaps.contains(where: { same($0.name, name) }) else {
                throw UnixStartError("device '\(name)' is captured twice (\(word))")
            }
            pcaps.append((name, value))
        case .block:
            try checkNew(name, word, value)
            blocks.append((name, value))
        case .sectorSize:
            guard let size = Self.parseDecimal(value), size >= 512, size <= 32768, size & (size - 1) == 0
            else { throw UnixStartError("\(word): expected a power of two from 512 to 32768") }
            sectorSizes.append((name, size))
        }
    }

    private func checkNew(_ name: String, _ word: String, _ value: String) throws(UnixStartError) {
        guard !value.utf8.isEmpty else { throw UnixStartError("\(word): the value is empty") }
        guard !givenNames.contains(where: { same($0, name) }) else {
            throw UnixStartError("device '\(name)' is given twice (\(word))")
        }
    }

    /// Parses `aa:bb:cc:dd:ee:ff`.
    static func parseMAC(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count == 17 else { return nil }
        var mac: [UInt8] = []
        for part in 0..<6 {
            let at = part * 3
            guard part == 5 || bytes[at + 2] == UInt8(ascii: ":"),
                let high = hexDigit(bytes[at]), let low = hexDigit(bytes[at + 1])
            else { return nil }
            mac.append(high << 4 | low)
        }
        return mac
    }

    static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func parseDecimal(_ text: String) -> Int? {
        guard !text.utf8.isEmpty, text.utf8.count <= 9 else { return nil }
        var value = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    // MARK: - Checking against the manifest

    /// Checks the options against the devices the kernel declares: every
    /// declared device given, with its kind, and nothing else. The messages
    /// are riad-hvt's, with `kernel` (the unikernel's name) in them.
    func check(against declared: [UnixDeviceDeclaration], kernel: String) throws(UnixStartError) {
        let given: [(name: String, kind: UnixDeviceDeclaration.Kind, word: String)] =
            nets.map { ($0.name, .net, "--net:\($0.name)=\($0.interface)") }
            + blocks.map { ($0.name, .block, "--block:\($0.name)=\($0.path)") }
        for (name, kind, word) in given {
            guard let device = declared.first(where: { same($0.name, name) }) else {
                let list = declared.map { "\(noun($0.kind)) '\($0.name)'" }
                throw UnixStartError(
                    "\(word): \(kernel) declares no device '\(name)' (it declares "
                        + (list.isEmpty ? "no devices" : list.joined(separator: ", ")) + ")")
            }
            guard device.kind == kind else {
                throw UnixStartError(
                    "\(word): \(kernel) declares '\(name)' as a \(noun(device.kind)), not a "
                        + "\(noun(kind)); use \(option(device.kind, name)) instead")
            }
        }
        for (name, _) in macs where !nets.contains(where: { same($0.name, name) }) {
            throw UnixStartError("--net-mac:\(name) given, but no --net:\(name)=IFACE")
        }
        for (name, _) in pcaps where !nets.contains(where: { same($0.name, name) }) {
            throw UnixStartError("--pcap:\(name) given, but no --net:\(name)=IFACE")
        }
        for (name, _) in sectorSizes where !blocks.contains(where: { same($0.name, name) }) {
            throw UnixStartError("--block-sector-size:\(name) given, but no --block:\(name)=PATH")
        }
        let missing = declared.filter { device in !givenNames.contains { same($0, device.name) } }
        guard let first = missing.first else { return }
        if missing.count == 1 {
            throw UnixStartError(
                "\(kernel) declares \(noun(first.kind)) '\(first.name)' but none was given: "
                    + "add \(option(first.kind, first.name))")
        }
        let list = missing.map { "\(noun($0.kind)) '\($0.name)' (add \(option($0.kind, $0.name)))" }
        throw UnixStartError(
            "\(kernel) declares \(missing.count) devices that were not given: "
                + list.joined(separator: ", "))
    }
}

/// Byte-wise string equality: names and options are ASCII, and this keeps
/// Unicode's tables out of kernels that do not otherwise need them.
func same(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

func noun(_ kind: UnixDeviceDeclaration.Kind) -> String {
    kind == .net ? "network device" : "block device"
}

func option(_ kind: UnixDeviceDeclaration.Kind, _ name: String) -> String {
    kind == .net ? "--net:\(name)=IFACE" : "--block:\(name)=PATH"
}
