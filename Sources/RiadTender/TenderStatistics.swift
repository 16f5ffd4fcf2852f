import CRiadTender
import Glibc
import RiadABI

/// What a run cost: the vCPU's exits by kind, and the frames and bytes the
/// network devices moved by each path. `--stats` prints it at exit; a
/// kernel that asks (TENDER_STATS) reads it live from its low memory,
/// where each new value is also stored (struct riad_hvt_tender_stats, in
/// the order of `Counter` and then one per hypercall number). The tender
/// only ever writes that copy: a kernel that rewrites it (it controls its
/// own page tables) changes what it reads, never what the tender counts.
///
/// Each counter has one writer (the run loop, or the net ring's I/O
/// thread) and is read by the other only for the report, so a volatile
/// load and store is enough: no atomic read-modify-write on the data path.
final class TenderStatistics: @unchecked Sendable {
    enum Counter: Int, CaseIterable {
        /// Returns from KVM_RUN: each one an exit the run loop handled.
        case exits
        /// Exits that were no hypercall (a signal, an interrupted run).
        case otherExits
        case hypercallFramesSent, hypercallBytesSent
        case hypercallFramesReceived, hypercallBytesReceived
        case ringFramesSent, ringBytesSent
        case ringFramesReceived, ringBytesReceived
        /// Ring reads answered "nothing waiting".
        case ringEmptyReads
        /// Times the I/O thread slept and a kick woke it.
        case ringWakeUps
    }

    /// The counters, then one per hypercall number.
    private let values: UnsafeMutablePointer<UInt64>
    private static let hypercallBase = Counter.allCases.count
    private static let count = hypercallBase + Int(RIAD_HVT_HYPERCALL_MAX.rawValue)

    /// The kernel's copy, in guest memory, if it asked for one.
    private let mirror: UnsafeMutablePointer<UInt64>?

    /// Counters, and with `mirror` (the struct riad_hvt_tender_stats in
    /// guest memory, zeroed here) the kernel's copy of them.
    init(mirror storage: UnsafeMutableRawPointer? = nil) {
        precondition(MemoryLayout<riad_hvt_tender_stats>.size == Self.count * 8)
        values = .allocate(capacity: Self.count)
        values.initialize(repeating: 0, count: Self.count)
        mirror = storage?.bindMemory(to: UInt64.self, capacity: Self.count)
        mirror?.initialize(repeating: 0, count: Self.count)
    }

    deinit { values.deallocate() }

    func add(_ counter: Counter, _ amount: UInt64 = 1) {
        add(at: counter.rawValue, amount)
    }

    func value(_ counter: Counter) -> UInt64 { riad_load_u64(values + counter.rawValue) }

    /// Counts hypercall `number` (1 up to RIAD_HVT_HYPERCALL_MAX - 1).
    func addHypercall(_ number: Int) {
        guard number > 0, number < Int(RIAD_HVT_HYPERCALL_MAX.rawValue) else { return }
        add(at: Self.hypercallBase + number, 1)
    }

    func hypercalls(_ number: Int) -> UInt64 { riad_load_u64(values + Self.hypercallBase + number) }

    private func add(at index: Int, _ amount: UInt64) {
        let value = riad_load_u64(values + index) &+ amount
        riad_store_u64(values + index, value)
        if let mirror { riad_store_u64(mirror + index, value) }
    }

    static let hypercallNames = [
        "", "WALLTIME", "PUTS", "POLL", "BLOCK_WRITE", "BLOCK_READ", "NET_WRITE", "NET_READ", "HALT",
    ]

    /// The report, a few lines for a person.
    var report: String {
        var calls: [String] = []
        for number in 1..<Self.hypercallNames.count where hypercalls(number) > 0 {
            calls.append("\(hypercalls(number)) \(Self.hypercallNames[number])")
        }
        if value(.otherExits) > 0 { calls.append("\(value(.otherExits)) other") }
        let exits = value(.exits)
        return """
            riad-hvt: stats: \(exits) exits: \(calls.isEmpty ? "none" : calls.joined(separator: ", "))
            riad-hvt: stats: sent \(frames(.ringFramesSent, .ringBytesSent)) by ring, \
            \(frames(.hypercallFramesSent, .hypercallBytesSent)) by hypercall
            riad-hvt: stats: received \(frames(.ringFramesReceived, .ringBytesReceived)) by ring \
            (\(value(.ringEmptyReads)) reads found none), \
            \(frames(.hypercallFramesReceived, .hypercallBytesReceived)) by hypercall
            riad-hvt: stats: the ring's I/O thread was woken by a kick \(value(.ringWakeUps)) times

            """
    }

    private func frames(_ frames: Counter, _ bytes: Counter) -> String {
        "\(value(frames)) frames (\(value(bytes)) bytes)"
    }
}
