import Riad
import _Concurrency

/// How a direct stack gets its address.
public struct DirectStackConfiguration: Sendable {
    /// A static address and prefix; nil: ask DHCP (RFC 2131).
    public var ipv4: IPv4CIDR?
    /// The default gateway with a static address (DHCP's router otherwise).
    public var gateway: IPv4Address?
    /// DNS servers with a static address (DHCP's otherwise).
    public var dnsServers: [IPv4Address] = []
    public var tcp = TCPConfiguration()

    public init(ipv4: IPv4CIDR? = nil, gateway: IPv4Address? = nil, dnsServers: [IPv4Address] = []) {
        self.ipv4 = ipv4
        self.gateway = gateway
        self.dnsServers = dnsServers
    }
}

/// RiadNet's own TCP/IP over one network device: the `direct` stack.
///
/// The protocol engines are sans-I/O values (`EthernetInterface`,
/// `TCPLayer`); this class drives them on the kernel's event loop. One task
/// runs the network (`run`): it takes every frame the device has, lets the
/// engines answer, and waits for the next frame or the engines' next
/// timer. Application tasks call the socket API, which moves bytes in and
/// out of the engines' buffers and sends what became due at once; a task
/// that must wait (no data, a full send buffer, no connection yet) is
/// suspended until a turn of the network task finds its condition true.
///
/// ```swift
/// let stack = DirectStack(device: net, platform: platform, configuration: .init(ipv4: address))
/// await stack.run {
///     let listener = try stack.listen(port: 7, backlog: 16)
///     ...
/// }
/// ```
public final class DirectStack<Device: NetworkDevice, P: Platform>: NetworkStack {
    public typealias Stream = DirectTCPStream<Device, P>
    public typealias Listener = DirectTCPListener<Device, P>
    public typealias Datagrams = DirectUDPSocket<Device, P>

    let device: Device
    let platform: P
    public internal(set) var interface: EthernetInterface
    public internal(set) var tcp: TCPLayer
    var configuration: DirectStackConfiguration
    var waiters = StackWaiters()
    /// The deadline the network task is waiting until, if it is waiting.
    var networkWait: UInt64?
    var stopped = false
    /// Frames the device would not take in this turn: the engines are
    /// told "not now", and the network task waits a little before retrying
    /// so that it does not spin.
    var transmitBlocked = false
    var services: DirectStackServices
    /// The name DHCP sends as the host's (option 12).
    public var hostname: String? = nil

    /// The most frames taken from the device in one turn, so that
    /// application tasks run between bursts.
    public static var receiveBatch: Int { 64 }
    /// How long to wait before retrying when the device or ARP blocked
    /// sending (input wakes the task sooner).
    public static var retryDelay: UInt64 { 10_000_000 }

    public init(device: Device, platform: P, configuration: DirectStackConfiguration = .init()) {
        self.device = device
        self.platform = platform
        self.configuration = configuration
        let seed = platform.next(as: UInt64.self)
        var interface = EthernetInterface(
            mac: device.macAddress, address: configuration.ipv4 ?? .unconfigured,
            gateway: configuration.gateway, seed: seed)
        interface.mtu = device.mtu
        // A device that cuts TCP segments gets them whole, up to 64 KiB.
        let segmentation = device.offloads.contains(.tcpSegmentation)
        interface.segmentationOffload = segmentation
        self.interface = interface
        var tcpConfiguration = configuration.tcp
        tcpConfiguration.mss = min(tcpConfiguration.mss, device.mtu - 40)
        if segmentation && tcpConfiguration.segmentationOffload == 0 {
            tcpConfiguration.segmentationOffload = 65535 - 20 - 60
        }
        Self.fit(&tcpConfiguration, heap: platform.runtimeStatistics?.heapCapacity ?? 0)
        self.tcp = TCPLayer(configuration: tcpConfiguration, seed: platform.next(as: UInt64.self))
        services = DirectStackServices(
            resolver: DNSResolver(seed: platform.next(as: UInt64.self), servers: configuration.dnsServers))
    }

