import CRiadTender
import Glibc
import RiadABI

/// riad-hvt from the command line to the guest's exit status.
///
/// Order matters: everything that can fail because of the user or the
/// kernel file (options, ELF, notes, devices) is checked before a VM exists;
/// the seccomp filter goes on last, just before the first instruction.
public struct HvtTender {
    let options: TenderOptions

    public init(options: TenderOptions) { self.options = options }

    /// Memory the kernel needs above its image at the very least (its stack).
    static let minimumStack: UInt64 = 0x10000

    /// Boots the kernel and runs it to its end. Returns its exit status.
    public func run(installSeccomp: Bool = true) throws(TenderError) -> Int32 {
        let memorySize = (options.memoryMiB << 20) / X86Layout.largePageSize * X86Layout.largePageSize
        let file = try readKernel(options.kernel)
        let image = try ELFImage(bytes: file, name: options.kernel, guestMemorySize: memorySize)
        try image.checkABI()
        var manifest = try image.manifest()
        // NET_OFFLOAD changes every frame's format, so it goes only to a
        // kernel that asks for it, and only where every device is a tap.
        let asked = try image.riadFeatures()
        let offload =
            asked & RIAD_HVT_FEATURE_NET_OFFLOAD != 0 && options.netOffload && options.netRing
            && !options.nets.isEmpty && options.userNets.isEmpty
        let devices = try attachDevices(to: &manifest, offload: offload)
        try manifest.checkAllAttached()
        try checkUnusedOptions(manifest)

        // The net ring goes just above the kernel's memory, in a 2 MiB
        // page of its own that the page tables map and no buffer check
        // lets the kernel name.
        let ringWanted =
            options.netRing && !devices.nets.isEmpty
            && memorySize + NetRing.reservation <= X86Layout.maxMemory
        let memory = try GuestMemory(size: memorySize, reserved: ringWanted ? NetRing.reservation : 0)
        try image.load(into: memory.all)
        // The kernel's stack starts at the top of memory and grows down; the
        // runtime keeps its heap below a guard, but the image must leave room.
        guard image.kernelEnd + Self.minimumStack <= memorySize else {
            throw TenderError(
                "\(options.kernel) needs more memory than --mem=\(options.memoryMiB) gives it")
        }
        let machine = try KVMMachine(memory: memory)
        X86Layout.writeTables(into: memory)
        let nets = Dictionary(uniqueKeysWithValues: devices.nets.map { ($0.handle, $0) })
        let kick = ringWanted && machine.supportsIOEventFD ? try makeKick(machine) : nil
        var features: UInt32 = asked & RIAD_HVT_FEATURE_TENDER_STATS
        if kick != nil { features |= RIAD_HVT_FEATURE_RING_IO }
        if offload { features |= RIAD_HVT_FEATURE_NET_OFFLOAD }
        let statisticsAddress = try writeBootInfo(
            into: memory, kernelEnd: image.kernelEnd, tscFrequency: machine.tscFrequency,
            manifest: manifest.bytes(), features: features)
        // Counters the kernel can read, when it asked for them.
        let statistics = TenderStatistics(
            mirror: features & RIAD_HVT_FEATURE_TENDER_STATS != 0
                ? memory.all.baseAddress! + Int(statisticsAddress) : nil)
        let ring = kick.map {
            (
                NetRing(
                    memory: memory, nets: nets, statistics: statistics,
                    spinMicroseconds: options.netSpinMicroseconds),
                kick: $0
            )
        }
        try machine.setRegisters(entry: image.entry)

        let hypercalls = Hypercalls(
            memory: memory, nets: nets,
            blocks: Dictionary(uniqueKeysWithValues: devices.blocks.map { ($0.handle, $0) }),
            poller: try Poller(nets: devices.nets), statistics: statistics)
        // A user network's helper can exit; writing to its socket then must
        // fail with EPIPE (the run loop says so and stops) rather than kill
        // the tender without a word. Helpers start with SIGPIPE's default.
        if devices.nets.contains(where: \.isUser) { signal(SIGPIPE, SIG_IGN) }
        // The I/O thread starts before the filter: creating a thread is
        // not on the allowlist, and what the thread does afterwards is.
        if let (netRing, kick) = ring { try netRing.start(kick: kick) }
        guard riad_catch_stop_signals(machine.run) == 0 else {
            throw TenderError("cannot install the signal handlers: \(errnoString())")
        }
        if installSeccomp { try Seccomp.install() }
        let status: Int32
        do {
            status = try runLoop(machine, hypercalls, statistics)
        } catch {
            if options.showStatistics { printStatistics(statistics) }
            throw error
        }
        if options.showStatistics { printStatistics(statistics) }
        return status
    }

