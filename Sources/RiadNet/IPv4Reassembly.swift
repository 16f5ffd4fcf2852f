// IPv4 reassembly: RFC 791 section 3.2 (the reassembly procedure), RFC 815
// (tracking what is missing), RFC 1122 section 3.3.2 (a fixed timeout),
// RFC 4963 (why the limits matter) and RFC 5722's rule for IPv6 overlaps,
// applied to IPv4.
//
// Limits, all in `IPv4Reassembler.Limits`:
// - at most `maximumDatagrams` (4) datagrams in progress;
// - each at most 65,535 bytes with its header: a fragment whose offset plus
//   length passes 65,515 bytes of payload refuses its datagram;
// - `memoryLimit` (128 KiB) for the data buffers together, which grow by
//   powers of two from 2 KiB to 64 KiB as fragments need them; each slot
//   also keeps a 1 KiB bitmap, outside that limit;
// - `timeout` (15 s, RFC 791's suggestion; RFC 1122 suggests 60 to 120 s,
//   but a shorter one frees memory sooner and lowers the risk of RFC 4963's
//   identification wrap-around) from a datagram's first fragment.
//
// When a new datagram needs a slot or memory that is not free, the oldest
// datagram in progress is dropped for it (a refused one first): refusing
// the new one instead would let four stray fragments block reassembly for
// the whole timeout, while dropping the oldest makes a flood outpace the
// real traffic to do harm.
//
// Overlaps: a fragment that covers bytes already received refuses the whole
// datagram, as RFC 5722 requires for IPv6: overlapping fragments are how
// packets are made to read differently to a firewall and to the host. A
// fragment that only repeats bytes already received, with the same content
// (the network duplicated it), is ignored. A refused datagram keeps its
// slot until its timeout (or until the slot is needed), so that its later
// fragments are dropped too instead of starting it again.

/// A datagram put together again: the header of its first fragment, as if
/// it had arrived whole, and its payload, shared with the reassembler's
/// buffer rather than copied.
public struct ReassembledDatagram {
    /// Not a fragment; `payloadLength` is the whole payload's.
    public let header: IPv4Repr
    let storage: [UInt8]

