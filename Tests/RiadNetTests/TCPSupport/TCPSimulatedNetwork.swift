import RiadNet

/// What the simulated link does to segments, the same in both directions.
struct TCPLinkConditions {
    /// Chance that a segment is lost (data and ACKs alike).
    var loss = 0.0
    /// Chance that a segment arrives twice.
    var duplication = 0.0
    /// Chance that a segment is held back 1 to 10 ms, so that later ones
    /// overtake it.
    var reordering = 0.0
    /// One-way delay.
    var latency: UInt64 = 10_000_000
    /// Bytes per second each way: segments queue behind each other.
    var bandwidth: UInt64 = 12_500_000
}

/// Two `TCPLayer`s, a client (10.0.0.2) and a server (10.0.0.1), joined by
/// a seeded lossy link, on a virtual clock that jumps from one event (a
/// segment's arrival or a layer's deadline) to the next. The same seed
/// replays the same run exactly.
struct TCPSimulatedNetwork {
    static let clientAddress = IPv4Address(10, 0, 0, 2)
    static let serverAddress = IPv4Address(10, 0, 0, 1)

    private struct Packet {
        var time: UInt64
        var order: UInt64
        var toServer: Bool
        var bytes: [UInt8]
        var source: IPv4Address
        var destination: IPv4Address
        /// A segment the device was to cut (segmentation offload), passed
        /// whole with its checksum vouched for, as Linux takes one from a
        /// tap; its checksum field holds only the pseudo-header's sum.
        var offloaded = false
    }

    var client: TCPLayer
    var server: TCPLayer
    var now: UInt64 = 1_000_000_000
    let conditions: TCPLinkConditions
    private var random: SeededRandomBuffers
    private var queue = PacketHeap()
    private var order: UInt64 = 0
    /// When each direction's link is free again (serialisation).
    private var linkFree: [UInt64] = [0, 0]

    /// Segments put on the link, lost, duplicated, held back; per direction
    /// (0: client to server, 1: server to client).
    private(set) var sent = [0, 0]
    private(set) var lost = [0, 0]
    private(set) var duplicated = 0
    private(set) var reordered = 0
    /// Events the clock jumped to.
    private(set) var steps = 0
    /// Segments sent for the device to cut, and those of them whose
    /// payload was not whole segments or whose checksum field was not the
    /// pseudo-header's sum.
    private(set) var offloaded = 0
    private(set) var badOffloaded = 0

    init(configuration: TCPConfiguration, conditions: TCPLinkConditions, seed: UInt64) {
        client = TCPLayer(configuration: configuration, seed: seed &+ 1)
        server = TCPLayer(configuration: configuration, seed: seed &+ 2)
        self.conditions = conditions
        random = SeededRandomBuffers(seed: seed)
    }

    /// Moves the clock to the next event and delivers every segment due by
    /// then. Returns false when nothing at all is pending.
    mutating func advance() -> Bool {
        var next = queue.first?.time
        for deadline in [client.nextDeadline(), server.nextDeadline()] {
            if let deadline { next = min(next ?? deadline, deadline) }
        }
        guard let next else { return false }
        if next > now { now = next }
        steps += 1
        while let packet = queue.first, packet.time <= now {
            queue.removeFirst()
            let time = now
            packet.bytes.withUnsafeBytes { bytes in
                if packet.toServer {
                    server.receive(
                        segment: bytes, source: packet.source, destination: packet.destination, now: time,
                        checksumVerified: packet.offloaded)
                } else {
                    client.receive(
                        segment: bytes, source: packet.source, destination: packet.destination, now: time,
                        checksumVerified: packet.offloaded)
                }
            }
        }
        return true
    }

