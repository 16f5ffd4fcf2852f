import CPlatformHvt
import Riad
import RiadABI

/// Finds the manifest entry named `name` of type `type`: its handle is its
/// index. The tender guarantees every declared device is attached.
func manifestEntry(named name: String, type: UInt32) -> (handle: UInt64, entry: riad_mft_entry)? {
    guard let manifest = riad_hvt_manifest() else { return nil }
    var index: UInt32 = 1
    while index < manifest.pointee.entries {
        if let entry = riad_hvt_manifest_entry(index), entry.pointee.type == type,
            entry.pointee.attached, nameMatches(entry, name)
        {
            return (UInt64(index), entry.pointee)
        }
        index += 1
    }
    return nil
}

private func nameMatches(_ entry: UnsafePointer<riad_mft_entry>, _ name: String) -> Bool {
    withUnsafeBytes(of: entry.pointee.name) { stored in
        var length = 0
        while length < stored.count && stored[length] != 0 { length += 1 }
        return name.utf8.elementsEqual(stored.prefix(length))
    }
}

/// A network device of an hvt kernel: frames through the tender's net ring,
/// or the NET_READ and NET_WRITE hypercalls where the tender offers no ring
/// (HvtNetwork+Device.swift).
public struct HvtNetwork {
    public let handle: DeviceHandle
    public let mac: [UInt8]
    public let mtu: Int

    /// The device `name` from the manifest, or nil if it is not declared.
    public init?(name: String) {
        guard let (handle, entry) = manifestEntry(named: name, type: RIAD_MFT_DEV_NET_BASIC.rawValue)
        else { return nil }
        self.handle = DeviceHandle(rawValue: handle)
        let mac = entry.u.net_basic.mac
        self.mac = [mac.0, mac.1, mac.2, mac.3, mac.4, mac.5]
        self.mtu = Int(entry.u.net_basic.mtu)
    }
}

/// A block device of an hvt kernel: whole blocks at block-aligned offsets,
/// through the BLOCK_READ and BLOCK_WRITE hypercalls.
public struct HvtBlock {
    public let handle: UInt64
    /// Bytes.
    public let capacity: UInt64
    public let blockSize: Int

    public init?(name: String) {
        guard
            let (handle, entry) = manifestEntry(
                named: name, type: RIAD_MFT_DEV_BLOCK_BASIC.rawValue)
        else { return nil }
        self.handle = handle
        self.capacity = entry.u.block_basic.capacity
        self.blockSize = Int(entry.u.block_basic.block_size)
    }

    /// The result of a transfer, as the tender reports it.
    public enum Result: Int32 {
        case ok = 0
        case again = 1
        case invalid = 2
        case failed = 3
    }

    /// Reads `buffer.count` bytes (whole blocks) at byte `offset`.
    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Result {
        var call = riad_hvt_hc_block_read(
            handle: handle, offset: offset, data: UInt64(UInt(bitPattern: buffer.baseAddress)),
            len: UInt64(buffer.count), ret: 0)
        riad_hvt_hypercall(Int32(RIAD_HVT_HYPERCALL_BLOCK_READ.rawValue), &call)
        return Result(rawValue: call.ret) ?? .failed
    }

    /// Writes `buffer.count` bytes (whole blocks) at byte `offset`.
    public func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) -> Result {
        var call = riad_hvt_hc_block_write(
            handle: handle, offset: offset, data: UInt64(UInt(bitPattern: buffer.baseAddress)),
            len: UInt64(buffer.count), ret: 0)
        riad_hvt_hypercall(Int32(RIAD_HVT_HYPERCALL_BLOCK_WRITE.rawValue), &call)
        return Result(rawValue: call.ret) ?? .failed
    }
}
