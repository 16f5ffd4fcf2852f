import CPlatformUnix
import Riad

/// How the host's socket errors (errno values) read as `RiadError` kinds,
/// the same kinds the direct stack throws for the same events.
extension RiadError {
    /// The error for errno value `code`, raised while `doing` something
    /// ("connecting"); the message adds the host's own words.
    init(socketError code: Int32, _ doing: String) {
        self.init(Self.kind(ofSocketError: code), doing + ": " + Self.hostText(code))
    }

    static func kind(ofSocketError code: Int32) -> Kind {
        switch code {
        case EAGAIN, ENOBUFS: return .wouldBlock
        case ECONNREFUSED: return .refused
        // EPIPE: sending on a connection the peer has reset (send(2) is
        // called with MSG_NOSIGNAL, so this is an error, not SIGPIPE).
        // ENOTCONN: a stream whose connection a reset has already ended.
        case ECONNRESET, EPIPE, ECONNABORTED, ENOTCONN: return .reset
        case ETIMEDOUT: return .timedOut
        case ENETUNREACH, EHOSTUNREACH, ENETDOWN, EHOSTDOWN: return .unreachable
        case EADDRINUSE: return .addressInUse
        case EACCES, EPERM: return .permissionDenied
        case EMFILE, ENFILE, ENOMEM: return .exhausted
        case EMSGSIZE, EINVAL, EADDRNOTAVAIL, EAFNOSUPPORT: return .invalidArgument
        case EBADF: return .closed
        default: return .deviceError
        }
    }

    /// strerror's text for `code`.
    static func hostText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error " + String(code) }
        return String(cString: text)
    }
}
