import Riad
import RiadNet
import _Concurrency

#if RIAD_TARGET_UNIX
    import PlatformUnix
    typealias TargetPlatform = UnixPlatform
    typealias Network = UnixNetwork
#else
    import PlatformHvt
    typealias TargetPlatform = HvtPlatform
    typealias Network = HvtNetwork
#endif

/// Answers ARP and ping on its network device `service` at `--ipv4`, and
/// exits 0 after `--replies` echo replies (0: never).
struct Ping {
    static func start(platform: TargetPlatform) async -> Int32 {
        var arguments = RuntimeArguments(program: "ping")
        let ipv4 = arguments.string("ipv4", default: "10.0.0.2/24", help: "address and prefix length")
        let replies = arguments.unsigned("replies", default: 0, help: "exit after this many echo replies")
        let values: RuntimeArguments.Values
        switch arguments.parse(platform.arguments, platform) {
        case .run(let parsed): values = parsed
        case .exit(let status): return status
        }
        guard let address = IPv4CIDR(values[ipv4]) else {
            platform.write("ping: --ipv4=\(values[ipv4]): expected an address like 10.0.0.2/24; see --help\n")
            return ExitStatus.usage
        }
        guard let net = Network(name: "service"), let mac = MACAddress(bytes: net.mac) else {
            platform.write("ping: no network device 'service'\n")
            return ExitStatus.failure
        }
        var interface = EthernetInterface(mac: mac, address: address)
        interface.mtu = net.mtu
        platform.write("ping: \(mac) at \(address)\n")
        let receive = UnsafeMutableRawBufferPointer.allocate(byteCount: net.mtu + 14, alignment: 16)
        let transmit = UnsafeMutableRawBufferPointer.allocate(byteCount: net.mtu + 14, alignment: 16)
        while values[replies] == 0 || interface.counters.echoRepliesSent < values[replies] {
            while let length = net.read(into: receive) {
                interface.receive(
                    UnsafeRawBufferPointer(rebasing: receive[0..<length]),
                    now: platform.monotonicNanoseconds()
                ) { length, fill in
                    let frame = UnsafeMutableRawBufferPointer(rebasing: transmit[0..<length])
                    fill(frame)
                    return net.write(UnsafeRawBufferPointer(frame))
                }
            }
            do throws(RiadError) { try await platform.waitForInput(handle: net.handle.rawValue) } catch { break }
        }
        let counters = interface.counters
        platform.write(
            "ping: \(counters.echoRepliesSent) echo replies, \(counters.arpRepliesSent) ARP replies, "
                + "\(counters.framesMalformed) malformed frames, "
                + "\(interface.reassembler.counters.reassembled) datagrams reassembled, "
                + "\(counters.fragmentsSent) fragments sent\n")
        return ExitStatus.success
    }
}
