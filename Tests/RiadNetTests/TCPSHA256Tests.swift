import XCTest

/// The test support's SHA-256 against FIPS 180-4's examples (and the NIST
/// CAVP byte-oriented vectors), so that the transfer tests can trust it.
final class TCPSHA256Tests: XCTestCase {
    func testEmptyMessage() {
        XCTAssertEqual(
            SHA256.hex(SHA256.digest([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testABC() {
        XCTAssertEqual(
            SHA256.hex(SHA256.digest(Array("abc".utf8))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// Two blocks: the 448-bit message of FIPS 180-4's examples.
    func testTwoBlockMessage() {
        let message = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        XCTAssertEqual(
            SHA256.hex(SHA256.digest(message)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    /// A million "a"s, fed in uneven pieces: the streaming must not matter.
    func testMillionAsInPieces() {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        var sha = SHA256()
        var index = 0
        var piece = 1
        message.withUnsafeBytes { bytes in
            while index < bytes.count {
                let end = min(bytes.count, index + piece)
                sha.update(UnsafeRawBufferPointer(rebasing: bytes[index..<end]))
                index = end
                piece = piece % 131 + 7
            }
        }
        XCTAssertEqual(
            SHA256.hex(sha.finalize()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
