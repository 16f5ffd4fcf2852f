import Riad
import _Concurrency

// The same kernel for both targets: each target's platform and devices
// under one name (riad defines RIAD_TARGET_UNIX or RIAD_TARGET_HVT).
#if RIAD_TARGET_UNIX
    import PlatformUnix
    typealias TargetPlatform = UnixPlatform
    typealias Network = UnixNetwork
#else
    import PlatformHvt
    typealias TargetPlatform = HvtPlatform
    typealias Network = HvtNetwork
#endif

/// Sends one broadcast frame (EtherType 0x88b5, a local experimental type)
/// saying "riad-hello", then sleeps in POLL until a frame of that type
/// arrives, prints its payload and sends it back with "echo:" in front.
struct NetKernel {
    static let etherType: (UInt8, UInt8) = (0x88, 0xb5)

    static func start(platform: TargetPlatform) async -> Int32 {
        guard let net = Network(name: "service") else {
            platform.write("FAILURE: no network device 'service'\n")
            return 1
        }
        let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: net.mtu + 14, alignment: 16)
        let hello = Array("riad-hello".utf8)
        var length = header(frame, destination: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], source: net.mac)
        for byte in hello {
            frame[length] = byte
            length += 1
        }
        guard net.write(UnsafeRawBufferPointer(rebasing: frame[0..<max(length, 60)])) else {
            platform.write("FAILURE: the frame was refused\n")
            return 1
        }
        platform.write("sent\n")
        let deadline = platform.monotonicNanoseconds() + 20_000_000_000
        while platform.monotonicNanoseconds() < deadline {
            // Suspend until the device has input (frames already waiting
            // count: readiness is level-triggered), then read it all.
            guard await waitForInput(platform, handle: net.handle.rawValue, until: deadline) else { break }
            platform.write("woken by input\n")
            while let received = net.read(into: frame) {
                guard received > 14, frame[12] == etherType.0, frame[13] == etherType.1 else { continue }
                let payload = Array(frame[14..<received]).prefix { $0 != 0 }
                platform.write("received: \(String(decoding: payload, as: UTF8.self))\n")
                let sender = Array(frame[6..<12])
                let reply = UnsafeMutableRawBufferPointer.allocate(byteCount: net.mtu + 14, alignment: 16)
                var replyLength = header(reply, destination: sender, source: net.mac)
                for byte in Array("echo:".utf8) + payload {
                    reply[replyLength] = byte
                    replyLength += 1
                }
                _ = net.write(UnsafeRawBufferPointer(rebasing: reply[0..<max(replyLength, 60)]))
                reply.deallocate()
                platform.write("SUCCESS\n")
                return 0
            }
        }
        platform.write("FAILURE: no frame arrived\n")
        return 1
    }

    /// Waits for input on `handle` until `deadline`; false on timeout.
    static func waitForInput(_ platform: TargetPlatform, handle: UInt64, until deadline: UInt64) async -> Bool
    {
        await withTaskGroup(of: Bool.self, returning: Bool.self) { group in
            group.addTask {
                do throws(RiadError) { try await platform.waitForInput(handle: handle) } catch {
                    return false
                }
                return true
            }
            group.addTask {
                try? await platform.sleep(until: deadline)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    static func header(_ frame: UnsafeMutableRawBufferPointer, destination: [UInt8], source: [UInt8]) -> Int {
        for i in 0..<60 { frame[i] = 0 }
        for i in 0..<6 {
            frame[i] = destination[i]
            frame[6 + i] = source[i]
        }
        frame[12] = etherType.0
        frame[13] = etherType.1
        return 14
    }
}
