import CRiadSlirp
import Glibc
import RiadTender

/// riad-slirp: the user-mode network of one riad-hvt network device
/// (`--net:NAME=user`), run with libslirp (UserNetwork.swift in RiadTender
/// says why in a process of its own). riad-hvt starts it as
///
///     riad-slirp --fd=N --name=NAME [tcp|udp:ADDRESS:HOSTPORT:GUESTPORT ...]
///
/// with N its end of a SOCK_SEQPACKET socket pair. It reports `ready`, or
/// `failed` and why, as its first message there, then passes frames until
/// riad-hvt's end closes.

/// What riad-hvt passed.
struct Invocation {
    var fd: Int32 = -1
    var name = ""
    var forwards: [PortForward] = []

    static func parse(_ arguments: [String]) throws(TenderError) -> Invocation {
        var invocation = Invocation()
        for argument in arguments {
            if argument.hasPrefix("--fd="), let fd = Int32(argument.dropFirst("--fd=".count)), fd > 2 {
                invocation.fd = fd
            } else if argument.hasPrefix("--name=") {
                invocation.name = String(argument.dropFirst("--name=".count))
            } else {
                invocation.forwards.append(try PortForward.parse(argument))
            }
        }
        guard invocation.fd > 2, !invocation.name.isEmpty, fcntl(invocation.fd, F_GETFD) >= 0 else {
            throw TenderError(
                "riad-hvt starts \(UserNetwork.helperName) for --net:NAME=user; it is not run by hand")
        }
        return invocation
    }
}

/// Sends the start-up report: `ready`, or `failed` and the sentence.
func report(_ fd: Int32, _ failure: String?) {
    var message = [failure == nil ? UserNetwork.ready : UserNetwork.failed]
    if let failure { message += Array(failure.utf8.prefix(1000)) }
    _ = message.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
}

let invocation: Invocation
do {
    invocation = try Invocation.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    let line = "\(UserNetwork.helperName): error: \(error.message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

var loadError = [CChar](repeating: 0, count: 512)
guard riad_slirp_load(&loadError, loadError.count) == 0 else {
    let reason = loadError.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    report(invocation.fd, String(decoding: reason, as: UTF8.self))
    exit(1)
}
let network = SlirpNetwork(fd: invocation.fd, name: invocation.name)
do {
    try network.start(forwards: invocation.forwards)
} catch {
    report(invocation.fd, error.message)
    exit(1)
}
report(invocation.fd, nil)
exit(network.run())