    /// Polls both layers, putting what they send on the link.
    mutating func poll() {
        var outgoing: [(Bool, [UInt8], IPv4Address, IPv4Address, Int)] = []
        let time = now
        client.poll(now: time) { source, destination, length, segmentSize, fill in
            var bytes = [UInt8](repeating: 0, count: length)
            bytes.withUnsafeMutableBytes { fill($0) }
            outgoing.append((true, bytes, source, destination, segmentSize))
            return true
        }
        server.poll(now: time) { source, destination, length, segmentSize, fill in
            var bytes = [UInt8](repeating: 0, count: length)
            bytes.withUnsafeMutableBytes { fill($0) }
            outgoing.append((false, bytes, source, destination, segmentSize))
            return true
        }
        for (toServer, bytes, source, destination, segmentSize) in outgoing {
            if segmentSize > 0 { check(offloaded: bytes, segmentSize, source, destination) }
            transmit(
                bytes, toServer: toServer, source: source, destination: destination,
                offloaded: segmentSize > 0)
        }
    }

    /// What a device that cuts segments relies on: whole segments of
    /// payload, and the pseudo-header's sum in the checksum field.
    private mutating func check(
        offloaded bytes: [UInt8], _ segmentSize: Int, _ source: IPv4Address, _ destination: IPv4Address
    ) {
        offloaded += 1
        let header = Int(bytes[12] >> 4) * 4
        let expected = pseudoHeaderChecksum(
            source: source, destination: destination, protocol: .tcp, length: UInt16(bytes.count)
        ).folded
        let field = UInt16(bytes[16]) << 8 | UInt16(bytes[17])
        if (bytes.count - header) % segmentSize != 0 || bytes.count - header <= segmentSize
            || field != expected
        {
            badOffloaded += 1
        }
    }

    private mutating func chance(_ probability: Double) -> Bool {
        probability > 0 && Double(random.next() % 1_000_000) < probability * 1_000_000
    }

    private mutating func transmit(
        _ bytes: [UInt8], toServer: Bool, source: IPv4Address, destination: IPv4Address, offloaded: Bool
    ) {
        let direction = toServer ? 0 : 1
        sent[direction] += 1
        // IPv4 and Ethernet framing add about 38 + 20 bytes on the wire.
        let wireLength = UInt64(bytes.count + 58)
        let departure = max(now, linkFree[direction])
        linkFree[direction] = departure + wireLength * 1_000_000_000 / conditions.bandwidth
        if chance(conditions.loss) {
            lost[direction] += 1
            return
        }
        var arrival = linkFree[direction] + conditions.latency
        if chance(conditions.reordering) {
            reordered += 1
            arrival += 1_000_000 + UInt64(random.next(upTo: 9_000_000))
        }
        enqueue(
            Packet(
                time: arrival, order: 0, toServer: toServer, bytes: bytes, source: source,
                destination: destination, offloaded: offloaded))
        if chance(conditions.duplication) {
            duplicated += 1
            enqueue(
                Packet(
                    time: arrival + UInt64(random.next(upTo: 2_000_000)), order: 0, toServer: toServer,
                    bytes: bytes,
                    source: source, destination: destination, offloaded: offloaded))
        }
    }

    private mutating func enqueue(_ packet: Packet) {
        var packet = packet
        order += 1
        packet.order = order
        queue.insert(packet)
    }

    /// A binary min-heap of packets by arrival time, then by order sent.
    private struct PacketHeap {
        private var items: [Packet] = []

        var first: Packet? { items.first }

        private func before(_ a: Int, _ b: Int) -> Bool {
            (items[a].time, items[a].order) < (items[b].time, items[b].order)
        }

        mutating func insert(_ packet: Packet) {
            items.append(packet)
            var child = items.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard before(child, parent) else { break }
                items.swapAt(child, parent)
                child = parent
            }
        }

        mutating func removeFirst() {
            items.swapAt(0, items.count - 1)
            items.removeLast()
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count && before(left, smallest) { smallest = left }
                if right < items.count && before(right, smallest) { smallest = right }
                guard smallest != parent else { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
    }
}
