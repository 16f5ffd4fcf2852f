// Read-only key-value stores: the files a unikernel serves, its
// configuration. The shared rules (threads, blocking, errors) are at the top
// of Devices.swift.

/// A read-only store of values (byte strings) by key: files built into the
/// image, a tar archive on a block device, a directory on the host (unix).
///
/// Keys are UTF-8 strings compared byte for byte (no Unicode
/// normalisation). By convention they are paths relative to the store's
/// root, separated by "/", with no leading "/": "index.html",
/// "css/site.css".
///
/// A key that is not in the store is not an error: lookups return nil.
public protocol KeyValueStore {
    /// The length in bytes of the value of `key`, nil if there is none.
    ///
    /// - Blocks: until the store has answered (an in-memory store at once; a
    ///   store on a block device may read a block).
    /// - Errors: `.deviceError` if the device behind the store failed.
    func size(of key: String) throws(RiadError) -> Int?

    /// Lends part of the value of `key` to `body`, and returns what `body`
    /// returns; nil, without calling `body`, if there is no such key.
    ///
    /// The part is the bytes `offset..<offset + length`, cut to the end of
    /// the value: reading from or past the end lends an empty buffer. The
    /// buffer is valid only during `body` and is read-only; a store whose
    /// values are in memory lends them in place, others through a buffer of
    /// their own.
    ///
    /// - Blocks: as `size(of:)`.
    /// - Limits: `offset` and `length` MUST NOT be negative.
    /// - Errors: `.invalidArgument` for a negative `offset` or `length`;
    ///   `.deviceError` if the device behind the store failed.
    func withValue<Result>(
        of key: String, offset: Int, length: Int, _ body: (UnsafeRawBufferPointer) -> Result
    ) throws(RiadError) -> Result?

    /// The keys that start with `prefix` (all keys for ""), in ascending
    /// byte order, without duplicates.
    ///
    /// - Blocks: as `size(of:)`.
    /// - Errors: `.deviceError` if the device behind the store failed.
    func keys(withPrefix prefix: String) throws(RiadError) -> [String]
}

extension KeyValueStore {
    /// Whether the store has a value for `key`.
    public func contains(_ key: String) throws(RiadError) -> Bool {
        try size(of: key) != nil
    }

    /// Lends the whole value of `key` to `body`; nil if there is no such key.
    public func withValue<Result>(
        of key: String, _ body: (UnsafeRawBufferPointer) -> Result
    ) throws(RiadError) -> Result? {
        try withValue(of: key, offset: 0, length: Int.max, body)
    }

    /// A copy of the value of `key`, nil if there is none.
    public func get(_ key: String) throws(RiadError) -> [UInt8]? {
        try withValue(of: key) { bytes in Array(bytes) }
    }

    /// A copy of the bytes `offset..<offset + length` of the value of `key`,
    /// cut to the end of the value; nil if there is no such key.
    ///
    /// - Throws: `.invalidArgument` for a negative `offset` or `length`.
    public func get(_ key: String, offset: Int, length: Int) throws(RiadError) -> [UInt8]? {
        try withValue(of: key, offset: offset, length: length) { bytes in Array(bytes) }
    }

    /// The value of `key` in a new buffer, nil if there is none.
    public func buffer(_ key: String) throws(RiadError) -> ByteBuffer? {
        try withValue(of: key) { bytes in ByteBuffer(bytes: bytes) }
    }
}
