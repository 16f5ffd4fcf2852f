import CRiadTender
import Glibc
import Riad
import RiadABI

/// struct riad_virtio_net_hdr's size.
let VirtioNetHeaderSize = MemoryLayout<riad_virtio_net_hdr>.size

/// A network device: a descriptor on which each read or write is exactly
/// one Ethernet frame. Either a host tap interface, opened without the
/// packet-info header, or the socket to a user network's helper
/// (UserNetwork.swift), which behaves the same but for its end: the helper
/// can exit, and then the device is gone.
struct NetDevice {
    enum Backend: Equatable {
        case tap(interface: String)
        /// The helper process running libslirp.
        case user(helper: pid_t)
    }

    let handle: UInt64
    /// The manifest's name, for messages.
    let name: String
    let fd: Int32
    let mac: [UInt8]
    let mtu: UInt16 = 1500
    let backend: Backend
    /// Bytes of virtio-net header before each frame: 12 on a tap opened
    /// for NET_OFFLOAD, else 0.
    let headerLength: Int
    /// Where the device's frames are captured (`--pcap`), if anywhere.
    var pcap: TenderPcap?

    var isUser: Bool {
        if case .user = backend { return true }
        return false
    }

    /// Starts a user network for the device (`--net:NAME=user`).
    init(handle: UInt64, name: String, userNetworkForwards forwards: [PortForward], mac: [UInt8]?)
        throws(TenderError)
    {
        self.handle = handle
        self.name = name
        let (fd, helper) = try UserNetwork.start(device: name, forwards: forwards)
        self.fd = fd
        headerLength = 0
        backend = .user(helper: helper)
        self.mac = mac ?? Self.randomMAC()
    }

    /// Attaches to the existing tap interface `interface`; with `offload`,
    /// frames carry a virtio-net header and the host may pass and take
    /// 64 KiB TCP segments with checksums left undone (IFF_VNET_HDR,
    /// TUNSETOFFLOAD).
    init(handle: UInt64, name: String, interface: String, mac: [UInt8]?, offload: Bool = false)
        throws(TenderError)
    {
        self.handle = handle
        self.name = name
        backend = .tap(interface: interface)
        guard interface.utf8.count < Int(IFNAMSIZ) else {
            throw TenderError("--net:\(name)=\(interface): interface names are at most 15 bytes")
        }
        // TUNSETIFF would quietly create a new, unconfigured interface; a user
        // who mistyped a name would get a kernel nobody can reach.
        guard if_nametoindex(interface) != 0 else {
            throw TenderError(
                "--net:\(name)=\(interface): no such interface (create it with "
                    + "`ip tuntap add dev \(interface) mode tap && ip link set \(interface) up`)")
        }
        fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw TenderError("--net:\(name)=\(interface): cannot open /dev/net/tun: \(errnoString())")
        }
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { name in
            for (i, byte) in interface.utf8.enumerated() { name[i] = byte }
        }
        request.ifr_ifru.ifru_flags = Int16(IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0))
        guard riad_ioctl_ptr(fd, RIAD_TUNSETIFF, &request) == 0 else {
            let reason = errnoString()
            close(fd)
            throw TenderError(
                "--net:\(name)=\(interface): cannot attach (is it a tap device, free, "
                    + "and are you root?): \(reason)")
        }
        headerLength = offload ? VirtioNetHeaderSize : 0
        // Offloads stay on a tap after its last user: one that had them
        // would hand this one 64 KiB segments and unfinished checksums.
        if !offload { _ = riad_ioctl_val(fd, RIAD_TUNSETOFFLOAD, 0) }
        if offload {
            var size = Int32(VirtioNetHeaderSize)
            let flags = UInt(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)
            guard riad_ioctl_ptr(fd, RIAD_TUNSETVNETHDRSZ, &size) == 0,
                riad_ioctl_val(fd, RIAD_TUNSETOFFLOAD, flags) == 0
            else {
                let reason = errnoString()
                close(fd)
                throw TenderError(
                    "--net:\(name)=\(interface): the tap refuses offloads (\(reason)); "
                        + "run with --net-offload=off")
            }
        }
        self.mac = mac ?? Self.randomMAC()
    }

    /// The shortest frame the guest may send: the header and Ethernet's.
    var smallestFrame: Int { headerLength + 14 }
    /// The longest frame the guest may send, and the least room it must
    /// give a read: one MTU, or with offload a 64 KiB IPv4 datagram.
    var largestFrame: Int { headerLength + 14 + (headerLength > 0 ? 65535 : Int(mtu)) }

    /// Records `frame` (with its virtio-net header, if the device has one)
    /// in the device's capture, as the wire carries it: without the header,
    /// with a checksum left to the host completed.
    func capture(_ frame: UnsafeRawBufferPointer) {
        guard let pcap else { return }
        guard headerLength > 0 else { return pcap.record(frame) }
        VirtioNetHeader.withWireFrame(frame) { pcap.record($0) }
    }

    /// A device on a descriptor the caller opened (the unit tests: one end
    /// of a SOCK_SEQPACKET socket pair, non-blocking like a tap).
    init(handle: UInt64, name: String, fd: Int32, mac: [UInt8]) {
        self.handle = handle
        self.name = name
        self.fd = fd
        self.mac = mac
        backend = .tap(interface: name)
        headerLength = 0
    }

    /// A random locally administered unicast address.
    static func randomMAC() -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: 6)
        _ = mac.withUnsafeMutableBytes { getrandom($0.baseAddress, 6, 0) }
        mac[0] = (mac[0] & 0xfe) | 0x02
        return mac
    }
}