    /// Calls `body` with the payload (`header.payloadLength` bytes).
    public func withPayload<Value, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Value
    ) throws(Failure) -> Value {
        // Array's closure rethrows untyped errors: carry the typed one out.
        let outcome: Result<Value, Failure> = storage.withUnsafeBytes { bytes in
            do throws(Failure) {
                return .success(try body(UnsafeRawBufferPointer(rebasing: bytes[0..<header.payloadLength])))
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }
}

/// Puts IPv4 fragments back together, within limits (see the file's
/// comment). Sans-I/O: it is handed fragments and the time.
///
/// ```swift
/// if ip.isFragment {
///     guard let datagram = reassembler.add(ip, payload: view.payload, now: now) else { return }
///     datagram.withPayload { deliver(datagram.header, $0) }
/// }
/// ```
///
/// Allocation happens only when a datagram needs a bigger buffer than its
/// slot has had so far: buffers are kept and reused once their datagram is
/// done, so steady traffic allocates nothing.
public struct IPv4Reassembler {
    public struct Limits: Sendable {
        /// Datagrams in progress at once.
        public var maximumDatagrams: Int
        /// Bytes of data buffers, all slots together.
        public var memoryLimit: Int
        /// Nanoseconds from a datagram's first fragment to its giving up.
        public var timeout: UInt64

        public init(
            maximumDatagrams: Int = 4, memoryLimit: Int = 128 * 1024, timeout: UInt64 = 15_000_000_000
        ) {
            self.maximumDatagrams = maximumDatagrams
            self.memoryLimit = memoryLimit
            self.timeout = timeout
        }
    }

    public struct Counters: Sendable {
        public var fragmentsReceived: UInt64 = 0
        public var reassembled: UInt64 = 0
        /// Datagrams given up at their timeout, fragments missing.
        public var timedOut: UInt64 = 0
        /// Datagrams dropped to make room for another (slots or memory),
        /// and fragments refused because no room could be made.
        public var droppedForLimits: UInt64 = 0
        /// Datagrams refused for overlapping fragments.
        public var overlaps: UInt64 = 0
        /// Datagrams refused for a fragment past 65,535 bytes, or past the
        /// end its last fragment set, or two last fragments that disagree.
        public var beyondLength: UInt64 = 0
        /// Fragments ignored: repeated bytes, the same content.
        public var duplicates: UInt64 = 0
        /// Fragments dropped: malformed (empty, not a fragment, a length that
        /// is not a multiple of 8 when more follow, a payload whose size is
        /// not the header's) or of a refused datagram.
        public var fragmentsDropped: UInt64 = 0
    }

    public let limits: Limits
    public private(set) var counters = Counters()
    private var slots: [Slot] = []

    /// The largest payload: the whole datagram is at most 65,535 bytes.
    public static let maximumPayloadLength = IPv4Repr.maximumPacketLength - IPv4Repr.headerLength
    static let smallestBuffer = 2048
    static let largestBuffer = 65536

    public init(limits: Limits = Limits()) {
        precondition(limits.maximumDatagrams > 0, "IPv4Reassembler needs a slot")
        self.limits = limits
    }

    /// Datagrams in progress (refused ones waiting for their timeout excluded).
    public var datagramsInProgress: Int { slots.reduce(0) { $0 + ($1.state == .assembling ? 1 : 0) } }
    /// Bytes of data buffers held, in use or kept for reuse.
    public var memoryInUse: Int { slots.reduce(0) { $0 + $1.data.count } }

    /// Adds the fragment `header` with its `payload` (exactly
    /// `header.payloadLength` bytes, copied). Returns the datagram it
    /// completes, if it does; the datagram's buffer is shared with the
    /// reassembler until the datagram is dropped (holding it across later
    /// fragments makes them copy the buffer, not corrupt it).
    public mutating func add(_ header: IPv4Repr, payload: UnsafeRawBufferPointer, now: UInt64)
        -> ReassembledDatagram?
    {
        counters.fragmentsReceived &+= 1
        expire(now: now)
        let start = header.fragmentOffset
        let end = start + payload.count
        guard header.isFragment, !payload.isEmpty, payload.count == header.payloadLength, start % 8 == 0,
            !header.moreFragments || payload.count % 8 == 0
        else {
            counters.fragmentsDropped &+= 1
            return nil
        }
        let key = Key(header)
        let found = slots.firstIndex { $0.state != .free && $0.key == key }
        guard end <= Self.maximumPayloadLength else {
            counters.beyondLength &+= 1
            if let found { refuse(found) }
            return nil
        }
        guard let index = found ?? startDatagram(key, now: now) else { return nil }
        guard slots[index].state == .assembling else {
            counters.fragmentsDropped &+= 1
            return nil
        }
        if header.moreFragments {
            if let total = slots[index].totalLength, end > total { return refuseBeyond(index) }
        } else {
            if let total = slots[index].totalLength, total != end { return refuseBeyond(index) }
            if slots[index].highest > end { return refuseBeyond(index) }
            slots[index].totalLength = end
        }
        let units = (start / 8)..<((end + 7) / 8)
        let alreadyReceived = slots[index].bitmap.count(units)
        if alreadyReceived == units.count && slots[index].holds(payload, at: start) {
            counters.duplicates &+= 1
            return nil
        }
        if alreadyReceived > 0 {
            counters.overlaps &+= 1
            refuse(index)
            return nil
        }
        guard reserve(end, for: index) else {
            free(index)
            return nil
        }
        slots[index].data.withUnsafeMutableBytes {
            UnsafeMutableRawBufferPointer(rebasing: $0[start..<end]).copyMemory(from: payload)
        }
        slots[index].bitmap.set(units)
        slots[index].received += payload.count
        slots[index].highest = max(slots[index].highest, end)
        if start == 0 { slots[index].first = header }
        guard let total = slots[index].totalLength, slots[index].received == total else { return nil }
        var whole = slots[index].first
        whole.payloadLength = total
        whole.moreFragments = false
        whole.fragmentOffset = 0
        slots[index].state = .free
        counters.reassembled &+= 1
        return ReassembledDatagram(header: whole, storage: slots[index].data)
    }

    /// Gives up the datagrams whose timeout has passed at `now` (monotonic
    /// nanoseconds); their slots and buffers become free for others. `add`
    /// does this too.
    public mutating func expire(now: UInt64) {
        for index in slots.indices where slots[index].state != .free && slots[index].deadline <= now {
            if slots[index].state == .assembling { counters.timedOut &+= 1 }
            slots[index].state = .free
        }
    }

    /// A slot for a new datagram: a free one, a new one, or the oldest's.
    private mutating func startDatagram(_ key: Key, now: UInt64) -> Int? {
        let index: Int
        if let free = slots.firstIndex(where: { $0.state == .free }) {
            index = free
        } else if slots.count < limits.maximumDatagrams {
            slots.append(Slot())
            index = slots.count - 1
        } else {
            guard let oldest = oldest(except: nil) else { return nil }
            free(oldest)
            index = oldest
        }
        let deadline = now > UInt64.max - limits.timeout ? UInt64.max : now + limits.timeout
        slots[index].start(key, deadline: deadline)
        return index
    }

    /// The datagram to drop for room: a refused one if any, else the one
    /// closest to its timeout (the oldest).
    private func oldest(except excluded: Int?) -> Int? {
        var chosen: Int?
        for index in slots.indices where index != excluded && slots[index].state != .free {
            guard let current = chosen else {
                chosen = index
                continue
            }
            let (slot, best) = (slots[index], slots[current])
            if (slot.state == .refused) != (best.state == .refused) {
                if slot.state == .refused { chosen = index }
            } else if slot.deadline < best.deadline {
                chosen = index
            }
        }
        return chosen
    }

    /// Makes `index`'s buffer hold `end` bytes, within the memory limit:
    /// idle buffers are released first, then other datagrams dropped.
    private mutating func reserve(_ end: Int, for index: Int) -> Bool {
        let current = slots[index].data.count
        guard end > current else { return true }
        var capacity = Self.smallestBuffer
        while capacity < end { capacity *= 2 }
        capacity = min(capacity, Self.largestBuffer)
        guard capacity <= limits.memoryLimit else { return false }
        while memoryInUse - current + capacity > limits.memoryLimit {
            if let idle = slots.indices.first(where: { slots[$0].state == .free && !slots[$0].data.isEmpty })
            {
                slots[idle].data = []
            } else if let victim = oldest(except: index) {
                free(victim)
                slots[victim].data = []
            } else {
                return false
            }
        }
        var grown = [UInt8](repeating: 0, count: capacity)
        let kept = min(slots[index].highest, current)
        grown.withUnsafeMutableBytes { target in
            slots[index].data.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: target[0..<kept]).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: source[0..<kept]))
            }
        }
        slots[index].data = grown
        return true
    }

    private mutating func refuseBeyond(_ index: Int) -> ReassembledDatagram? {
        counters.beyondLength &+= 1
        refuse(index)
        return nil
    }

    /// Refuses the datagram: its later fragments are dropped until its timeout.
    private mutating func refuse(_ index: Int) {
        slots[index].state = .refused
    }

    /// Frees a slot, counting a datagram in progress as dropped for room.
    private mutating func free(_ index: Int) {
        if slots[index].state == .assembling { counters.droppedForLimits &+= 1 }
        slots[index].state = .free
    }
}

