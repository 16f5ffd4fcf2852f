import CPlatformHvt
import PlatformHvt
import Riad
import RiadABI

/// Writes the tender's net ring (riad_hvt_ring.h) directly, breaking its
/// protocol in the one way `--case=NAME` chooses; the tender must stop the
/// kernel with "the kernel broke the net ring's protocol". A kernel of its
/// own, not a case of `hostile`: the ring is offered only with a net device
/// attached, and `hostile` runs without one.
///
/// Two cases keep the protocol: `ring-ok` (one good entry, written the same
/// way as the bad ones, is served) and `small-frame-burst` (the runtime's
/// own ring client, runtime/net.c, sends a burst of small frames and then
/// reads).
struct HostileRing {
    static func start(platform: HvtPlatform) async -> Int32 {
        let info = riad_hvt_get_boot_info()!.pointee
        let name = Arguments(platform.arguments).value("case") ?? ""
        if name == "small-frame-burst", let net = HvtNetwork(name: "service") {
            return await burst(platform, net, ring: UnsafeMutableRawPointer(bitPattern: UInt(info.net_ring)))
        }
        guard info.host_features & RIAD_HVT_FEATURE_RING_IO != 0, info.net_ring != 0 else {
            platform.write("hostile-ring: the tender offers no net ring\n")
            return 2
        }
        guard let net = HvtNetwork(name: "service") else {
            platform.write("hostile-ring: no network device 'service'\n")
            return 2
        }
        // One broadcast frame of EtherType 0x88b5 (a local experimental
        // type), 60 bytes, in the kernel's memory.
        let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 64)
        frame.initializeMemory(as: UInt8.self, repeating: 0)
        for i in 0..<6 { frame[i] = 0xff }
        frame[12] = 0x88
        frame[13] = 0xb5
        let frameAddress = UInt64(UInt(bitPattern: frame.baseAddress))
        var entry = riad_hvt_ring_entry(
            operation: RIAD_HVT_RING_NET_WRITE, handle: UInt32(net.handle.rawValue), data: frameAddress,
            len: 60, id: 1, reserved: 0)
        var tail: UInt32 = 1
        switch name {
        case "ring-ok":
            break
        case "ring-outside":
            // Past the kernel's memory and past the ring's page above it.
            entry.data = info.mem_size + 0x40_0000
        case "ring-into-ring":
            // The ring's own page: mapped, but no buffer may lie there.
            entry.data = info.net_ring
        case "ring-bad-operation":
            entry.operation = 7
        case "ring-bad-handle":
            entry.handle = 9
        case "ring-oversize":
            // One byte past the largest frame: with NET_OFFLOAD, the
            // virtio-net header and a 64 KiB datagram.
            entry.len = UInt32(net.offloads.isEmpty ? net.mtu + 15 : 12 + 14 + 65535 + 1)
        case "ring-tail-ahead":
            tail = 5000
        default:
            platform.write("hostile-ring: unknown --case=\(name)\n")
            return ExitStatus.usage
        }
        let ring = UnsafeMutableRawPointer(bitPattern: UInt(info.net_ring))!
        (ring + 128).storeBytes(of: entry, as: riad_hvt_ring_entry.self)
        riad_hvt_ring_compiler_barrier()
        ring.storeBytes(of: tail, as: UInt32.self)  // ent_tail
        riad_hvt_ring_full_barrier()
        // Kick whether or not the I/O thread asked for it: a kick it did
        // not need is harmless.
        riad_hvt_hypercall(Int32(RIAD_HVT_RING_KICK_PIO - RIAD_HVT_HYPERCALL_PIO_BASE), nil)
        // The tender takes the entry (ent_head reaches ent_tail) or stops
        // the kernel; give it 10 s.
        let deadline = platform.monotonicNanoseconds() + 10_000_000_000
        while ring.load(fromByteOffset: 64, as: UInt32.self) != tail  // ent_head
            && platform.monotonicNanoseconds() < deadline
        {
            riad_hvt_ring_relax()
        }
        if name == "ring-ok" && ring.load(fromByteOffset: 64, as: UInt32.self) == tail {
            platform.write("SUCCESS\n")
            return 0
        }
        platform.write("hostile-ring: the tender let case \(name) through\n")
        return 0
    }

    /// Riad's own ring client (runtime/net.c) with many entries
    /// outstanding: reads until the runtime posts its reads in batches of
    /// 32 (every batch full: 1 + 2 + 4 + 8 + 16 + 32 frames, from the
    /// frames the host sends after "ready"), then `--rounds` times (20)
    /// sends `--frames` (3000) 60-byte frames as fast as it can, which can
    /// outrun the tender's I/O thread and fill the ring, and reads 32
    /// frames, a batch posted behind the burst. The frames the host sent
    /// (EtherType 0x88b5, numbered) must come in order, none twice.
    /// Without a ring (`--net-ring=off`) the same goes by hypercall.
    static func burst(_ platform: HvtPlatform, _ net: HvtNetwork, ring: UnsafeMutableRawPointer?) async
        -> Int32
    {
        let arguments = Arguments(platform.arguments)
        let rounds = Int(arguments.value("rounds") ?? "") ?? 20
        let count = Int(arguments.value("frames") ?? "") ?? 3000
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: net.mtu + 14, alignment: 64)
        platform.write("ready\n")
        do throws(RiadError) {
            try await platform.waitForInput(handle: net.handle.rawValue)
            // Let the rest of the host's frames arrive.
            try await platform.sleep(until: platform.monotonicNanoseconds() + 200_000_000)
        } catch {
            platform.write("FAILURE: \(error.description)\n")
            return 1
        }
        var received = 0
        var last = -1
        var disorder: String? = nil
        /// Reads one frame; false when none is waiting.
        func read() -> Bool {
            guard let length = net.read(into: buffer) else { return false }
            // The host's numbered frames; anything else Linux sends on the
            // link is not counted.
            guard length >= 16, buffer[12] == 0x88, buffer[13] == 0xb5, buffer[11] == 0x01 else {
                return true
            }
            let number = Int(buffer[14]) << 8 | Int(buffer[15])
            if number <= last && disorder == nil { disorder = "frame \(number) after frame \(last)" }
            last = number
            received += 1
            return true
        }
        while received < 63, read() {}
        platform.write("received \(received) frames\n")
        let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: 60, alignment: 64)
        frame.initializeMemory(as: UInt8.self, repeating: 0)
        for i in 0..<6 { frame[i] = 0xff }
        frame[12] = 0x88
        frame[13] = 0xb6
        var refused = 0
        var most: UInt32 = 0
        for round in 0..<rounds {
            frame[14] = UInt8(truncatingIfNeeded: round)
            for _ in 0..<count where !net.write(UnsafeRawBufferPointer(frame)) { refused += 1 }
            // How many entries the tender has yet to take.
            if let ring {
                riad_hvt_ring_full_barrier()
                most = max(
                    most,
                    ring.load(fromByteOffset: 0, as: UInt32.self)
                        &- ring.load(fromByteOffset: 64, as: UInt32.self))
            }
            // A batch of reads posted behind the burst.
            for _ in 0..<32 where !read() { break }
        }
        while read() {}
        platform.write(
            "sent \(rounds * count) frames (\(refused) refused), at most \(most) entries outstanding; "
                + "received \(received) frames\n")
        if let disorder {
            platform.write("FAILURE: \(disorder)\n")
            return 1
        }
        platform.write("in order\nSUCCESS\n")
        return 0
    }
}
