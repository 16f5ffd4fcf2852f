import Foundation

/// A unikernel's manifest, `unikernel.toml`: its name, its entry type and the
/// devices it needs. See docs/manifest.md.
///
///     name = "echo"
///     entry = "Echo"
///
///     [[device]]
///     name = "service"
///     kind = "net"
///
///     [hvt]
///     memory = 32
public struct UnikernelManifest: Equatable {
    public enum DeviceKind: String, Equatable, CaseIterable {
        case net
        case block
        /// A read-only key-value store compiled from a folder (`path`).
        case kv
    }

    /// The TCP/IP stack the generated main builds for a network device and
    /// passes to the entry point.
    public enum Stack: String, Equatable, CaseIterable {
        /// None: the application opens the device and handles frames itself.
        case none
        /// RiadNet's own TCP/IP over the device (every target).
        case direct
        /// The host's sockets (unix only; on hvt the direct stack is used).
        case socket
    }

    public struct Device: Equatable {
        public let name: String
        public let kind: DeviceKind
        /// For network devices; `.none` for others.
        public var stack: Stack = .none
        /// For key-value stores: the folder, relative to the manifest.
        public var path: String? = nil
        /// For network devices with a direct stack: a static address and
        /// prefix ("10.0.0.2/24"), gateway and DNS servers, used unless the
        /// kernel's runtime arguments give others; no `ipv4`: DHCP.
        public var ipv4: String? = nil
        public var gateway: String? = nil
        public var dns: [String] = []

        /// The device's name as a Swift argument label: `admin-net` is `adminNet`.
        public var label: String {
            var result = ""
            var upper = false
            for character in name {
                if character == "-" {
                    upper = true
                } else {
                    result += upper ? character.uppercased() : String(character)
                    upper = false
                }
            }
            return result
        }
    }

    public let name: String
    /// The Swift type whose `start(platform:)` the generated main calls.
    public let entry: String
    public internal(set) var devices: [Device]
    /// `riad run`'s default `--mem` on hvt, in MiB.
    public let hvtMemoryMiB: Int
    /// Runtime arguments the manifest declares (`[[argument]]`): the
    /// generated `UnikernelArguments` declares them for the application.
    public internal(set) var arguments: [Argument] = []

    /// A runtime argument declared in the manifest.
    public struct Argument: Equatable {
        public enum Kind: String, Equatable, CaseIterable {
            case string, unsigned, flag
        }
        public let name: String
        public let kind: Kind
        /// The default as Swift source: a string literal, a number or false.
        public let defaultValue: String
        public let help: String
    }

    /// The file name looked for in a unikernel's folder.
    public static let fileName = "unikernel.toml"

