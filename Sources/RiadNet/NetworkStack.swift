import Riad
import _Concurrency

// The socket API an application uses, whatever carries it: RiadNet's own
// TCP/IP over a network device (the direct stack, every target) or the
// host's sockets (the socket stack, unix only). Applications and libraries
// (RiadHTTP, RiadMetrics) are generic over `NetworkStack`, so each kernel
// has exactly one stack's code specialised in.
//
// Every call is made from the kernel's one thread. Calls that wait suspend
// only the calling task; all of them end with `.cancelled` when the task is
// cancelled.

/// An IPv4 address and a port.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    public var address: IPv4Address
    public var port: UInt16

    public init(_ address: IPv4Address, _ port: UInt16) {
        self.address = address
        self.port = port
    }

    /// "10.0.0.2:80"
    public var description: String { address.description + ":" + String(port) }
}

/// One TCP connection, as an ordered, reliable byte stream each way.
public protocol TCPStream: AnyObject {
    /// This end's address and port.
    var local: SocketAddress { get }
    /// The peer's address and port.
    var remote: SocketAddress { get }

    /// Waits until data has arrived, copies up to `buffer.count` bytes of it
    /// into `buffer` and returns how many. Returns 0 once the peer has
    /// closed its side and everything it sent has been read (end of stream).
    ///
    /// - Parameter deadline: Monotonic nanoseconds (the platform's clock)
    ///   after which to give up with `.timedOut`; `.max` never does.
    /// - Throws: `.reset` (the peer reset the connection), `.timedOut` (the
    ///   deadline passed, or the peer stopped answering), `.closed` (this
    ///   side called `close`), `.cancelled`.
    func read(into buffer: UnsafeMutableRawBufferPointer, until deadline: UInt64) async throws(RiadError)
        -> Int

    /// Queues all of `bytes` for sending, waiting while the send buffer is
    /// full (backpressure); returns once the last byte is queued, not when
    /// the peer has it.
    ///
    /// - Parameter deadline: As for `read`: a peer that stops reading
    ///   cannot hold the writer forever.
    /// - Throws: `.reset`, `.timedOut`, `.closed` (this side shut down or
    ///   closed), `.cancelled`. Some bytes may have been queued.
    func write(_ bytes: UnsafeRawBufferPointer, until deadline: UInt64) async throws(RiadError)

    /// Closes this side for writing: the peer reads end of stream after
    /// the bytes already queued. Reading goes on.
    func shutdown() throws(RiadError)

    /// Closes the connection both ways and releases it: queued bytes are
    /// still sent (a FIN follows them) unless received data was left unread,
    /// in which case the peer gets a reset (RFC 9293 section 3.6, RFC 2525
    /// 2.17). Calling it again does nothing.
    func close()

    /// Sends small writes at once instead of holding them while data is
    /// unacknowledged (turns Nagle's algorithm off, RFC 9293 section
    /// 3.8.6.2.1; TCP_NODELAY): for request-response protocols whose
    /// messages are small. The default does nothing.
    func setNoDelay(_ on: Bool)
}

extension TCPStream {
    public func setNoDelay(_ on: Bool) {}
}

/// A bound TCP port waiting for connections.
public protocol TCPListener: AnyObject {
    associatedtype Stream: TCPStream
    var local: SocketAddress { get }
    /// Waits for the next established connection (the backlog holds
    /// connections that completed the handshake before `accept`).
    func accept() async throws(RiadError) -> Stream
    /// Stops listening; connections not yet accepted are reset.
    func close()
}

/// A bound UDP port.
public protocol UDPSocket: AnyObject {
    var local: SocketAddress { get }
    /// Sends one datagram (at most 65,507 bytes; fragmented if larger than
    /// the link's MTU). Never waits: a datagram that cannot be sent now is
    /// dropped and `.wouldBlock` thrown.
    func send(_ bytes: UnsafeRawBufferPointer, to destination: SocketAddress) throws(RiadError)
    /// Waits for a datagram; copies up to `buffer.count` bytes of it (the
    /// rest is lost) and returns the length copied and its sender.
    func receive(into buffer: UnsafeMutableRawBufferPointer) async throws(RiadError) -> (
        length: Int, from: SocketAddress
    )
    func close()
}

/// TCP, UDP and name resolution for an application.
public protocol NetworkStack: AnyObject {
    associatedtype Stream: TCPStream
    associatedtype Listener: TCPListener where Listener.Stream == Stream
    associatedtype Datagrams: UDPSocket

    /// The runtime arguments the stack reads (the direct stack's
    /// `--ipv4`, `--ipv4-gateway`, `--dns`), as handles to their values.
    associatedtype Options

    /// The interface's address and prefix, once configured (statically or
    /// by DHCP); nil before.
    var ipv4: IPv4CIDR? { get }

    /// Traffic figures for monitoring (zeros for a stack that keeps none).
    var statistics: NetworkStatistics { get }

    /// Declares the stack's runtime arguments beside the application's, so
    /// that one `--help` lists them all.
    func declareArguments(_ arguments: inout RuntimeArguments) -> Options

    /// Takes the stack's settings from the parsed arguments, before `run`.
    ///
    /// - Throws: `.invalidArgument` with a message naming the argument.
    func configure(_ options: Options, from values: RuntimeArguments.Values) throws(RiadError)

    /// Runs `body` (the application) with the network up, and takes the
    /// network down when it returns. Every socket call is made inside it.
    func run<Result>(_ body: @escaping () async -> Result) async -> Result

    /// Listens on TCP `port` of every local address, keeping at most
    /// `backlog` established connections waiting for `accept`.
    ///
    /// - Throws: `.addressInUse`, `.invalidArgument` (port 0).
    func listen(port: UInt16, backlog: Int) throws(RiadError) -> Listener

    /// Opens a connection to `remote` and waits until it is established.
    ///
    /// - Throws: `.refused` (reset in answer), `.timedOut`, `.unreachable`
    ///   (no route, or the next hop does not answer ARP), `.exhausted` (no
    ///   free local port), `.cancelled`.
    func connect(to remote: SocketAddress) async throws(RiadError) -> Stream

    /// Binds UDP `port` (0: an ephemeral port).
    func bindUDP(port: UInt16) throws(RiadError) -> Datagrams

    /// The first IPv4 address of `name` (an A record), or the address
    /// itself if `name` is one in dotted-quad form.
    ///
    /// - Throws: `.notFound` (no such name or no A record), `.timedOut`,
    ///   `.unsupported` (no resolver configured).
    func resolve(_ name: String) async throws(RiadError) -> IPv4Address
}

extension TCPStream {
    /// Reads with no deadline.
    public func read(into buffer: UnsafeMutableRawBufferPointer) async throws(RiadError) -> Int {
        try await read(into: buffer, until: .max)
    }

    /// Writes with no deadline.
    public func write(_ bytes: UnsafeRawBufferPointer) async throws(RiadError) {
        try await write(bytes, until: .max)
    }

    /// Writes every byte of `bytes` (a copy is made: an array's storage
    /// cannot be lent across a suspension).
    public func write(_ bytes: [UInt8]) async throws(RiadError) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { copy.deallocate() }
        copy.copyBytes(from: bytes)
        try await write(UnsafeRawBufferPointer(copy))
    }

    /// Writes `text` as UTF-8.
    public func write(_ text: String) async throws(RiadError) {
        try await write(Array(text.utf8))
    }
}
