// Header fields: RFC 9110 section 5. Names are case-insensitive tokens
// (5.1); a field may appear more than once, its lines in order (5.2, 5.3);
// values are kept as received, without surrounding whitespace (5.5).

/// The header (or trailer) fields of a message, in order.
///
/// All fields share one byte array, so a request's headers cost two
/// allocations however many there are. Lookups compare names ignoring ASCII
/// case, on bytes.
///
/// ```swift
/// var headers: HTTPHeaders = ["Content-Type": "text/plain"]
/// headers.add("Cache-Control", "no-store")
/// headers["content-type"]  // "text/plain"
/// headers.containsToken("close", in: "Connection")
/// ```
public struct HTTPHeaders: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    /// One field's place in `storage`: the name, then the value.
    struct Span: Sendable, Equatable {
        var nameStart: Int
        var valueStart: Int
        var valueEnd: Int
    }

    private(set) var storage: [UInt8] = []
    private(set) var spans: [Span] = []

    public init() {}

    /// Fields in the order given.
    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { add(name, value) }
    }

    /// The number of field lines.
    public var count: Int { spans.count }
    public var isEmpty: Bool { spans.isEmpty }

    /// The name of field `index` (0..<count), as sent.
    public func name(at index: Int) -> ArraySlice<UInt8> {
        storage[spans[index].nameStart..<spans[index].valueStart]
    }

    /// The value of field `index` (0..<count).
    public func value(at index: Int) -> ArraySlice<UInt8> {
        storage[spans[index].valueStart..<spans[index].valueEnd]
    }

    // MARK: Lookup

    /// The first value of the field `name`, as text; nil if absent.
    public subscript(name: String) -> String? {
        guard let bytes = first(name) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The first value of the field `name`, as bytes; nil if absent.
    public func first(_ name: String) -> ArraySlice<UInt8>? {
        first(name: name.utf8)
    }

    func first<Name: Collection>(name: Name) -> ArraySlice<UInt8>? where Name.Element == UInt8 {
        for index in spans.indices where ASCII.equalsIgnoringCase(self.name(at: index), name) {
            return value(at: index)
        }
        return nil
    }

    /// Every value of the field `name`, in order.
    public func values(_ name: String) -> [ArraySlice<UInt8>] {
        var values: [ArraySlice<UInt8>] = []
        for index in spans.indices where ASCII.equalsIgnoringCase(self.name(at: index), name.utf8) {
            values.append(value(at: index))
        }
        return values
    }

    public func contains(_ name: String) -> Bool {
        first(name: name.utf8) != nil
    }

    /// How many lines the field `name` has.
    public func count(of name: String) -> Int {
        count(name: name.utf8)
    }

    func count<Name: Collection>(name: Name) -> Int where Name.Element == UInt8 {
        var count = 0
        for index in spans.indices where ASCII.equalsIgnoringCase(self.name(at: index), name) {
            count += 1
        }
        return count
    }

    /// Whether `token` is an element of the comma-separated list that the
    /// lines of field `name` make together (RFC 9110 section 5.3), ignoring
    /// case: `containsToken("close", in: "Connection")`.
    public func containsToken(_ token: String, in name: String) -> Bool {
        for index in spans.indices where ASCII.equalsIgnoringCase(self.name(at: index), name.utf8) {
            var found = false
            ASCII.forEachListElement(value(at: index)) { element in
                found = ASCII.equalsIgnoringCase(element, token.utf8)
                return !found
            }
            if found { return true }
        }
        return false
    }

    // MARK: Changing

    /// Adds a field line after the others. The name should be a token and
    /// the value free of CR, LF and NUL: a serializer drops a field whose
    /// name is not a token and replaces those bytes in a value by spaces, so
    /// no value can start a header of its own (RFC 9110 section 5.5).
    public mutating func add(_ name: String, _ value: String) {
        add(name: name.utf8, value: value.utf8)
    }

    /// Adds a field line given as bytes.
    public mutating func add<Name: Collection, Value: Collection>(name: Name, value: Value)
    where Name.Element == UInt8, Value.Element == UInt8 {
        let nameStart = storage.count
        storage.append(contentsOf: name)
        let valueStart = storage.count
        storage.append(contentsOf: value)
        spans.append(Span(nameStart: nameStart, valueStart: valueStart, valueEnd: storage.count))
    }

    /// Replaces every line of the field `name` by one with `value`.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    /// Removes every line of the field `name`.
    public mutating func remove(_ name: String) {
        guard contains(name) else { return }
        var kept = HTTPHeaders()
        for index in spans.indices where !ASCII.equalsIgnoringCase(self.name(at: index), name.utf8) {
            kept.add(name: self.name(at: index), value: value(at: index))
        }
        self = kept
    }

    /// Removes every field, keeping the storage for reuse.
    public mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
    }

    /// Same fields, same order, same bytes (names compared ignoring case).
    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for index in lhs.spans.indices {
            guard ASCII.equalsIgnoringCase(lhs.name(at: index), rhs.name(at: index)),
                lhs.value(at: index).elementsEqual(rhs.value(at: index))
            else { return false }
        }
        return true
    }
}

extension HTTPHeaders: RandomAccessCollection {
    /// One field line.
    public struct Field: Sendable {
        public var name: ArraySlice<UInt8>
        public var value: ArraySlice<UInt8>

        public var nameString: String { String(decoding: name, as: UTF8.self) }
        public var valueString: String { String(decoding: value, as: UTF8.self) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { spans.count }

    public subscript(position: Int) -> Field {
        Field(name: name(at: position), value: value(at: position))
    }
}
