// A DHCPv4 message as a value: RFC 2131 (the protocol; section 4.3.1 and
// 4.4.1 say which fields and options each message carries) and RFC 2132
// (the options this client needs). Options are code, length, data, except
// Pad (0) and End (255), which are one octet (RFC 2132 section 2).
//
// Not implemented: option overload (RFC 2132 section 9.3; such messages are
// refused as unsupported), long options split over several instances (RFC
// 3396; the last instance wins), relaying (hops is ignored and written as 0).

import Riad

/// The meaning of a DHCP message: the BOOTP fields and the options a
/// client uses.
///
/// ```swift
/// let discover = DHCPRepr.discover(transactionID: xid, clientHardwareAddress: mac)
/// let length = discover.emit(into: buffer)
/// ...
/// let offer = try DHCPRepr.parse(udpPayload)
/// if offer.messageType == .offer { ... offer.yourAddress, offer.serverIdentifier ... }
/// ```
public struct DHCPRepr: Sendable, Hashable, CustomStringConvertible {
    public var messageType: DHCPMessageType
    /// xid: chosen by the client, echoed by the server.
    public var transactionID: UInt32
    /// secs: seconds since the client began acquiring or renewing.
    public var secondsElapsed: UInt16 = 0
    /// The BROADCAST flag: the client cannot receive unicast before it has
    /// an address (RFC 2131 section 4.1).
    public var broadcast = false
    public var clientHardwareAddress: MACAddress
    /// ciaddr: the client's address, in BOUND, RENEW and REBIND states.
    public var clientAddress = IPv4Address.unspecified
    /// yiaddr: the address the server offers or assigns.
    public var yourAddress = IPv4Address.unspecified
    /// siaddr: the next server of the boot process.
    public var serverAddress = IPv4Address.unspecified
    /// giaddr: the relay agent's address.
    public var relayAgentAddress = IPv4Address.unspecified

    /// Option 54 (RFC 2132 section 9.7).
    public var serverIdentifier: IPv4Address?
    /// Option 50 (RFC 2132 section 9.1).
    public var requestedAddress: IPv4Address?
    /// Option 1 (RFC 2132 section 3.3).
    public var subnetMask: IPv4Address?
    /// The first address of option 3 (RFC 2132 section 3.5), the preferred router.
    public var router: IPv4Address?
    /// The first three addresses of option 6 (RFC 2132 section 3.8).
    public var dnsServers = DHCPAddressList()
    /// Option 51, seconds (RFC 2132 section 9.2); 0xffffffff is infinite.
    public var leaseTime: UInt32?
    /// Option 58, T1, seconds (RFC 2132 section 9.11).
    public var renewalTime: UInt32?
    /// Option 59, T2, seconds (RFC 2132 section 9.12).
    public var rebindingTime: UInt32?
    /// Option 61 (RFC 2132 section 9.14): a type octet and an identifier.
    public var clientIdentifier: DHCPOptionBytes?
    /// Option 55 (RFC 2132 section 9.8): the option codes the client wants.
    public var parameterRequestList: DHCPOptionBytes?

    public init(
        messageType: DHCPMessageType, transactionID: UInt32, clientHardwareAddress: MACAddress
    ) {
        self.messageType = messageType
        self.transactionID = transactionID
        self.clientHardwareAddress = clientHardwareAddress
    }

    enum Code {
        static let pad: UInt8 = 0
        static let subnetMask: UInt8 = 1
        static let router: UInt8 = 3
        static let dnsServers: UInt8 = 6
        static let requestedAddress: UInt8 = 50
        static let leaseTime: UInt8 = 51
        static let overload: UInt8 = 52
        static let messageType: UInt8 = 53
        static let serverIdentifier: UInt8 = 54
        static let parameterRequestList: UInt8 = 55
        static let renewalTime: UInt8 = 58
        static let rebindingTime: UInt8 = 59
        static let clientIdentifier: UInt8 = 61
        static let end: UInt8 = 255
    }

    /// A client identifier of hardware type 1 and `address` (RFC 2132 section 9.14).
    public static func ethernetClientIdentifier(_ address: MACAddress) -> DHCPOptionBytes {
        var identifier = DHCPOptionBytes()
        identifier.append(1)
        for index in 0..<6 { identifier.append(address[index]) }
        return identifier
    }

