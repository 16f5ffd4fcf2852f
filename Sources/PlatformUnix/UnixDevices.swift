import CPlatformUnix
import Riad

/// A device as the generated main declares it, from the unikernel's manifest.
/// The order matters: a device's handle is its index in the list plus one,
/// as on hvt, where entry 0 of the manifest is reserved.
public struct UnixDeviceDeclaration {
    public enum Kind {
        case net
        case block
    }

    public let name: String
    public let kind: Kind

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }

    /// A network device named `name`.
    public static func net(_ name: String) -> Self { Self(name: name, kind: .net) }
    /// A block device named `name`.
    public static func block(_ name: String) -> Self { Self(name: name, kind: .block) }
}

/// A device the process attached at start: its host descriptor and the
/// parameters the kernel reads.
struct AttachedDevice {
    let name: [UInt8]
    let kind: UnixDeviceDeclaration.Kind
    let handle: UInt64
    let fd: Int32
    var mac: [UInt8] = []
    var mtu = 0
    /// Where a network device's frames are captured (`--pcap`), if anywhere.
    var pcap: UnixPcapFile?
    /// A tap opened for offloads: frames carry a virtio-net header.
    var offload = false
    var capacity: UInt64 = 0
    var blockSize = 0
}

/// The devices of the process, filled once by `UnixPlatform.init` before the
/// application runs. A global, because devices are found by name
/// (`UnixNetwork(name:)`) as on hvt, where the manifest is global too. Only
/// the kernel's one thread touches it.
enum AttachedDevices {
    nonisolated(unsafe) static var all: [AttachedDevice] = []

    static func find(_ name: String, _ kind: UnixDeviceDeclaration.Kind) -> AttachedDevice? {
        for device in all where device.kind == kind && name.utf8.elementsEqual(device.name) {
            return device
        }
        return nil
    }
}

/// A network device of a unix kernel: a host tap interface, one Ethernet
/// frame per read or write, nonblocking.
public struct UnixNetwork {
    public let handle: DeviceHandle
    public let mac: [UInt8]
    public let mtu: Int
    let fd: Int32
    let pcap: UnixPcapFile?
    /// 64 KiB TCP segments and the host's checksums (a tap opened with
    /// IFF_VNET_HDR): each frame on the descriptor has a virtio-net header.
    public let offloads: NetworkOffloads

    /// The device `name` from the manifest, or nil if it is not declared.
    public init?(name: String) {
        guard let device = AttachedDevices.find(name, .net) else { return nil }
        handle = DeviceHandle(rawValue: device.handle)
        mac = device.mac
        mtu = device.mtu
        fd = device.fd
        pcap = device.pcap
        offloads = device.offload ? .tcpSegmentation : []
    }

    /// Sends one frame, after its virtio-net header when the device has
    /// offloads (FrameCopyingDevice writes it). Returns false if the host
    /// refused it.
    public func sendToHost(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard let base = frame.baseAddress, frame.count <= hostPrefix + largestFrameLength else {
            return false
        }
        guard riad_unix_write_frame(fd, base, frame.count) == 0 else { return false }
        capture(frame)
        return true
    }

    /// Receives one frame into `buffer` (at least mtu + 14 bytes, and the
    /// header and 64 KiB more with offloads). Returns its length, or nil
    /// when no frame is waiting.
    public func receiveFromHost(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        guard let base = buffer.baseAddress else { return nil }
        let count = riad_unix_read_frame(fd, base, buffer.count)
        guard count > hostPrefix else { return nil }
        capture(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        return count
    }

    /// Records `frame` (after its virtio-net header, with offloads) as the
    /// wire carries it: a checksum left to the host completed.
    private func capture(_ frame: UnsafeRawBufferPointer) {
        guard let pcap else { return }
        guard hostPrefix > 0 else { return pcap.record(frame) }
        VirtioNetHeader.withWireFrame(frame) { pcap.record($0) }
    }
}

/// A block device of a unix kernel: a host file, whole blocks at
/// block-aligned offsets, with pread and pwrite.
public struct UnixBlock {
    public let handle: UInt64
    /// Bytes: the file's size rounded down to whole blocks.
    public let capacity: UInt64
    public let blockSize: Int
    let fd: Int32

    /// The device `name` from the manifest, or nil if it is not declared.
    public init?(name: String) {
        guard let device = AttachedDevices.find(name, .block) else { return nil }
        handle = device.handle
        capacity = device.capacity
        blockSize = device.blockSize
        fd = device.fd
    }

    /// The result of a transfer; the same cases and values as `HvtBlock.Result`.
    public enum Result: Int32 {
        case ok = 0
        case again = 1
        case invalid = 2
        case failed = 3
    }

    /// Reads `buffer.count` bytes (whole blocks) at byte `offset`.
    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Result {
        guard accepts(offset: offset, length: buffer.count), let base = buffer.baseAddress else {
            return .invalid
        }
        return riad_unix_pread_all(fd, base, buffer.count, offset) == 0 ? .ok : .failed
    }

    /// Writes `buffer.count` bytes (whole blocks) at byte `offset`.
    public func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) -> Result {
        guard accepts(offset: offset, length: buffer.count), let base = buffer.baseAddress else {
            return .invalid
        }
        return riad_unix_pwrite_all(fd, base, buffer.count, offset) == 0 ? .ok : .failed
    }

