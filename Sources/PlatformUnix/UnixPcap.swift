import CPlatformUnix
import Riad

/// A pcap file a network device writes every frame it sends and receives
/// to (`--pcap:NAME=FILE`), for Wireshark or tcpdump to read.
///
/// Plain write(2) calls, two per frame, on the kernel's one thread: a
/// debugging aid, not a fast path. Timestamps are the wall clock's, as in
/// any capture. A write that fails (a full disk) loses that frame's record;
/// the device goes on.
struct UnixPcapFile {
    let fd: Int32
    static let format = PcapFormat(precision: .nanoseconds)

    /// Creates (or truncates) `path` and writes the file header.
    static func create(_ path: String, device name: String) throws(UnixStartError) -> UnixPcapFile {
        let given = "--pcap:\(name)=\(path)"
        // creat(2): open(2) with O_CREAT | O_WRONLY | O_TRUNC, and not
        // variadic, so Swift can call it.
        let fd = path.withCString { creat($0, 0o644) }
        guard fd >= 0 else { throw UnixStartError("\(given): cannot create: \(errorText())") }
        var header: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let written = withUnsafeMutableBytes(of: &header) { bytes in
            format.writeFileHeader(into: bytes)
            return riad_unix_write_all(fd, bytes.baseAddress, PcapFormat.fileHeaderLength)
        }
        guard written == 0 else {
            let reason = errorText()
            close(fd)
            throw UnixStartError("\(given): cannot write: \(reason)")
        }
        return UnixPcapFile(fd: fd)
    }

    /// Appends one frame, stamped with the wall clock now.
    func record(_ frame: UnsafeRawBufferPointer) {
        var header: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &header) { bytes in
            let captured = UnixPcapFile.format.writeRecordHeader(
                into: bytes, nanosecondsSinceEpoch: riad_unix_wall_ns(), frameLength: frame.count)
            guard riad_unix_write_all(fd, bytes.baseAddress, PcapFormat.recordHeaderLength) == 0 else {
                return
            }
            _ = riad_unix_write_all(fd, frame.baseAddress, captured)
        }
    }
}
