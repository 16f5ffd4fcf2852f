import Foundation
import XCTest

/// A folder compiled into the kernel (`kind = "kv"`): the same keys, sizes
/// and bytes on both targets; hidden files left out.
final class KeyValueStoreTests: XCTestCase {
    let expected = """
        big.txt 70000
        css/site.css 19
        index.html 14
        index.html: <h1>Riad</h1>
        big.txt tail: 2 bytes
        css/: 1 keys
        missing: nil

        """

    func testStoreOnHvt() throws {
        try Support.requireKVM()
        let result = try Support.boot(try Support.kernel("kv"))
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertEqual(result.output, expected)
    }

    func testStoreOnUnix() throws {
        let result = try Support.run(try Support.unixKernel("kv").path, [])
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertEqual(result.output, expected)
    }
}