    /// Sizes TCP to the kernel's memory, so that a flood of connections is
    /// refused rather than running the heap out (which would stop the
    /// kernel), and a large kernel keeps a fast path full: in a heap under
    /// 64 MiB each buffer is at most 64 KiB (many small connections); in a
    /// larger one buffers grow to 1/256 of the heap, up to 1 MiB (a window
    /// of 1 MiB keeps 10 Gbit/s going over an 800 µs round trip). Then
    /// connections are limited so that their buffers, with 32 KiB for
    /// what the application keeps per connection, fit in half the heap.
    static func fit(_ configuration: inout TCPConfiguration, heap: UInt64) {
        guard heap > 0 else { return }
        if heap < 64 << 20 {
            configuration.sendBufferSize = min(configuration.sendBufferSize, 64 << 10)
            configuration.receiveBufferSize = min(configuration.receiveBufferSize, 64 << 10)
        } else {
            let grown = min(1 << 20, Int(heap / 256)) & ~0xffff
            configuration.sendBufferSize = max(configuration.sendBufferSize, grown)
            configuration.receiveBufferSize = max(configuration.receiveBufferSize, grown)
        }
        let perConnection = configuration.sendBufferSize + configuration.receiveBufferSize + (32 << 10)
        let fitting = Int(heap / 2) / perConnection
        configuration.maximumConnections = max(4, min(configuration.maximumConnections, fitting))
    }

    /// The interface's address, once configured.
    public var ipv4: IPv4CIDR? { interface.isConfigured ? interface.address : nil }

    // MARK: The network task

    /// Runs `body` (the application) in the calling task with the network
    /// task beside it, and stops the network when `body` returns. (The
    /// network task is unstructured so that `Result` need not be
    /// `Sendable`; it is awaited before returning.)
    public func run<Result>(_ body: @escaping () async -> Result) async -> Result {
        let network = Task { await self.run() }
        let result = await body()
        stop()
        await network.value
        return result
    }

    /// The network task: until `stop` is called or the task is cancelled.
    public func run() async {
        stopped = false
        startServices(now: platform.monotonicNanoseconds())
        interface.announce(transmit: { self.transmitFrame($0, $1) })
        while !stopped {
            service()
            let deadline = nextDeadline(now: platform.monotonicNanoseconds())
            networkWait = deadline
            do throws(RiadError) {
                try await platform.waitForInput(handle: device.handle.rawValue, until: deadline)
            } catch {
                break
            }
            networkWait = nil
        }
        networkWait = nil
    }

    /// Ends `run` at its next turn.
    public func stop() {
        stopped = true
        platform.notify(handle: device.handle.rawValue)
    }

    /// One turn: frames in, engines polled, frames out, waiters woken.
    func service() {
        transmitBlocked = false
        let now = platform.monotonicNanoseconds()
        var budget = Self.receiveBatch
        while budget > 0 {
            budget -= 1
            let received: Bool?
            do throws(RiadError) {
                received = try device.receive { frame, metadata in
                    let verified = metadata.checksumValid
                    interface.receive(
                        frame, now: now, transmit: { self.transmitFrame($0, $1) }, checksumVerified: verified
                    ) { segment, ip in
                        tcp.receive(
                            segment: segment, source: ip.source, destination: ip.destination, now: now,
                            checksumVerified: verified)
                    }
                    return true
                }
            } catch {
                received = nil
            }
            if received == nil { break }
        }
        interface.poll(now: now, transmit: { self.transmitFrame($0, $1) })
        pollServices(now: now)
        pollTCP(now: now)
        wakeWaiters(now: now)
    }

    /// Sends what TCP has due, each segment written by TCP straight into
    /// the device's buffer after the headers.
    func pollTCP(now: UInt64) {
        tcp.poll(now: now) { source, destination, length, segmentSize, fill in
            let frame: IPv4Frame
            switch interface.prepareIPv4(
                to: destination, protocol: .tcp, payloadLength: length, now: now,
                transmit: { self.transmitFrame($0, $1) })
            {
            case .success(let prepared): frame = prepared
            case .failure:
                transmitBlocked = true
                return false
            }
            var sent = true
            // A segment the device cuts: it completes the TCP checksum too.
            var metadata = FrameMetadata.none
            if segmentSize > 0 {
                metadata.segmentSize = UInt16(segmentSize)
                metadata.partialChecksum = (
                    UInt16(EthernetRepr.headerLength + IPv4Repr.headerLength),
                    UInt16(TCPSegment.Field.checksum)
                )
            }
            do throws(RiadError) {
                try device.transmit(length: frame.length, metadata: metadata) { buffer in
                    frame.write(into: buffer, payload: fill)
                    return frame.length
                }
            } catch {
                sent = false
                transmitBlocked = true
            }
            return interface.recordSent(frame, sent: sent) == .sent
        }
    }

    /// After an application call changed the engines: sends what is due,
    /// wakes the tasks it unblocked, and tells the network task if it now
    /// has to wake earlier than it planned.
    func flush() {
        let now = platform.monotonicNanoseconds()
        pollTCP(now: now)
        wakeWaiters(now: now)
        if let planned = networkWait, nextDeadline(now: now) < planned {
            platform.notify(handle: device.handle.rawValue)
        }
    }

