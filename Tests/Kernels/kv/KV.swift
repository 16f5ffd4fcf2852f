import Riad
import _Concurrency

/// Prints every key of its store with the value's size, one value, a
/// slice of another, and what a missing key gives.
struct KV {
    static func start<P: Platform, Store: KeyValueStore>(platform: P, files: Store) async -> Int32 {
        do throws(RiadError) {
            for key in try files.keys(withPrefix: "") {
                platform.write("\(key) \(try files.size(of: key) ?? -1)\n")
            }
            let index = try files.withValue(of: "index.html") { String(decoding: $0, as: UTF8.self) }
            platform.write("index.html: \(index ?? "missing")")
            let slice = try files.get("big.txt", offset: 69_998, length: 10) ?? []
            platform.write("big.txt tail: \(slice.count) bytes\n")
            platform.write("css/: \(try files.keys(withPrefix: "css/").count) keys\n")
            platform.write("missing: \(try files.size(of: "nope.html") == nil ? "nil" : "found")\n")
        } catch {
            platform.write("kv: \(error.description)\n")
            return ExitStatus.failure
        }
        return ExitStatus.success
    }
}
