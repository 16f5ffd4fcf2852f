import Riad
import RiadNet

/// The socket stack's runtime argument: which host address to use.
public struct SocketStackOptions {
    let bindAddress: RuntimeArguments.Handle<String>
}

extension SocketStack {
    public func declareArguments(_ arguments: inout RuntimeArguments) -> SocketStackOptions {
        SocketStackOptions(
            bindAddress: arguments.string(
                "bind-address", default: bindAddress.description,
                help: "the host address to listen on and connect from (0.0.0.0: every address)"))
    }

    public func configure(_ options: SocketStackOptions, from values: RuntimeArguments.Values)
        throws(RiadError)
    {
        let text = values[options.bindAddress]
        guard let address = IPv4Address(text), address.isUnicast else {
            throw RiadError(
                .invalidArgument, "--bind-address=\(text): expected a host address like 127.0.0.1")
        }
        bindAddress = address
    }
}
