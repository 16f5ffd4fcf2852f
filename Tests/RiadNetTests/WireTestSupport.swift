import RiadNet
import XCTest

/// The error `body` throws on `bytes`, or nil if it returns.
func wireError<T>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(WireError) -> T) -> WireError? {
    bytes.withUnsafeBytes { raw in
        do throws(WireError) {
            _ = try body(raw)
            return nil
        } catch {
            return error
        }
    }
}

/// What `body` returns on `bytes`; fails the test if it throws.
func wireValue<T>(
    _ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line,
    _ body: (UnsafeRawBufferPointer) throws(WireError) -> T
) -> T? {
    bytes.withUnsafeBytes { raw in
        do throws(WireError) {
            return try body(raw)
        } catch {
            XCTFail("refused: \(error)", file: file, line: line)
            return nil
        }
    }
}

/// `count` zero bytes passed to `body` as a mutable buffer, then returned.
func emitted(count: Int, _ body: (UnsafeMutableRawBufferPointer) -> Void) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { body($0) }
    return bytes
}

/// Calls `body` on `count` buffers of random bytes and random lengths in
/// 0...maximumLength (SeededRandomBuffers, shared with the TCP tests), and
/// returns how many it parsed (did not throw). A parser that traps ends the
/// test run, which is the failure this guards against.
func fuzz(
    seed: UInt64, count: Int = 10_000, maximumLength: Int = 1500,
    _ body: (UnsafeRawBufferPointer) throws(WireError) -> Void
) -> Int {
    var random = SeededRandomBuffers(seed: seed)
    var parsed = 0
    for _ in 0..<count {
        let bytes = random.buffer(maximumLength: maximumLength)
        if wireError(bytes, body) == nil { parsed += 1 }
    }
    return parsed
}

/// Calls `body` on `count` copies of `valid` with a few random bytes
/// changed, a quarter of them also cut to a random length, to reach the
/// checks deep in a parser that random bytes seldom get past. Returns how
/// many it parsed.
func fuzz(
    seed: UInt64, mutating valid: [UInt8], count: Int = 10_000,
    _ body: (UnsafeRawBufferPointer) throws(WireError) -> Void
) -> Int {
    var random = SeededRandomBuffers(seed: seed)
    var parsed = 0
    for _ in 0..<count {
        var bytes = random.mutation(of: valid)
        if random.next(upTo: 3) == 0 { bytes.removeLast(random.next(upTo: bytes.count)) }
        if wireError(bytes, body) == nil { parsed += 1 }
    }
    return parsed
}
