import Glibc
import Riad

/// A pcap file the tender writes a network device's frames to
/// (`--pcap:NAME=FILE`): every frame the guest sends (NET_WRITE) and
/// receives (NET_READ, or through the net ring), as the tap device saw it.
///
/// The file is created before the seccomp filter goes on; afterwards only
/// write(2) and clock_gettime(2) are used, which the filter allows. The
/// guest decides nothing but the frames' contents: their lengths were
/// checked by the hypercall before they get here. A write that fails (a
/// full disk) loses that record; the guest goes on.
struct TenderPcap {
    let fd: Int32
    static let format = PcapFormat(precision: .nanoseconds)

    /// Creates (or truncates) `path` and writes the file header.
    init(path: String, device name: String) throws(TenderError) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw TenderError("--pcap:\(name)=\(path): cannot create: \(errnoString())")
        }
        var header = [UInt8](repeating: 0, count: PcapFormat.fileHeaderLength)
        header.withUnsafeMutableBytes { TenderPcap.format.writeFileHeader(into: $0) }
        let written = header.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == header.count else {
            let reason = errnoString()
            close(fd)
            throw TenderError("--pcap:\(name)=\(path): cannot write: \(reason)")
        }
    }

    /// Appends one frame, stamped with the wall clock now.
    func record(_ frame: UnsafeRawBufferPointer) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nanoseconds = UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
        var header: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &header) { bytes in
            let captured = TenderPcap.format.writeRecordHeader(
                into: bytes, nanosecondsSinceEpoch: nanoseconds, frameLength: frame.count)
            // One writev per record: the run loop and the net ring's I/O
            // thread may both record, and a single write to a file is
            // never interleaved with another.
            var parts = (
                iovec(iov_base: bytes.baseAddress, iov_len: PcapFormat.recordHeaderLength),
                iovec(iov_base: UnsafeMutableRawPointer(mutating: frame.baseAddress), iov_len: captured)
            )
            _ = withUnsafeMutableBytes(of: &parts) {
                writev(fd, $0.baseAddress!.assumingMemoryBound(to: iovec.self), 2)
            }
        }
    }
}
