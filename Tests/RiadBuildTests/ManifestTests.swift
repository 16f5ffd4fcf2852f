import XCTest

@testable import RiadBuild

/// unikernel.toml: good manifests parse; every broken one gets a message
/// that names the file, the line and what was expected.
final class ManifestTests: XCTestCase {
    func testAGoodManifest() throws {
        let manifest = try UnikernelManifest(
            text: """
                # an echo server
                name = "echo"
                entry = "Echo"

                [[device]]
                name = "service"
                kind = "net"

                [[device]]
                name = "disk-1"   # a comment
                kind = "block"

                [hvt]
                memory = 64
                """, file: "unikernel.toml")
        XCTAssertEqual(manifest.name, "echo")
        XCTAssertEqual(manifest.entry, "Echo")
        XCTAssertEqual(
            manifest.devices, [.init(name: "service", kind: .net), .init(name: "disk-1", kind: .block)])
        XCTAssertEqual(manifest.hvtMemoryMiB, 64)
    }

    func testDefaults() throws {
        let manifest = try UnikernelManifest(text: "name = \"a\"\nentry = \"A\"\n", file: "m.toml")
        XCTAssertEqual(manifest.devices, [])
        XCTAssertEqual(manifest.hvtMemoryMiB, 32)
    }

    func testBrokenManifests() {
        let head = "name = \"k\"\nentry = \"K\"\n"
        let cases: [(String, String)] = [
            ("entry = \"K\"\n", "m.toml:1: missing key `name`"),
            ("name = \"k\"\n", "m.toml:1: missing key `entry`"),
            ("name = 3\nentry = \"K\"\n", "m.toml:1: `name` must be a string, found an integer"),
            ("name = \"Bad Name\"\nentry = \"K\"\n", "m.toml:1: name `Bad Name` must be"),
            ("name = \"k\"\nentry = \"9K\"\n", "m.toml:2: entry `9K` must be a Swift type name"),
            (head + "colour = \"red\"\n", "m.toml:3: unknown key `colour` at the top level"),
            (
                head + "[[device]]\nname = \"s\"\nkind = \"serial\"\n",
                "m.toml:5: unknown device kind `serial`"
            ),
            (head + "[[device]]\nkind = \"net\"\n", "m.toml:3: missing key `name` in [device]"),
            (
                head
                    + "[[device]]\nname = \"s\"\nkind = \"net\"\n[[device]]\nname = \"s\"\nkind = \"block\"\n",
                "m.toml:7: device `s` is declared twice"
            ),
            (head + "[network]\n", "m.toml:3: unknown table [network]"),
            (
                head + "[[argument]]\nname = \"port\"\nkind = \"number\"\nhelp = \"h\"\n",
                "m.toml:5: unknown argument kind `number`; expected one of: string, unsigned, flag"
            ),
            (
                head + "[[argument]]\nname = \"port\"\nkind = \"unsigned\"\ndefault = \"80\"\nhelp = \"h\"\n",
                "m.toml:6: `default` of a unsigned argument must be a non-negative integer, found a string"
            ),
            (
                head + "[[argument]]\nname = \"port\"\nkind = \"flag\"\n",
                "m.toml:3: missing key `help` in [argument]"
            ),
            (
                head + "[[argument]]\nname = \"p\"\nkind = \"flag\"\nhelp = \"h\"\n"
                    + "[[argument]]\nname = \"p\"\nkind = \"flag\"\nhelp = \"h\"\n",
                "m.toml:8: argument `p` is declared twice"
            ),
            (
                head + "[[device]]\nname = \"s\"\nkind = \"net\"\nstack = \"direct\"\nipv4 = \"10.0.0.2\"\n",
                "m.toml:7: `ipv4` must be an address and prefix like \"10.0.0.2/24\", found \"10.0.0.2\""
            ),
            (
                head
                    + "[[device]]\nname = \"s\"\nkind = \"net\"\nstack = \"direct\"\nipv4-gateway = \"10.0.0.300\"\n",
                "m.toml:7: `ipv4-gateway` must be an address like \"10.0.0.1\", found \"10.0.0.300\""
            ),
            (
                head + "[[device]]\nname = \"s\"\nkind = \"net\"\nstack = \"direct\"\ndns = \"10.0.0.1\"\n",
                "m.toml:7: `dns` must be an array of addresses, found a string"
            ),
            (
                head + "[[device]]\nname = \"s\"\nkind = \"net\"\nipv4 = \"10.0.0.2/24\"\n",
                "m.toml:6: `ipv4` is for network devices with a stack"
            ),
            (
                head + "[[device]]\nname = \"s\"\nkind = \"net\"\nstack = \"bsd\"\n",
                "m.toml:6: unknown stack `bsd`; expected one of: none, direct, socket"
            ),
            (
                head + "[[device]]\nname = \"d\"\nkind = \"block\"\nstack = \"direct\"\n",
                "m.toml:6: `stack` is for network devices; `d` is a block device"
            ),
            (
                head + "[[device]]\nname = \"files\"\nkind = \"kv\"\n",
                "m.toml:3: missing key `path` in [device]"
            ),
            (
                head + "[[device]]\nname = \"files\"\nkind = \"kv\"\npath = \"no-such-folder\"\n",
                "m.toml:6: `path` no-such-folder is not a folder"
            ),
            (
                head + "[[device]]\nname = \"s\"\nkind = \"net\"\npath = \"x\"\n",
                "m.toml:6: `path` is for kv devices; `s` is a net device"
            ),
            (
                head + "[hvt]\nmemory = 1\n",
                "m.toml:4: `memory` must be an integer number of MiB from 2 to 4096"
            ),
            (head + "[hvt]\nmemory = \"lots\"\n", "m.toml:4: `memory` must be an integer"),
            (head + "[hvt]\n[hvt]\n", "m.toml:4: table [hvt] is defined twice"),
            (head + "name = \"again\"\n", "m.toml:3: key `name` is given twice"),
            ("name = \"k\nentry = \"K\"\n", "m.toml:1: unterminated string"),
            ("name \"k\"\n", "m.toml:1: expected `=` after key `name`"),
            ("[device\n", "m.toml:1: expected a table header"),
            ("name = \"k\" extra\n", "m.toml:1: unexpected text after the value of `name`"),
            ("= 3\n", "m.toml:1: expected `key = value`"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try UnikernelManifest(text: text, file: "m.toml"), expected) { error in
                let message = (error as? TOMLError)?.description ?? "\(error)"
                XCTAssertTrue(message.hasPrefix(expected), "expected \"\(expected)…\", got \"\(message)\"")
            }
        }
    }