/// Which datagram a fragment belongs to (RFC 791 section 3.2).
private struct Key: Equatable {
    var source: IPv4Address
    var destination: IPv4Address
    var `protocol`: IPProtocol
    var identification: UInt16

    init(_ header: IPv4Repr) {
        source = header.source
        destination = header.destination
        self.protocol = header.protocol
        identification = header.identification
    }
}

/// One datagram being put together, or a free slot with a buffer to reuse.
private struct Slot {
    enum State { case free, assembling, refused }

    var state = State.free
    var key = Key(
        IPv4Repr(source: .unspecified, destination: .unspecified, protocol: .icmp, payloadLength: 0))
    var deadline: UInt64 = 0
    /// The first fragment's header (offset 0) once it has arrived; until
    /// then, the first to arrive.
    var first = IPv4Repr(source: .unspecified, destination: .unspecified, protocol: .icmp, payloadLength: 0)
    /// The payload's length, known from the last fragment (MF clear).
    var totalLength: Int?
    /// The end of the furthest byte received.
    var highest = 0
    /// Bytes received, each counted once: the datagram is complete when
    /// this reaches `totalLength`.
    var received = 0
    var data: [UInt8] = []
    /// Which 8-byte units of the payload have arrived (RFC 815 keeps a list
    /// of holes; a bitmap bounds its size and finds overlaps as easily).
    var bitmap = Bitmap()

    mutating func start(_ key: Key, deadline: UInt64) {
        bitmap.clear(0..<((highest + 7) / 8))
        self.key = key
        self.deadline = deadline
        state = .assembling
        first = IPv4Repr(
            source: key.source, destination: key.destination, protocol: key.protocol, payloadLength: 0)
        totalLength = nil
        highest = 0
        received = 0
    }

    /// Whether the buffer holds `payload` at `offset` already.
    func holds(_ payload: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard offset + payload.count <= data.count else { return false }
        return data.withUnsafeBytes { stored in
            for index in payload.indices where stored[offset + index] != payload[index] { return false }
            return true
        }
    }
}

/// A bit per 8-byte unit of a 65,536-byte payload: 1 KiB.
private struct Bitmap {
    private var words = [UInt64](repeating: 0, count: 65536 / 8 / 64)

    /// How many units in `units` are set.
    func count(_ units: Range<Int>) -> Int {
        var total = 0
        Self.forEachWord(units) { word, mask in total += (words[word] & mask).nonzeroBitCount }
        return total
    }

    mutating func set(_ units: Range<Int>) {
        Self.forEachWord(units) { word, mask in words[word] |= mask }
    }

    mutating func clear(_ units: Range<Int>) {
        Self.forEachWord(units) { word, mask in words[word] &= ~mask }
    }

    /// Calls `body` with each word `units` touches and the mask of its bits in them.
    private static func forEachWord(_ units: Range<Int>, _ body: (Int, UInt64) -> Void) {
        var unit = units.lowerBound
        while unit < units.upperBound {
            let bit = unit % 64
            let count = min(64 - bit, units.upperBound - unit)
            let mask = count == 64 ? UInt64.max : ((1 << UInt64(count)) - 1) << UInt64(bit)
            body(unit / 64, mask)
            unit += count
        }
    }
}
