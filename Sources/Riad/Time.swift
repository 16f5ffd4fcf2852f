/// Time as the kernel sees it: an `Instant` on the monotonic clock and a
/// `Duration` between two instants, both whole nanoseconds.
///
/// Arithmetic saturates instead of trapping: a deadline computed from a
/// hostile or absurd timeout ends at `Instant.distantFuture` (or at boot),
/// never in a crash. Both types conform to the standard library's
/// `InstantProtocol` and `DurationProtocol`, so a Swift `Clock` can be built
/// on them.
///
/// Naming: inside `Riad`, and in every module that imports it, `Duration`
/// means `Riad.Duration`; a module's own declarations shadow the standard
/// library's for its importers, so `let d: Duration = .milliseconds(5)` is
/// not ambiguous. `Swift.Duration` stays reachable by its full name, and
/// `Duration(_:)`/`swiftDuration` convert between the two (for
/// `Task.sleep(for:)`, whose literal arguments infer `Swift.Duration`).

/// A span of time in nanoseconds, positive or negative, about ±292 years.
///
/// ```swift
/// let timeout: Duration = .milliseconds(1500)
/// print(timeout.description)  // "1.5 s"
/// ```
public struct Duration: Sendable, Hashable, Comparable {
    /// The span in nanoseconds.
    public var nanoseconds: Int64

    /// A span of `nanoseconds`.
    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// The longest span; also what saturated arithmetic ends at.
    public static let max = Duration(nanoseconds: .max)
    /// The most negative span.
    public static let min = Duration(nanoseconds: .min)

    public static func < (lhs: Duration, rhs: Duration) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }
}

// MARK: - Constructors

extension Duration {
    /// `value` nanoseconds, saturated to the range of `Duration`.
    public static func nanoseconds<T: BinaryInteger>(_ value: T) -> Duration {
        Duration(nanoseconds: Int64(clamping: value))
    }

    /// `value` microseconds, saturated to the range of `Duration`.
    public static func microseconds<T: BinaryInteger>(_ value: T) -> Duration {
        scaled(value, by: 1_000)
    }

    /// `value` milliseconds, saturated to the range of `Duration`.
    public static func milliseconds<T: BinaryInteger>(_ value: T) -> Duration {
        scaled(value, by: 1_000_000)
    }

    /// `value` seconds, saturated to the range of `Duration`.
    public static func seconds<T: BinaryInteger>(_ value: T) -> Duration {
        scaled(value, by: 1_000_000_000)
    }

    private static func scaled<T: BinaryInteger>(_ value: T, by unit: Int64) -> Duration {
        Duration(nanoseconds: saturatingMultiply(Int64(clamping: value), unit))
    }

    /// The same span as a standard-library duration.
    public var swiftDuration: Swift.Duration {
        .nanoseconds(nanoseconds)
    }

    /// The span of `duration`, truncated to whole nanoseconds and saturated.
    public init(_ duration: Swift.Duration) {
        let (seconds, attoseconds) = duration.components
        self.nanoseconds = saturatingAdd(
            saturatingMultiply(seconds, 1_000_000_000), attoseconds / 1_000_000_000)
    }
}

// MARK: - Arithmetic

extension Duration: DurationProtocol {
    public static var zero: Duration { Duration(nanoseconds: 0) }

    public static func + (lhs: Duration, rhs: Duration) -> Duration {
        Duration(nanoseconds: saturatingAdd(lhs.nanoseconds, rhs.nanoseconds))
    }

    public static func - (lhs: Duration, rhs: Duration) -> Duration {
        let (difference, overflow) = lhs.nanoseconds.subtractingReportingOverflow(rhs.nanoseconds)
        guard overflow else { return Duration(nanoseconds: difference) }
        return rhs.nanoseconds < 0 ? .max : .min
    }

    public static prefix func - (duration: Duration) -> Duration {
        .zero - duration
    }

    public static func * (lhs: Duration, rhs: Int) -> Duration {
        Duration(nanoseconds: saturatingMultiply(lhs.nanoseconds, Int64(clamping: rhs)))
    }

    /// Division truncates toward zero; dividing by zero gives `.max`, `.min`
    /// or `.zero` by the sign of `lhs` instead of trapping.
    public static func / (lhs: Duration, rhs: Int) -> Duration {
        guard rhs != 0 else {
            return lhs.nanoseconds > 0 ? .max : lhs.nanoseconds < 0 ? .min : .zero
        }
        let (quotient, overflow) = lhs.nanoseconds.dividedReportingOverflow(by: Int64(clamping: rhs))
        return overflow ? .max : Duration(nanoseconds: quotient)
    }