    /// What this client asks for: subnet mask, router, DNS servers.
    public static let defaultParameterRequestList =
        DHCPOptionBytes([Code.subnetMask, Code.router, Code.dnsServers]) ?? DHCPOptionBytes()

    /// A DHCPDISCOVER as a client in INIT sends it (RFC 2131 section 4.4.1,
    /// table 5): ciaddr 0, its client identifier, the parameters it wants.
    public static func discover(
        transactionID: UInt32, clientHardwareAddress: MACAddress, secondsElapsed: UInt16 = 0,
        requestedAddress: IPv4Address? = nil, broadcast: Bool = false
    ) -> DHCPRepr {
        var repr = DHCPRepr(
            messageType: .discover, transactionID: transactionID,
            clientHardwareAddress: clientHardwareAddress)
        repr.secondsElapsed = secondsElapsed
        repr.broadcast = broadcast
        repr.requestedAddress = requestedAddress
        repr.clientIdentifier = ethernetClientIdentifier(clientHardwareAddress)
        repr.parameterRequestList = defaultParameterRequestList
        return repr
    }

    /// A DHCPREQUEST as a client in SELECTING sends it (RFC 2131 section
    /// 4.3.2 and table 5): ciaddr 0, the offered address as option 50 and
    /// the chosen server's identifier as option 54, and the same xid.
    public static func request(
        transactionID: UInt32, clientHardwareAddress: MACAddress, requestedAddress: IPv4Address,
        serverIdentifier: IPv4Address, secondsElapsed: UInt16 = 0, broadcast: Bool = false
    ) -> DHCPRepr {
        var repr = discover(
            transactionID: transactionID, clientHardwareAddress: clientHardwareAddress,
            secondsElapsed: secondsElapsed, requestedAddress: requestedAddress, broadcast: broadcast)
        repr.messageType = .request
        repr.serverIdentifier = serverIdentifier
        return repr
    }

    /// Parses a DHCP message (a UDP payload) and the options above; others
    /// are skipped.
    ///
    /// - Throws: `.truncated`; `.malformed(...)` for a bad op or cookie, an
    ///   option that overruns the message or has the wrong length, no End
    ///   option, no message type; `.unsupported(...)` for a hardware type
    ///   other than Ethernet, option overload, an unknown message type.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> DHCPRepr {
        let message = try DHCPMessage(bytes)
        guard message.op == DHCPMessage.bootRequest || message.op == DHCPMessage.bootReply else {
            throw .malformed("op")
        }
        // RFC 2131 section 2: htype and hlen as in ARP; this stack is Ethernet only.
        guard message.hardwareType == 1 else { throw .unsupported("hardware type") }
        guard message.hardwareLength == 6 else { throw .unsupported("hardware address length") }

        var repr = DHCPRepr(
            messageType: .discover, transactionID: message.transactionID,
            clientHardwareAddress: message.clientHardwareAddress)
        repr.secondsElapsed = message.secondsElapsed
        repr.broadcast = message.flags & DHCPMessage.broadcastFlag != 0
        repr.clientAddress = message.clientAddress
        repr.yourAddress = message.yourAddress
        repr.serverAddress = message.serverAddress
        repr.relayAgentAddress = message.relayAgentAddress

