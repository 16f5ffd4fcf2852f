import RiadABI

/// The command line of riad-hvt, which is solo5-hvt's:
///
///     riad-hvt [--mem=MB] [--net:NAME=IFACE] [--net-mac:NAME=HWADDR] [--pcap:NAME=FILE]
///              [--block:NAME=PATH] [--block-sector-size:NAME=N] [--] KERNEL [ARGS...]
///
/// and riad-hvt's own user-mode networking: `--net:NAME=user`, with
/// `--forward=tcp:HOSTPORT:GUESTPORT` (UserNetwork.swift).
/// Options come before the kernel; everything after the kernel is the
/// kernel's own command line and is passed on untouched.
public struct TenderOptions: Equatable {
    public var memoryMiB: UInt64 = 512
    /// Network devices by manifest name: host tap interface, or `user` for
    /// user-mode networking.
    public var nets: [String: String] = [:]
    /// Host ports passed on to the kernel on its user network.
    public var forwards: [PortForward] = []
    /// Chosen MAC addresses by manifest name.
    public var netMACs: [String: [UInt8]] = [:]
    /// Network devices whose frames are captured, by manifest name: pcap file.
    public var pcaps: [String: String] = [:]
    /// Block devices by manifest name: host file.
    public var blocks: [String: String] = [:]
    public var sectorSizes: [String: UInt16] = [:]
    public var kernel: String = ""
    public var kernelArguments: [String] = []
    public var showHelp = false
    /// Whether network devices are offered the shared ring (`--net-ring`);
    /// off, every frame is a hypercall, as with tenders before Solo5 0.11.
    public var netRing = true
    /// Whether a kernel that asks for NET_OFFLOAD (Riad kernels do) gets
    /// it on its taps (`--net-offload`): 64 KiB TCP segments, checksums left
    /// to the host.
    public var netOffload = true
    /// How long the net ring's I/O thread polls after its last entry
    /// before it sleeps (`--net-spin`, µs).
    public var netSpinMicroseconds: UInt64 = 200
    /// Print what the run cost (exits by kind, frames and bytes) at exit.
    public var showStatistics = false

    public init() {}

    public static let usage = """
        usage: riad-hvt [OPTIONS] [--] KERNEL [ARGS...]
        Runs an hvt unikernel on KVM.

        options:
          --mem=MB                      guest memory in MiB (default 512; rounded down to 2 MiB)
          --net:NAME=IFACE              attach network device NAME to tap interface IFACE
          --net:NAME=user               attach network device NAME to a user-mode network (libslirp;
                                        no tap, no root): network 10.0.2.0/24, the host 10.0.2.2,
                                        DNS 10.0.2.3; the kernel takes DHCP's 10.0.2.15 or is given
                                        --ipv4=10.0.2.15/24 --ipv4-gateway=10.0.2.2
          --forward=tcp:[ADDR:]HOSTPORT:GUESTPORT
                                        with --net:NAME=user: listen on ADDR:HOSTPORT (default
                                        address 127.0.0.1) and pass connections to the kernel's
                                        GUESTPORT at 10.0.2.15; udp: likewise; repeatable
          --net-mac:NAME=HWADDR         MAC address of network device NAME (default: random)
          --pcap:NAME=FILE              write the frames network device NAME sends and receives to FILE
          --net-ring=on|off             offer network devices the shared ring (default on); off: one
                                        hypercall per frame
          --net-spin=MICROSECONDS       how long the net ring's I/O thread polls after its last entry
                                        before it sleeps (default 200); longer keeps a stream off the
                                        slower paths, shorter leaves the host's CPU to others
          --net-offload=on|off          let a Riad kernel send and receive 64 KiB TCP segments and leave
                                        checksums to the host, on taps (default on)
          --stats                       at exit, print the run's exits by kind and the frames and
                                        bytes moved (to standard error)
          --block:NAME=PATH             attach block device NAME to the file PATH
          --block-sector-size:NAME=N    sector size of block device NAME (default 512)
          -h, --help                    show this help

        The exit status is the kernel's, or 1 if riad-hvt stopped it (with a message).
        examples: riad-hvt --mem=16 --net:service=tap0 hello.hvt --count=2
                  riad-hvt --net:service=user --forward=tcp:8080:80 web.hvt \\
                      --ipv4=10.0.2.15/24 --ipv4-gateway=10.0.2.2
        """