    /// The ratio of two spans (infinite or NaN when `rhs` is zero).
    public static func / (lhs: Duration, rhs: Duration) -> Double {
        Double(lhs.nanoseconds) / Double(rhs.nanoseconds)
    }
}

// MARK: - Instant

/// A point on the monotonic clock: nanoseconds since an arbitrary point at
/// boot. Instants from different boots cannot be compared.
///
/// ```swift
/// let deadline = clock.now + .seconds(3)
/// if clock.now >= deadline { … }
/// ```
public struct Instant: Sendable, Hashable, Comparable {
    /// Nanoseconds since the clock's origin at boot.
    public var nanoseconds: UInt64

    /// The instant `nanoseconds` after the clock's origin.
    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    /// The clock's origin.
    public static let zero = Instant(nanoseconds: 0)
    /// Later than any instant a clock will report: "no deadline".
    public static let distantFuture = Instant(nanoseconds: .max)

    public static func < (lhs: Instant, rhs: Instant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }
}

extension Instant: InstantProtocol {
    /// The instant `duration` later (earlier if negative), saturated to
    /// `Instant.zero...Instant.distantFuture`.
    public func advanced(by duration: Duration) -> Instant {
        let magnitude = duration.nanoseconds.magnitude
        if duration.nanoseconds >= 0 {
            let (sum, overflow) = nanoseconds.addingReportingOverflow(magnitude)
            return Instant(nanoseconds: overflow ? .max : sum)
        }
        return Instant(nanoseconds: nanoseconds < magnitude ? 0 : nanoseconds - magnitude)
    }

    /// The span from `self` to `other`, negative if `other` is earlier,
    /// saturated to the range of `Duration`.
    public func duration(to other: Instant) -> Duration {
        if other.nanoseconds >= nanoseconds {
            return Duration(nanoseconds: Int64(clamping: other.nanoseconds - nanoseconds))
        }
        let magnitude = nanoseconds - other.nanoseconds
        return magnitude >= Int64.min.magnitude ? .min : Duration(nanoseconds: -Int64(magnitude))
    }

    public static func + (lhs: Instant, rhs: Duration) -> Instant {
        lhs.advanced(by: rhs)
    }

    public static func - (lhs: Instant, rhs: Duration) -> Instant {
        lhs.advanced(by: -rhs)
    }

    /// The span from `rhs` to `lhs`: `later - earlier` is positive.
    public static func - (lhs: Instant, rhs: Instant) -> Duration {
        rhs.duration(to: lhs)
    }

    public static func += (lhs: inout Instant, rhs: Duration) {
        lhs = lhs.advanced(by: rhs)
    }

    public static func -= (lhs: inout Instant, rhs: Duration) {
        lhs = lhs.advanced(by: -rhs)
    }
}

// MARK: - Descriptions

extension Duration: CustomStringConvertible {
    /// The span in the largest unit below it, to three decimals, truncated:
    /// "750 ns", "12 µs", "1.5 ms", "-2.25 s", "3600 s".
    public var description: String {
        let sign = nanoseconds < 0 ? "-" : ""
        return sign + formatNanoseconds(nanoseconds.magnitude)
    }
}

extension Instant: CustomStringConvertible {
    /// The time since boot: "boot+1.5 s".
    public var description: String {
        "boot+" + formatNanoseconds(nanoseconds)
    }
}

/// `nanoseconds` in ns, µs, ms or s with up to three decimals.
private func formatNanoseconds(_ nanoseconds: UInt64) -> String {
    let scale: UInt64
    let unit: String
    switch nanoseconds {
    case ..<1_000: return "\(nanoseconds) ns"
    case ..<1_000_000: (scale, unit) = (1_000, " µs")
    case ..<1_000_000_000: (scale, unit) = (1_000_000, " ms")
    default: (scale, unit) = (1_000_000_000, " s")
    }
    var millis = nanoseconds % scale * 1_000 / scale
    guard millis > 0 else { return "\(nanoseconds / scale)" + unit }
    var digits = 3
    while millis % 10 == 0 {
        millis /= 10
        digits -= 1
    }
    var fraction = "\(millis)"
    while fraction.utf8.count < digits { fraction = "0" + fraction }
    return "\(nanoseconds / scale)." + fraction + unit
}

// MARK: - Saturating helpers

private func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    guard overflow else { return sum }
    return b < 0 ? .min : .max
}

private func saturatingMultiply(_ a: Int64, _ b: Int64) -> Int64 {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    guard overflow else { return product }
    return (a < 0) == (b < 0) ? .max : .min
}