        let options = message.options
        var messageType: DHCPMessageType?
        var index = 0
        var ended = false
        while index < options.count {
            let code = options[index]
            if code == Code.pad {
                index += 1
                continue
            }
            if code == Code.end {
                ended = true
                break
            }
            guard index + 1 < options.count else { throw .malformed("option length") }
            let length = Int(options[index + 1])
            let data = index + 2
            guard length <= options.count - data else { throw .malformed("option length") }
            switch code {
            case Code.messageType:
                guard length == 1 else { throw .malformed("message type") }
                guard let type = DHCPMessageType(rawValue: options[data]) else {
                    throw .unsupported("message type")
                }
                messageType = type
            case Code.overload:
                throw .unsupported("option overload")
            case Code.serverIdentifier:
                repr.serverIdentifier = try address(options, data, length, "server identifier")
            case Code.requestedAddress:
                repr.requestedAddress = try address(options, data, length, "requested address")
            case Code.subnetMask:
                repr.subnetMask = try address(options, data, length, "subnet mask")
            case Code.router:
                // RFC 2132 section 3.5: "minimum length ... is 4 octets, and
                // the length MUST always be a multiple of 4".
                guard length >= 4, length % 4 == 0 else { throw .malformed("router") }
                repr.router = IPv4Address(wire: options, at: data)
            case Code.dnsServers:
                guard length >= 4, length % 4 == 0 else { throw .malformed("DNS servers") }
                repr.dnsServers = DHCPAddressList()
                for at in stride(from: data, to: data + length, by: 4) {
                    repr.dnsServers.append(IPv4Address(wire: options, at: at))
                }
            case Code.leaseTime:
                repr.leaseTime = try seconds(options, data, length, "lease time")
            case Code.renewalTime:
                repr.renewalTime = try seconds(options, data, length, "renewal time")
            case Code.rebindingTime:
                repr.rebindingTime = try seconds(options, data, length, "rebinding time")
            case Code.clientIdentifier:
                // RFC 2132 section 9.14: "minimum length ... is 2".
                guard length >= 2 else { throw .malformed("client identifier") }
                guard
                    let identifier = DHCPOptionBytes(
                        UnsafeRawBufferPointer(rebasing: options[data..<data + length]))
                else { throw .unsupported("client identifier length") }
                repr.clientIdentifier = identifier
            case Code.parameterRequestList:
                // RFC 2132 section 9.8: "minimum length ... is 1"; beyond
                // 32 codes the rest are dropped.
                guard length >= 1 else { throw .malformed("parameter request list") }
                var list = DHCPOptionBytes()
                for at in data..<data + length { list.append(options[at]) }
                repr.parameterRequestList = list
            default:
                break
            }
            index = data + length
        }
        guard ended else { throw .malformed("options end") }
        guard let messageType else { throw .malformed("message type") }
        // RFC 2131 section 3.1: clients send BOOTREQUEST, servers BOOTREPLY.
        let op = messageType.isFromClient ? DHCPMessage.bootRequest : DHCPMessage.bootReply
        guard message.op == op else { throw .malformed("op") }
        repr.messageType = messageType
        return repr
    }

    private static func address(
        _ options: UnsafeRawBufferPointer, _ at: Int, _ length: Int, _ name: StaticString
    ) throws(WireError) -> IPv4Address {
        guard length == 4 else { throw .malformed(name) }
        return IPv4Address(wire: options, at: at)
    }

    private static func seconds(
        _ options: UnsafeRawBufferPointer, _ at: Int, _ length: Int, _ name: StaticString
    ) throws(WireError) -> UInt32 {
        guard length == 4 else { throw .malformed(name) }
        return options.wireUInt32(at: at)
    }

    /// The options' octets, End included.
    private var optionsLength: Int {
        var length = 3 + 1  // message type, End
        // Addresses and times: code, length 4, four octets.
        if serverIdentifier != nil { length += 6 }
        if requestedAddress != nil { length += 6 }
        if subnetMask != nil { length += 6 }
        if router != nil { length += 6 }
        if leaseTime != nil { length += 6 }
        if renewalTime != nil { length += 6 }
        if rebindingTime != nil { length += 6 }
        if !dnsServers.isEmpty { length += 2 + 4 * dnsServers.count }
        if let clientIdentifier { length += 2 + clientIdentifier.count }
        if let parameterRequestList { length += 2 + parameterRequestList.count }
        return length
    }

    /// The octets `emit` writes: at least 300 (RFC 1542 section 2.1).
    public var bufferLength: Int {
        Swift.max(DHCPMessage.minimumEmittedLength, DHCPMessage.fixedLength + optionsLength)
    }

    /// Writes the message: the BOOTP fields, the cookie, the options that
    /// are set, End, and zeros up to `bufferLength`.
    ///
    /// - Parameter bytes: At least `bufferLength` octets.
    /// - Returns: `bufferLength`.
    @discardableResult
    public func emit(into bytes: UnsafeMutableRawBufferPointer) -> Int {
        let total = bufferLength
        precondition(bytes.count >= total, "DHCP buffer too small")
        let message = UnsafeMutableRawBufferPointer(rebasing: bytes[0..<total])
        message.initializeMemory(as: UInt8.self, repeating: 0)
        message[DHCPMessage.Field.op] =
            messageType.isFromClient ? DHCPMessage.bootRequest : DHCPMessage.bootReply
        message[DHCPMessage.Field.hardwareType] = 1
        message[DHCPMessage.Field.hardwareLength] = 6
        message.setWireUInt32(transactionID, at: DHCPMessage.Field.transactionID)
        message.setWireUInt16(secondsElapsed, at: DHCPMessage.Field.secondsElapsed)
        message.setWireUInt16(broadcast ? DHCPMessage.broadcastFlag : 0, at: DHCPMessage.Field.flags)
        clientAddress.write(to: message, at: DHCPMessage.Field.clientAddress)
        yourAddress.write(to: message, at: DHCPMessage.Field.yourAddress)
        serverAddress.write(to: message, at: DHCPMessage.Field.serverAddress)
        relayAgentAddress.write(to: message, at: DHCPMessage.Field.relayAgentAddress)
        for index in 0..<6 {
            message[DHCPMessage.Field.clientHardwareAddress + index] = clientHardwareAddress[index]
        }
        message.setWireUInt32(DHCPMessage.magicCookie, at: DHCPMessage.Field.magicCookie)

        var index = DHCPMessage.fixedLength
        func put(_ byte: UInt8) {
            message[index] = byte
            index += 1
        }
        func put(_ code: UInt8, address: IPv4Address?) {
            guard let address else { return }
            put(code)
            put(4)
            address.write(to: message, at: index)
            index += 4
        }
        func put(_ code: UInt8, seconds: UInt32?) {
            guard let seconds else { return }
            put(code)
            put(4)
            message.setWireUInt32(seconds, at: index)
            index += 4
        }
        func put(_ code: UInt8, bytes: DHCPOptionBytes?) {
            guard let bytes else { return }
            put(code)
            put(UInt8(bytes.count))
            for byte in bytes { put(byte) }
        }
        put(Code.messageType)
        put(1)
        put(messageType.rawValue)
        put(Code.clientIdentifier, bytes: clientIdentifier)
        put(Code.requestedAddress, address: requestedAddress)
        put(Code.serverIdentifier, address: serverIdentifier)
        put(Code.parameterRequestList, bytes: parameterRequestList)
        put(Code.leaseTime, seconds: leaseTime)
        put(Code.renewalTime, seconds: renewalTime)
        put(Code.rebindingTime, seconds: rebindingTime)
        put(Code.subnetMask, address: subnetMask)
        put(Code.router, address: router)
        if !dnsServers.isEmpty {
            put(Code.dnsServers)
            put(UInt8(4 * dnsServers.count))
            for server in dnsServers {
                server.write(to: message, at: index)
                index += 4
            }
        }
        put(Code.end)
        return total
    }

    /// One line: "DHCP OFFER xid 0x3903f326 chaddr 00:0b:82:01:fc:42 yiaddr
    /// 192.168.0.10 server 192.168.0.1 mask 255.255.255.0 router 192.168.0.1
    /// dns 192.168.0.1 lease 3600".
    public var description: String {
        var text = WireText("DHCP ")
        text.add(messageType.name)
        text.add(" xid " as StaticString)
        text.add(hex: UInt64(transactionID), digits: 8)
        text.add(" chaddr " as StaticString)
        text.add(clientHardwareAddress.description)
        if broadcast { text.add(" broadcast" as StaticString) }
        func address(_ label: StaticString, _ value: IPv4Address?) {
            guard let value, !value.isUnspecified else { return }
            text.add(label)
            text.add(value.description)
        }
        func seconds(_ label: StaticString, _ value: UInt32?) {
            guard let value else { return }
            text.add(label)
            text.add(decimal: Int(value))
        }
        address(" ciaddr ", clientAddress)
        address(" yiaddr ", yourAddress)
        address(" siaddr ", serverAddress)
        address(" giaddr ", relayAgentAddress)
        address(" server ", serverIdentifier)
        address(" requested ", requestedAddress)
        address(" mask ", subnetMask)
        address(" router ", router)
        for server in dnsServers { address(" dns ", server) }
        seconds(" lease ", leaseTime)
        seconds(" t1 ", renewalTime)
        seconds(" t2 ", rebindingTime)
        return text.string
    }
}