    /// When the network task must run again without input.
    func nextDeadline(now: UInt64) -> UInt64 {
        var deadline = UInt64.max
        if let next = tcp.nextDeadline() { deadline = min(deadline, next) }
        if let next = interface.nextDeadline { deadline = min(deadline, next) }
        if let next = waiters.nextDeadline { deadline = min(deadline, next) }
        if let next = servicesDeadline { deadline = min(deadline, next) }
        if transmitBlocked { deadline = max(deadline, now &+ Self.retryDelay) }
        return deadline
    }

    /// The device's transmit, as the engines want it.
    func transmitFrame(_ length: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) -> Bool {
        do throws(RiadError) {
            try device.transmit(length: length) { buffer in
                fill(buffer)
                return length
            }
            return true
        } catch {
            return false
        }
    }

    // MARK: Waiting

    /// Whether `condition` holds now.
    func holds(_ condition: StackWaiters.Condition) -> Bool {
        switch condition {
        case .readable(let id): return tcp.status(id).readable
        case .writable(let id): return tcp.status(id).writable
        case .connected(let id):
            let status = tcp.status(id)
            return status.established || status.error != nil || tcp.state(id) == nil
        case .acceptable(let listener): return tcp.hasPendingConnection(listener)
        case .datagram(let port): return interface.udp.hasDatagram(on: port)
        case .configured: return interface.isConfigured
        case .resolved(let query): return services.resolver.result(for: query) != .pending
        }
    }

    /// Suspends the calling task until `condition` holds or `deadline`
    /// passes; the caller then looks again (a wake-up is a hint).
    ///
    /// - Throws: `.timedOut` once `deadline` has passed; `.cancelled`.
    func wait(for condition: StackWaiters.Condition, until deadline: UInt64) async throws(RiadError) {
        if holds(condition) { return }
        guard platform.monotonicNanoseconds() < deadline else { throw RiadError(.timedOut) }
        let id = waiters.reserveID()
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                if Task.isCancelled {
                    continuation.resume()
                } else {
                    waiters.add(id: id, condition, until: deadline, continuation)
                    if let planned = networkWait, deadline < planned {
                        platform.notify(handle: device.handle.rawValue)
                    }
                }
            }
        } onCancel: {
            // One thread: this runs between jobs, never during a turn.
            self.waiters.remove(id)?.resume()
        }
        if Task.isCancelled { throw RiadError(.cancelled) }
        if !holds(condition) && platform.monotonicNanoseconds() >= deadline { throw RiadError(.timedOut) }
    }

    func wakeWaiters(now: UInt64) {
        waiters.wake(now: now) { holds($0) }
    }

    // MARK: NetworkStack

    public func listen(port: UInt16, backlog: Int) throws(RiadError) -> Listener {
        let id = try tcp.listen(port: port, backlog: backlog)
        return DirectTCPListener(stack: self, id: id, port: port)
    }

    public func connect(to remote: SocketAddress) async throws(RiadError) -> Stream {
        try await wait(for: .configured, until: platform.monotonicNanoseconds() &+ 30_000_000_000)
        guard interface.nextHop(for: remote.address) != nil else {
            throw RiadError(.unreachable, "no route to the address")
        }
        let id = try tcp.connect(
            from: interface.address.address, to: remote, now: platform.monotonicNanoseconds())
        flush()
        while true {
            let status = tcp.status(id)
            if let error = status.error {
                tcp.abort(id)
                throw RiadError(error, "connecting")
            }
            if status.established { return DirectTCPStream(stack: self, id: id) }
            do throws(RiadError) {
                try await wait(for: .connected(id), until: .max)
            } catch {
                tcp.abort(id)
                flush()
                throw error
            }
        }
    }

    public func bindUDP(port: UInt16) throws(RiadError) -> Datagrams {
        let bound = try interface.udp.bind(port)
        return DirectUDPSocket(stack: self, port: bound)
    }

}

/// Touched from the kernel's one thread only.
extension DirectStack: @unchecked Sendable {}

extension DirectStack {
    public var statistics: NetworkStatistics {
        var figures = NetworkStatistics()
        let counters = interface.counters
        figures.framesReceived = counters.framesReceived
        figures.framesSent = counters.framesSent
        figures.bytesReceived = counters.bytesReceived
        figures.bytesSent = counters.bytesSent
        figures.drops =
            counters.framesIgnored &+ counters.transmitFailures &+ counters.datagramsUnreachable
            &+ interface.udp.dropped
        figures.errors = counters.framesMalformed
        figures.tcpConnections = TCPState.all.map { ($0, tcp.connectionCount(in: $0)) }
        figures.tcp = tcp.counters
        return figures
    }
}