    /// Whether `[offset, offset + length)` is whole blocks inside the device:
    /// the checks riad-hvt makes, so that a kernel sees the same refusals on
    /// both targets.
    func accepts(offset: UInt64, length: Int) -> Bool {
        let size = UInt64(blockSize)
        let (end, overflow) = offset.addingReportingOverflow(UInt64(length))
        return !overflow && length > 0 && offset % size == 0 && UInt64(length) % size == 0
            && end <= capacity
    }
}

// MARK: - Attaching

extension AttachedDevice {
    /// The MTU of every tap device, as riad-hvt gives it.
    static let tapMTU = 1500

    /// Opens the host resources for `declared`, in order, from `options`
    /// (already checked to give every declared device and nothing else).
    static func attach(_ declared: [UnixDeviceDeclaration], from options: UnixDeviceOptions)
        throws(UnixStartError) -> [AttachedDevice]
    {
        var devices: [AttachedDevice] = []
        for (index, device) in declared.enumerated() {
            let handle = UInt64(index + 1)
            switch device.kind {
            case .net:
                let interface = options.nets.first { same($0.name, device.name) }!.interface
                let mac = options.macs.last { same($0.name, device.name) }?.mac
                var attached = try tap(
                    device.name, interface: interface, mac: mac, handle: handle, offload: options.netOffload)
                if let path = options.pcaps.first(where: { same($0.name, device.name) })?.path {
                    attached.pcap = try UnixPcapFile.create(path, device: device.name)
                }
                devices.append(attached)
            case .block:
                let path = options.blocks.first { same($0.name, device.name) }!.path
                let size = options.sectorSizes.last { same($0.name, device.name) }?.size ?? 512
                devices.append(try file(device.name, path: path, blockSize: size, handle: handle))
            }
        }
        return devices
    }

    /// Attaches to the existing tap interface `interface`.
    static func tap(_ name: String, interface: String, mac: [UInt8]?, handle: UInt64, offload: Bool)
        throws(UnixStartError) -> AttachedDevice
    {
        let given = "--net:\(name)=\(interface)"
        guard interface.utf8.count <= RIAD_UNIX_IFNAME_MAX else {
            throw UnixStartError("\(given): interface names are at most \(RIAD_UNIX_IFNAME_MAX) bytes")
        }
        // TUNSETIFF would quietly create a new, unconfigured interface; a user
        // who mistyped a name would get a kernel nobody can reach.
        guard interface.withCString({ riad_unix_interface_exists($0) }) != 0 else {
            throw UnixStartError(
                "\(given): no such interface (create it with "
                    + "`ip tuntap add dev \(interface) mode tap && ip link set \(interface) up`)")
        }
        let fd = riad_unix_open_rw("/dev/net/tun", 1)
        guard fd >= 0 else { throw UnixStartError("\(given): cannot open /dev/net/tun: \(errorText())") }
        guard interface.withCString({ riad_unix_tap_attach(fd, $0, offload ? 1 : 0) }) == 0 else {
            let reason = errorText()
            close(fd)
            throw UnixStartError(
                "\(given): cannot attach (is it a tap device, free, and are you root?): \(reason)")
        }
        if offload && riad_unix_tap_offload(fd, Int32(VirtioNetHeader.length)) != 0 {
            let reason = errorText()
            close(fd)
            throw UnixStartError("\(given): the tap refuses offloads (\(reason)); run with --net-offload=off")
        }
        var device = AttachedDevice(name: Array(name.utf8), kind: .net, handle: handle, fd: fd)
        device.offload = offload
        if let mac { device.mac = mac } else { device.mac = try randomMAC() }
        device.mtu = tapMTU
        return device
    }

    /// A random locally administered unicast address.
    static func randomMAC() throws(UnixStartError) -> [UInt8] {
        var mac: [UInt8] = [0, 0, 0, 0, 0, 0]
        guard mac.withUnsafeMutableBytes({ riad_unix_random($0.baseAddress, 6) }) == 0 else {
            throw UnixStartError("cannot make a random MAC address: \(errorText())")
        }
        mac[0] = (mac[0] & 0xfe) | 0x02
        return mac
    }

    /// Opens the regular file `path` as a block device of `blockSize` blocks.
    static func file(_ name: String, path: String, blockSize: Int, handle: UInt64)
        throws(UnixStartError) -> AttachedDevice
    {
        let given = "--block:\(name)=\(path)"
        let fd = path.withCString { riad_unix_open_rw($0, 0) }
        guard fd >= 0 else { throw UnixStartError("\(given): cannot open: \(errorText())") }
        let size = riad_unix_regular_file_size(fd)
        guard size >= 0 else {
            close(fd)
            throw UnixStartError("\(given): not a regular file")
        }
        let capacity = UInt64(size) / UInt64(blockSize) * UInt64(blockSize)
        guard capacity > 0 else {
            close(fd)
            throw UnixStartError("\(given): the file is smaller than one \(blockSize)-byte block")
        }
        var device = AttachedDevice(name: Array(name.utf8), kind: .block, handle: handle, fd: fd)
        device.capacity = capacity
        device.blockSize = blockSize
        return device
    }
}

/// The text of the current `errno`.
func errorText() -> String {
    guard let text = riad_unix_error_text() else { return "unknown error" }
    return String(cString: text)
}