/// A block device: a host file read and written with pread/pwrite.
struct FileBlockDevice {
    let handle: UInt64
    let fd: Int32
    let blockSize: UInt16
    /// Bytes: the file's size rounded down to whole blocks.
    let capacity: UInt64

    init(handle: UInt64, name: String, path: String, blockSize: UInt16) throws(TenderError) {
        self.handle = handle
        self.blockSize = blockSize
        fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            throw TenderError("--block:\(name)=\(path): cannot open: \(errnoString())")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw TenderError("--block:\(name)=\(path): not a regular file")
        }
        capacity = UInt64(info.st_size) / UInt64(blockSize) * UInt64(blockSize)
        guard capacity > 0 else {
            close(fd)
            throw TenderError(
                "--block:\(name)=\(path): the file is smaller than one \(blockSize)-byte block")
        }
    }

    /// Whether `[offset, offset + length)` is whole blocks inside the device.
    func accepts(offset: UInt64, length: UInt64) -> Bool {
        let size = UInt64(blockSize)
        let (end, overflow) = offset.addingReportingOverflow(length)
        return !overflow && length > 0 && offset % size == 0 && length % size == 0
            && end <= capacity
    }
}

/// Waits for device input or a deadline: epoll over the network devices'
/// descriptors (taps, and user networks' sockets, readable when libslirp has
/// frames for the kernel) and a timerfd, which gives the nanosecond
/// timeouts POLL asks for.
struct Poller {
    let epollFD: Int32
    let timerFD: Int32
    static let timerTag: UInt64 = .max

    init(nets: [NetDevice]) throws(TenderError) {
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        timerFD = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_CLOEXEC | TFD_NONBLOCK))
        guard epollFD >= 0, timerFD >= 0 else {
            throw TenderError("cannot create the poller: \(errnoString())")
        }
        try add(fd: timerFD, tag: Self.timerTag)
        for net in nets { try add(fd: net.fd, tag: net.handle) }
    }

    private func add(fd: Int32, tag: UInt64) throws(TenderError) {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = tag
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else {
            throw TenderError("epoll_ctl failed: \(errnoString())")
        }
    }

    /// Waits up to `timeout` nanoseconds; returns the handles with input.
    func wait(timeoutNanoseconds timeout: UInt64) -> UInt64 {
        var events = (epoll_event(), epoll_event(), epoll_event(), epoll_event())
        var waitMilliseconds: Int32 = 0
        if timeout > 0 {
            // Setting the timer also clears an expiry left from an earlier wait.
            var spec = itimerspec()
            spec.it_value.tv_sec = Int(min(timeout / 1_000_000_000, UInt64(Int32.max)))
            spec.it_value.tv_nsec = Int(timeout % 1_000_000_000)
            timerfd_settime(timerFD, 0, &spec, nil)
            waitMilliseconds = -1
        }
        let count = withUnsafeMutableBytes(of: &events) { buffer in
            epoll_wait(
                epollFD, buffer.baseAddress!.assumingMemoryBound(to: epoll_event.self), 4,
                waitMilliseconds)
        }
        guard count > 0 else { return 0 }
        var ready: UInt64 = 0
        withUnsafeBytes(of: &events) { buffer in
            let list = buffer.bindMemory(to: epoll_event.self)
            for event in list.prefix(Int(count)) where event.data.u64 < 64 {
                ready |= 1 << event.data.u64
            }
        }
        return ready
    }
}