    /// Parses `arguments` (without the program name).
    public static func parse(_ arguments: [String]) throws(TenderError) -> TenderOptions {
        var options = TenderOptions()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                break
            }
            if argument == "-h" || argument == "--help" {
                options.showHelp = true
                return options
            }
            if argument == "--stats" {
                options.showStatistics = true
                continue
            }
            guard argument.hasPrefix("-") else {
                index -= 1
                break
            }
            try options.apply(option: argument)
        }
        guard index < arguments.count else {
            throw TenderError("no kernel given\n\(usage)")
        }
        options.kernel = arguments[index]
        options.kernelArguments = Array(arguments[(index + 1)...])
        try options.checkForwards()
        return options
    }

    /// The network devices on user-mode networking, by name.
    public var userNets: [String] {
        nets.filter { $0.value == UserNetwork.backendName }.map(\.key).sorted()
    }

    /// Forwards go to the one user network; each host port once.
    private func checkForwards() throws(TenderError) {
        guard let first = forwards.first else { return }
        let users = userNets
        guard !users.isEmpty else {
            throw TenderError(
                "--forward=\(first.description) needs a user network: add --net:NAME=user "
                    + "(forwards reach a kernel on user-mode networking only)")
        }
        guard users.count == 1 else {
            throw TenderError(
                "--forward: \(users.count) devices are on user networks "
                    + "(\(users.joined(separator: ", "))); forwards need exactly one")
        }
        for (index, forward) in forwards.enumerated() {
            for other in forwards[..<index]
            where other.transport == forward.transport && other.hostPort == forward.hostPort
                && (other.hostAddress == forward.hostAddress || other.hostAddress == "0.0.0.0"
                    || forward.hostAddress == "0.0.0.0")
            {
                throw TenderError(
                    "--forward=\(forward.description): host port \(forward.transport.rawValue) "
                        + "\(forward.hostPort) is already forwarded (--forward=\(other.description))")
            }
        }
    }

    private mutating func apply(option: String) throws(TenderError) {
        guard let equals = option.firstIndex(of: "=") else {
            throw TenderError("option \(option) needs a value (\(option)=...)\n\(Self.usage)")
        }
        let key = String(option[..<equals])
        let value = String(option[option.index(after: equals)...])
        if key == "--forward" {
            forwards.append(try PortForward.parse(value))
            return
        }
        if key == "--net-spin" {
            guard let microseconds = UInt64(value), microseconds <= 1_000_000 else {
                throw TenderError("--net-spin=\(value): expected microseconds from 0 to 1000000")
            }
            netSpinMicroseconds = microseconds
            return
        }
        if key == "--net-offload" {
            guard value == "on" || value == "off" else {
                throw TenderError("--net-offload=\(value): expected on or off")
            }
            netOffload = value == "on"
            return
        }
        if key == "--net-ring" {
            guard value == "on" || value == "off" else {
                throw TenderError("--net-ring=\(value): expected on or off")
            }
            netRing = value == "on"
            return
        }
        if key == "--mem" {
            guard let megabytes = UInt64(value), megabytes >= 2, megabytes <= 4096 else {
                throw TenderError("--mem=\(value): expected a number of MiB from 2 to 4096")
            }
            memoryMiB = megabytes
            return
        }
        let parts = key.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty else {
            throw TenderError("unknown option \(option)\n\(Self.usage)")
        }
        let name = parts[1]
        guard name.utf8.count <= Int(RIAD_MFT_NAME_MAX) else {
            throw TenderError("device name '\(name)' is longer than \(RIAD_MFT_NAME_MAX) bytes")
        }
        switch parts[0] {
        case "--net":
            try setOnce(&nets, name, value, option)
        case "--net-mac":
            guard let mac = Self.parseMAC(value) else {
                throw TenderError("\(option): expected a MAC address like 02:00:00:00:00:01")
            }
            netMACs[name] = mac
        case "--pcap":
            guard !value.isEmpty else { throw TenderError("\(option): the value is empty") }
            guard pcaps[name] == nil else {
                throw TenderError("device '\(name)' is captured twice (\(option))")
            }
            pcaps[name] = value
        case "--block":
            try setOnce(&blocks, name, value, option)
        case "--block-sector-size":
            guard let size = UInt16(value), size >= 512, size & (size - 1) == 0 else {
                throw TenderError("\(option): expected a power of two from 512 to 32768")
            }
            sectorSizes[name] = size
        default:
            throw TenderError("unknown option \(option)\n\(Self.usage)")
        }
    }

    private func setOnce(
        _ table: inout [String: String], _ name: String, _ value: String, _ option: String
    ) throws(TenderError) {
        guard !value.isEmpty else { throw TenderError("\(option): the value is empty") }
        guard table[name] == nil else {
            throw TenderError("device '\(name)' is given twice (\(option))")
        }
        table[name] = value
    }

    /// Parses `aa:bb:cc:dd:ee:ff`.
    static func parseMAC(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var mac: [UInt8] = []
        for part in parts {
            guard part.count == 2, let byte = UInt8(part, radix: 16) else { return nil }
            mac.append(byte)
        }
        return mac
    }
}
