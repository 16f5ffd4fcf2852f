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
}
