import Riad

/// The direct stack's runtime arguments (MirageOS's names): a static
/// address, else DHCP.
public struct DirectStackOptions {
    let ipv4: RuntimeArguments.Handle<String>
    let gateway: RuntimeArguments.Handle<String>
    let dns: RuntimeArguments.Handle<String>
}

extension DirectStack {
    public func declareArguments(_ arguments: inout RuntimeArguments) -> DirectStackOptions {
        DirectStackOptions(
            ipv4: arguments.string(
                "ipv4", default: "",
                help: "the interface's address and prefix, e.g. 10.0.0.2/24 (default: DHCP)"),
            gateway: arguments.string(
                "ipv4-gateway", default: "", help: "the default gateway, e.g. 10.0.0.1"),
            dns: arguments.string("dns", default: "", help: "DNS servers, comma-separated (default: DHCP's)"))
    }

    public func configure(_ options: DirectStackOptions, from values: RuntimeArguments.Values)
        throws(RiadError)
    {
        let ipv4 = values[options.ipv4]
        if !ipv4.utf8.isEmpty {
            guard let address = IPv4CIDR(ipv4), address.address.isUnicast, !address.address.isUnspecified
            else {
                throw RiadError(
                    .invalidArgument, "--ipv4=\(ipv4): expected an address and prefix like 10.0.0.2/24")
            }
            configuration.ipv4 = address
            interface.address = address
        }
        let gateway = values[options.gateway]
        if !gateway.utf8.isEmpty {
            guard let address = IPv4Address(gateway) else {
                throw RiadError(
                    .invalidArgument, "--ipv4-gateway=\(gateway): expected an address like 10.0.0.1")
            }
            configuration.gateway = address
            interface.gateway = address
        }
        let dns = values[options.dns]
        if !dns.utf8.isEmpty {
            var servers: [IPv4Address] = []
            for part in dns.utf8.split(separator: UInt8(ascii: ",")) {
                guard let address = IPv4Address(utf8: part) else {
                    throw RiadError(
                        .invalidArgument, "--dns=\(dns): expected addresses like 10.0.0.1,10.0.0.53")
                }
                servers.append(address)
            }
            configuration.dnsServers = servers
        }
    }
}
