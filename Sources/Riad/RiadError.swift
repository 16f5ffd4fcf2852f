/// The error every kernel-side API throws: `throws(RiadError)`.
///
/// One concrete type keeps typed throws composable across layers (a TCP
/// error and a block-device error travel up the same `throws(RiadError)`)
/// and costs no allocation: the kind is a byte, the message is usually a
/// string literal.
///
/// ```swift
/// guard offset % blockSize == 0 else {
///     throw RiadError(.invalidArgument, "offset is not a multiple of the block size")
/// }
/// ```
///
/// Callers decide by `kind`; the message is for people (logs, the console)
/// and is not part of any contract.
public struct RiadError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in terms a caller can act on.
    public enum Kind: UInt8, Sendable, Hashable, CustomStringConvertible {
        /// The caller passed a value the call does not accept (a length out
        /// of range, a misaligned offset, a malformed specification). Retrying
        /// the same call fails the same way.
        case invalidArgument
        /// The named thing (key, device, route, host) does not exist.
        case notFound
        /// The thing to create already exists.
        case alreadyExists
        /// The call would have to wait (a full queue, no input yet); nothing
        /// was done. Retry after the device is ready.
        case wouldBlock
        /// A deadline passed before the operation completed.
        case timedOut
        /// The operation was cancelled (its task was cancelled, or a race it
        /// was part of was won by another operation).
        case cancelled
        /// The connection, socket or device was closed; it will not work again.
        case closed
        /// A resource ran out: memory, buffer space, ports, table entries.
        case exhausted
        /// The device or the host behind it failed (an I/O error).
        case deviceError
        /// The peer broke the protocol (a malformed or unexpected message).
        case protocolError
        /// The peer refused: TCP RST in answer to SYN, ICMP port unreachable.
        case refused
        /// The peer reset an established connection.
        case reset
        /// No route to the destination, or the host does not answer ARP.
        case unreachable
        /// The address or port is already bound.
        case addressInUse
        /// The call is not allowed (a write to a read-only device).
        case permissionDenied
        /// The call is not implemented by this device, target or build.
        case unsupported

        /// The kind in words: "invalid argument", "timed out".
        public var description: String {
            switch self {
            case .invalidArgument: return "invalid argument"
            case .notFound: return "not found"
            case .alreadyExists: return "already exists"
            case .wouldBlock: return "would block"
            case .timedOut: return "timed out"
            case .cancelled: return "cancelled"
            case .closed: return "closed"
            case .exhausted: return "exhausted"
            case .deviceError: return "device error"
            case .protocolError: return "protocol error"
            case .refused: return "refused"
            case .reset: return "reset"
            case .unreachable: return "unreachable"
            case .addressInUse: return "address in use"
            case .permissionDenied: return "permission denied"
            case .unsupported: return "unsupported"
            }
        }
    }

    /// What went wrong.
    public var kind: Kind
    /// Details for people; may be empty. A string literal costs nothing.
    public var message: String

    /// An error of `kind` with `message` (for example what was expected).
    public init(_ kind: Kind, _ message: String = "") {
        self.kind = kind
        self.message = message
    }

    /// "kind: message", or the kind alone when there is no message.
    public var description: String {
        message.utf8.isEmpty ? kind.description : kind.description + ": " + message
    }
}