    /// Parses and checks a manifest; `file` names it in errors.
    public init(text: String, file: String) throws(TOMLError) {
        let tables = try TOML.parse(text, file: file)
        func fail(_ line: Int, _ message: String) -> TOMLError {
            TOMLError(file: file, line: line, message: message)
        }
        func string(_ table: TOMLTable, _ key: String) throws(TOMLError) -> String {
            guard let entry = table[key] else {
                throw fail(
                    table.line, "missing key `\(key)`\(table.name.isEmpty ? "" : " in [\(table.name)]")")
            }
            guard case .string(let value) = entry.value else {
                throw fail(entry.line, "`\(key)` must be a string, found \(entry.value.typeName)")
            }
            return value
        }
        func checkKeys(_ table: TOMLTable, _ known: [String]) throws(TOMLError) {
            for entry in table.entries where !known.contains(entry.key) {
                let place = table.name.isEmpty ? "at the top level" : "in [\(table.name)]"
                throw fail(
                    entry.line,
                    "unknown key `\(entry.key)` \(place); expected one of: \(known.joined(separator: ", "))")
            }
        }

        let top = tables[0]
        try checkKeys(top, ["name", "entry"])
        name = try string(top, "name")
        guard Self.isValidName(name) else {
            throw fail(
                top["name"]!.line,
                "name `\(name)` must be 1 to 63 lower-case letters, digits or '-', starting with a letter")
        }
        entry = try string(top, "entry")
        guard Self.isIdentifier(entry) else {
            throw fail(top["entry"]!.line, "entry `\(entry)` must be a Swift type name")
        }

        var devices: [Device] = []
        var memory = 32
        var arguments: [Argument] = []
        for table in tables.dropFirst() {
            switch table.name {
            case "device":
                try checkKeys(table, ["name", "kind", "stack", "path", "ipv4", "ipv4-gateway", "dns"])
                let deviceName = try string(table, "name")
                guard Self.isValidName(deviceName) else {
                    throw fail(
                        table["name"]!.line,
                        "device name `\(deviceName)` must be 1 to 63 lower-case letters, digits or '-', starting with a letter"
                    )
                }
                guard !devices.contains(where: { $0.name == deviceName }) else {
                    throw fail(table["name"]!.line, "device `\(deviceName)` is declared twice")
                }
                let kindText = try string(table, "kind")
                guard let kind = DeviceKind(rawValue: kindText) else {
                    throw fail(
                        table["kind"]!.line,
                        "unknown device kind `\(kindText)`; expected one of: "
                            + DeviceKind.allCases.map(\.rawValue).joined(separator: ", "))
                }
                var stack = Stack.none
                if let entry = table["stack"] {
                    let text = try string(table, "stack")
                    guard let value = Stack(rawValue: text) else {
                        throw fail(
                            entry.line,
                            "unknown stack `\(text)`; expected one of: "
                                + Stack.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                    guard kind == .net || value == .none else {
                        throw fail(
                            entry.line,
                            "`stack` is for network devices; `\(deviceName)` is a \(kind.rawValue) device")
                    }
                    stack = value
                }
                var path: String? = nil
                if kind == .kv {
                    let folder = try string(table, "path")
                    let base = URL(fileURLWithPath: file).deletingLastPathComponent()
                    let resolved =
                        folder.hasPrefix("/")
                        ? URL(fileURLWithPath: folder) : base.appendingPathComponent(folder)
                    var isDirectory: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: resolved.path, isDirectory: &isDirectory),
                        isDirectory.boolValue
                    else {
                        throw fail(
                            table["path"]!.line,
                            "`path` \(folder) is not a folder (looked for \(resolved.path))")
                    }
                    path = folder
                } else if let entry = table["path"] {
                    throw fail(
                        entry.line, "`path` is for kv devices; `\(deviceName)` is a \(kind.rawValue) device")
                }
                var device = Device(name: deviceName, kind: kind, stack: stack, path: path)
                for key in ["ipv4", "ipv4-gateway", "dns"] where table[key] != nil {
                    let entry = table[key]!
                    guard kind == .net, stack != .none else {
                        throw fail(entry.line, "`\(key)` is for network devices with a stack")
                    }
                    if key == "dns" {
                        guard case .array(let values) = entry.value else {
                            throw fail(
                                entry.line,
                                "`dns` must be an array of addresses, found \(entry.value.typeName)")
                        }
                        for value in values {
                            guard case .string(let text) = value, Self.isAddress(text, prefix: false) else {
                                throw fail(entry.line, "`dns` must list IPv4 addresses like \"10.0.0.1\"")
                            }
                            device.dns.append(text)
                        }
                        continue
                    }
                    let text = try string(table, key)
                    guard Self.isAddress(text, prefix: key == "ipv4") else {
                        throw fail(
                            entry.line,
                            key == "ipv4"
                                ? "`ipv4` must be an address and prefix like \"10.0.0.2/24\", found \"\(text)\""
                                : "`ipv4-gateway` must be an address like \"10.0.0.1\", found \"\(text)\"")
                    }
                    if key == "ipv4" { device.ipv4 = text } else { device.gateway = text }
                }
                devices.append(device)
            case "argument":
                try checkKeys(table, ["name", "kind", "default", "help"])
                let argumentName = try string(table, "name")
                guard Self.isValidName(argumentName) else {
                    throw fail(
                        table["name"]!.line,
                        "argument name `\(argumentName)` must be 1 to 63 lower-case letters, digits or '-', starting with a letter"
                    )
                }
                guard !arguments.contains(where: { $0.name == argumentName }) else {
                    throw fail(table["name"]!.line, "argument `\(argumentName)` is declared twice")
                }
                let kindText = try string(table, "kind")
                guard let kind = Argument.Kind(rawValue: kindText) else {
                    throw fail(
                        table["kind"]!.line,
                        "unknown argument kind `\(kindText)`; expected one of: "
                            + Argument.Kind.allCases.map(\.rawValue).joined(separator: ", "))
                }
                let help = try string(table, "help")
                var defaultValue: String
                switch (kind, table["default"]?.value) {
                case (.string, nil): defaultValue = "\"\""
                case (.string, .string(let text)?): defaultValue = Self.swiftLiteral(text)
                case (.unsigned, nil): defaultValue = "0"
                case (.unsigned, .integer(let number)?) where number >= 0: defaultValue = String(number)
                case (.flag, nil): defaultValue = "false"
                case (_, let other?):
                    throw fail(
                        table["default"]!.line,
                        "`default` of a \(kind.rawValue) argument must be "
                            + (kind == .string
                                ? "a string" : kind == .unsigned ? "a non-negative integer" : "absent")
                            + ", found \(other.typeName)")
                }
                arguments.append(
                    Argument(
                        name: argumentName, kind: kind, defaultValue: defaultValue,
                        help: Self.swiftLiteral(help)))
            case "hvt":
                try checkKeys(table, ["memory"])
                if let entry = table["memory"] {
                    guard case .integer(let value) = entry.value, value >= 2, value <= 4096 else {
                        throw fail(entry.line, "`memory` must be an integer number of MiB from 2 to 4096")
                    }
                    memory = value
                }
            default:
                throw fail(
                    table.line, "unknown table [\(table.name)]; expected [[device]], [[argument]] or [hvt]")
            }
        }
        guard devices.count <= 63 else { throw fail(1, "at most 63 devices can be declared") }
        self.devices = devices
        self.hvtMemoryMiB = memory
        self.arguments = arguments
    }

    /// The manifest with every network stack replaced by `stack` (a
    /// configure flag's choice); devices without a stack keep none.
    public func replacingStacks(with stack: Stack) -> UnikernelManifest {
        var copy = self
        for index in copy.devices.indices
        where copy.devices[index].kind == .net && copy.devices[index].stack != .none {
            copy.devices[index].stack = stack
        }
        return copy
    }

    /// "10.0.0.2" (or "10.0.0.2/24" with `prefix`): four decimal octets.
    static func isAddress(_ text: String, prefix: Bool) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == (prefix ? 2 : 1) else { return false }
        if prefix {
            guard let length = Int(parts[1]), (0...32).contains(length), parts[1].allSatisfy(\.isASCII) else {
                return false
            }
        }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4
            && octets.allSatisfy { octet in
                !octet.isEmpty && octet.count <= 3 && octet.allSatisfy { $0 >= "0" && $0 <= "9" }
                    && Int(octet)! <= 255
            }
    }

    /// `text` as a Swift string literal.
    static func swiftLiteral(_ text: String) -> String {
        var literal = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": literal += "\\\\"
            case "\"": literal += "\\\""
            case "\n": literal += "\\n"
            case _ where scalar.value < 0x20: literal += "\\u{\(String(scalar.value, radix: 16))}"
            default: literal.unicodeScalars.append(scalar)
            }
        }
        return literal + "\""
    }

    static func isValidName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, bytes.count <= 63, first >= UInt8(ascii: "a"),
            first <= UInt8(ascii: "z")
        else { return false }
        return bytes.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z"))
                || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-")
        }
    }

    static func isIdentifier(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, !(first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else {
            return false
        }
        return bytes.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z"))
                || ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z"))
                || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_")
        }
    }
}