    /// The net ring's kick: an eventfd that KVM signals when the kernel
    /// writes to the kick port.
    private func makeKick(_ machine: KVMMachine) throws(TenderError) -> Int32 {
        let kick = eventfd(0, Int32(EFD_CLOEXEC))
        guard kick >= 0 else { throw TenderError("cannot create the net ring's eventfd: \(errnoString())") }
        try machine.signal(eventFD: kick, onWriteTo: UInt16(RIAD_HVT_RING_KICK_PIO))
        return kick
    }

    private func printStatistics(_ statistics: TenderStatistics) {
        let report = statistics.report
        _ = report.withCString { write(2, $0, strlen($0)) }
    }

    private func readKernel(_ path: String) throws(TenderError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TenderError("\(path): cannot open the kernel: \(errnoString())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw TenderError("\(path): not a regular file")
        }
        guard info.st_size <= 1 << 30 else { throw TenderError("\(path): larger than 1 GiB") }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count == Int(info.st_size) else { throw TenderError("\(path): short read") }
        return bytes
    }

    private func attachDevices(to manifest: inout Manifest, offload: Bool) throws(TenderError) -> (
        nets: [NetDevice], blocks: [FileBlockDevice]
    ) {
        var nets: [NetDevice] = []
        var blocks: [FileBlockDevice] = []
        for (name, interface) in options.nets.sorted(by: { $0.key < $1.key }) {
            guard let handle = manifest.device(named: name)?.handle else {
                throw undeclared("--net:\(name)=\(interface)", name, manifest)
            }
            // A device the kernel does not declare is refused before a
            // user network's helper starts.
            var net =
                interface == UserNetwork.backendName
                ? try NetDevice(
                    handle: UInt64(handle), name: name, userNetworkForwards: options.forwards,
                    mac: options.netMACs[name])
                : try NetDevice(
                    handle: UInt64(handle), name: name, interface: interface, mac: options.netMACs[name],
                    offload: offload)
            if let path = options.pcaps[name] { net.pcap = try TenderPcap(path: path, device: name) }
            try manifest.attachNet(name: name, fd: net.fd, mac: net.mac, mtu: net.mtu)
            nets.append(net)
        }
        for (name, path) in options.blocks.sorted(by: { $0.key < $1.key }) {
            guard let handle = manifest.device(named: name)?.handle else {
                throw undeclared("--block:\(name)=\(path)", name, manifest)
            }
            let device = try FileBlockDevice(
                handle: UInt64(handle), name: name, path: path, blockSize: options.sectorSizes[name] ?? 512)
            try manifest.attachBlock(
                name: name, fd: device.fd, capacity: device.capacity, blockSize: device.blockSize)
            blocks.append(device)
        }
        return (nets, blocks)
    }

    /// An option for a device the kernel does not declare: a typo, or the
    /// wrong kernel.
    private func undeclared(_ option: String, _ name: String, _ manifest: Manifest) -> TenderError {
        let declared = manifest.devices.map { "\($0.kind.noun) '\($0.name)'" }
        return TenderError(
            "\(option): \(options.kernel) declares no device '\(name)' (it declares "
                + (declared.isEmpty ? "no devices" : declared.joined(separator: ", ")) + ")")
    }

    /// `--net-mac` or `--block-sector-size` for a device never attached is a mistake.
    private func checkUnusedOptions(_ manifest: Manifest) throws(TenderError) {
        for name in options.netMACs.keys where options.nets[name] == nil {
            throw TenderError("--net-mac:\(name) given, but no --net:\(name)=IFACE")
        }
        for name in options.pcaps.keys where options.nets[name] == nil {
            throw TenderError("--pcap:\(name) given, but no --net:\(name)=IFACE")
        }
        for name in options.sectorSizes.keys where options.blocks[name] == nil {
            throw TenderError("--block-sector-size:\(name) given, but no --block:\(name)=PATH")
        }
    }