    func testWiringNamesTheEntryAndEveryDevice() throws {
        let manifest = try UnikernelManifest(
            text: "name = \"k\"\nentry = \"K\"\n[[device]]\nname = \"service\"\nkind = \"net\"\n", file: "m")
        XCTAssertTrue(Wiring.hvtMain(manifest).contains("await K.start(platform: platform)"))
        let notes = Wiring.hvtNotes(manifest)
        XCTAssertTrue(notes.contains("#define ENTRIES 2"))
        XCTAssertTrue(notes.contains("{ .name = \"service\", .type = RIAD_MFT_DEV_NET_BASIC }"))
    }

    func testStaticAddressesGoIntoTheWiring() throws {
        let manifest = try UnikernelManifest(
            text: """
                name = "web"
                entry = "Web"

                [[device]]
                name = "service"
                kind = "net"
                stack = "direct"
                ipv4 = "10.0.0.2/24"
                ipv4-gateway = "10.0.0.1"
                dns = ["10.0.0.53", "10.0.0.54"]
                """, file: "unikernel.toml")
        XCTAssertEqual(manifest.devices[0].ipv4, "10.0.0.2/24")
        XCTAssertEqual(manifest.devices[0].gateway, "10.0.0.1")
        XCTAssertEqual(manifest.devices[0].dns, ["10.0.0.53", "10.0.0.54"])
        for target in KernelTarget.allCases {
            XCTAssertTrue(
                Wiring.main(manifest, for: target).contains(
                    "configuration: DirectStackConfiguration(ipv4: IPv4CIDR(\"10.0.0.2/24\"), "
                        + "gateway: IPv4Address(\"10.0.0.1\"), dnsServers: [IPv4Address(\"10.0.0.53\")!, "
                        + "IPv4Address(\"10.0.0.54\")!])"), "\(target)")
        }
        // --stack=socket replaces the stack; the socket stack takes no addresses.
        XCTAssertTrue(
            Wiring.main(manifest.replacingStacks(with: .socket), for: .unix).contains(
                "SocketStack(platform: platform)"))
    }

    func testArgumentsDeclaredInTheManifestAreGenerated() throws {
        let manifest = try UnikernelManifest(
            text: """
                name = "web"
                entry = "Web"

                [[argument]]
                name = "page-title"
                kind = "string"
                default = "Riad \\"web\\""
                help = "the title"

                [[argument]]
                name = "port"
                kind = "unsigned"
                default = 80
                help = "the port"

                [[argument]]
                name = "verbose"
                kind = "flag"
                help = "say more"
                """, file: "unikernel.toml")
        XCTAssertEqual(manifest.arguments.map(\.name), ["page-title", "port", "verbose"])
        let main = Wiring.main(manifest, for: .unix)
        XCTAssertTrue(main.contains("let pageTitle: RuntimeArguments.Handle<String>"), main)
        XCTAssertTrue(
            main.contains(
                #"pageTitle: arguments.string("page-title", default: "Riad \"web\"", help: "the title")"#),
            main)
        XCTAssertTrue(
            main.contains(#"port: arguments.unsigned("port", default: 80, help: "the port")"#), main)
        XCTAssertTrue(main.contains(#"verbose: arguments.flag("verbose", help: "say more")"#), main)
    }
}
