/// A read-only `KeyValueStore` built into the kernel image: a folder's
/// files, turned into data by `riad configure` (a manifest device of kind
/// `kv`, what MirageOS calls crunch). Values are lent in place, never
/// copied; lookups are binary searches over keys sorted by bytes.
///
/// The table is the C layout the build generates: `count` entries of four
/// 64-bit words each: key pointer, key length, value pointer, value length.
public struct StaticKeyValueStore: KeyValueStore {
    private let table: UnsafeRawPointer
    public let count: Int

    /// The store over a generated table. The table and what it points to
    /// live as long as the kernel (they are in its read-only data).
    public init(table: UnsafeRawPointer, count: Int) {
        self.table = table
        self.count = count
    }

    private static let entrySize = 32

    private func key(at index: Int) -> UnsafeRawBufferPointer {
        field(index, 0)
    }

    private func value(at index: Int) -> UnsafeRawBufferPointer {
        field(index, 16)
    }

    private func field(_ index: Int, _ offset: Int) -> UnsafeRawBufferPointer {
        let entry = table + index * Self.entrySize + offset
        let pointer = entry.load(as: UnsafeRawPointer?.self)
        let length = Int(entry.load(fromByteOffset: 8, as: UInt64.self))
        return UnsafeRawBufferPointer(start: pointer, count: length)
    }

    /// The index of `key`, or where it would go.
    private func search(_ key: String) -> (index: Int, found: Bool) {
        var low = 0
        var high = count
        var key = key
        return key.withUTF8 { wanted in
            while low < high {
                let middle = (low + high) / 2
                switch compare(self.key(at: middle), UnsafeRawBufferPointer(wanted)) {
                case 0: return (middle, true)
                case ..<0: low = middle + 1
                default: high = middle
                }
            }
            return (low, false)
        }
    }

    /// Byte order, as memcmp and the build's sort: negative, 0, positive.
    private func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        for index in 0..<min(a.count, b.count) where a[index] != b[index] {
            return Int(a[index]) - Int(b[index])
        }
        return a.count - b.count
    }

    public func size(of key: String) throws(RiadError) -> Int? {
        let (index, found) = search(key)
        return found ? value(at: index).count : nil
    }

    public func withValue<Result>(
        of key: String, offset: Int, length: Int, _ body: (UnsafeRawBufferPointer) -> Result
    ) throws(RiadError) -> Result? {
        guard offset >= 0, length >= 0 else { throw RiadError(.invalidArgument, "negative offset or length") }
        let (index, found) = search(key)
        guard found else { return nil }
        let value = value(at: index)
        let start = min(offset, value.count)
        let end = start + min(length, value.count - start)
        return body(UnsafeRawBufferPointer(rebasing: value[start..<end]))
    }

    public func keys(withPrefix prefix: String) throws(RiadError) -> [String] {
        var keys: [String] = []
        var index = search(prefix).index
        let prefixBytes = Array(prefix.utf8)
        while index < count {
            let key = key(at: index)
            guard key.count >= prefixBytes.count, key.prefix(prefixBytes.count).elementsEqual(prefixBytes)
            else { break }
            keys.append(String(decoding: key, as: UTF8.self))
            index += 1
        }
        return keys
    }
}