    /// Boot info at 0x10000, followed by the manifest, the command line
    /// and the tender's statistics; returns where the statistics go. The
    /// net ring, when offered, is just above the kernel's memory.
    private func writeBootInfo(
        into memory: GuestMemory, kernelEnd: UInt64, tscFrequency: UInt64, manifest: [UInt8],
        features: UInt32
    ) throws(TenderError) -> UInt64 {
        let manifestAddress = X86Layout.bootInfoBase + UInt64(MemoryLayout<riad_hvt_boot_info>.size)
        let cmdlineAddress = manifestAddress + UInt64(manifest.count + 7) / 8 * 8
        let commandLine = Array(options.kernelArguments.joined(separator: " ").utf8)
        guard commandLine.count < Int(RIAD_HVT_CMDLINE_SIZE) else {
            throw TenderError(
                "the kernel's command line is \(commandLine.count) bytes; at most "
                    + "\(RIAD_HVT_CMDLINE_SIZE - 1) fit")
        }
        let info = riad_hvt_boot_info(
            mem_size: memory.size, kernel_end: kernelEnd, cpu_cycle_freq: tscFrequency,
            cmdline: cmdlineAddress, mft: manifestAddress,
            host_features: features, guest_features: 0,
            net_ring: features & RIAD_HVT_FEATURE_RING_IO != 0 ? memory.size : 0)
        memory.write(info, at: X86Layout.bootInfoBase)
        let all = memory.all
        all.baseAddress!.advanced(by: Int(manifestAddress)).copyMemory(
            from: manifest, byteCount: manifest.count)
        all.baseAddress!.advanced(by: Int(cmdlineAddress)).copyMemory(
            from: commandLine, byteCount: commandLine.count)
        all[Int(cmdlineAddress) + commandLine.count] = 0
        return riad_hvt_tender_stats_address(cmdlineAddress)
    }

    private func runLoop(
        _ machine: KVMMachine, _ hypercalls: Hypercalls, _ statistics: TenderStatistics
    ) throws(TenderError) -> Int32 {
        let run = machine.run
        let base = UInt32(RIAD_HVT_HYPERCALL_PIO_BASE)
        while true {
            let result = riad_ioctl_val(machine.vcpuFD, RIAD_KVM_RUN, 0)
            statistics.add(.exits)
            let signal = riad_stop_signal_received()
            if signal != 0 {
                // As solo5-hvt: a person or a supervisor stopped the kernel.
                let message = "riad-hvt: exiting on signal \(signal)\n"
                _ = message.withCString { write(2, $0, strlen($0)) }
                return 128 + signal
            }
            if result < 0 {
                statistics.add(.otherExits)
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == EFAULT {
                    throw TenderError(
                        "the kernel touched memory KVM could not map (rip=0x\(hex(machine.instructionPointer())))"
                    )
                }
                throw TenderError("KVM_RUN failed: \(errnoString())")
            }
            switch Int32(run.pointee.exit_reason) {
            case KVM_EXIT_IO:
                let io = run.pointee.io
                let port = UInt32(io.port)
                guard io.direction == UInt8(KVM_EXIT_IO_OUT), io.size == 4, io.count == 1,
                    port > base, port < base + UInt32(RIAD_HVT_HYPERCALL_MAX.rawValue)
                else {
                    throw TenderError(
                        "the kernel accessed I/O port 0x\(hex(port)) (\(io.size) bytes, "
                            + "\(io.direction == UInt8(KVM_EXIT_IO_OUT) ? "out" : "in")), "
                            + "which is not a hypercall (rip=0x\(hex(machine.instructionPointer())))")
                }
                let argument = riad_kvm_io_data(run).loadUnaligned(as: UInt32.self)
                switch try hypercalls.handle(number: Int(port - base), argument: UInt64(argument)) {
                case .resume: continue
                case .halt(let status): return status
                }
            case KVM_EXIT_HLT:
                statistics.add(.otherExits)
                throw TenderError("the kernel executed hlt instead of the HALT hypercall")
            case KVM_EXIT_SHUTDOWN:
                throw TenderError(
                    "the kernel triple-faulted (rip=0x\(hex(machine.instructionPointer())))")
            case KVM_EXIT_MMIO:
                throw TenderError(
                    "the kernel accessed 0x\(hex(run.pointee.mmio.phys_addr)), outside its memory "
                        + "(rip=0x\(hex(machine.instructionPointer())))")
            case KVM_EXIT_FAIL_ENTRY:
                throw TenderError(
                    "KVM could not enter the kernel (hardware reason 0x"
                        + "\(hex(run.pointee.fail_entry.hardware_entry_failure_reason)))")
            case KVM_EXIT_INTERNAL_ERROR:
                throw TenderError(
                    "KVM could not run the kernel (internal error \(run.pointee.internal.suberror), "
                        + "rip=0x\(hex(machine.instructionPointer())), data \(internalData(run)))")
            default:
                throw TenderError(
                    "unexpected KVM exit \(run.pointee.exit_reason) "
                        + "(rip=0x\(hex(machine.instructionPointer())))")
            }
        }
    }
}

/// The words KVM adds to an internal-error exit (exit qualification and the
/// like), for the message.
private func internalData(_ run: UnsafeMutablePointer<kvm_run>) -> String {
    let count = min(Int(run.pointee.internal.ndata), 16)
    return withUnsafeBytes(of: run.pointee.internal.data) { words in
        (0..<count).map { "0x" + hex(words.load(fromByteOffset: $0 * 8, as: UInt64.self)) }
            .joined(separator: " ")
    }
}
