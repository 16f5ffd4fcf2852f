/// Numbers as decimal text, appended to a byte array, without Foundation
/// (Embedded Swift has no float printing).
///
/// Doubles are written with at most `significantDigits` significant digits
/// (15 by default: every decimal of 15 digits survives a round trip through
/// a `Double`, so 0.1 prints as `0.1`), correctly rounded: the exact binary
/// value is expanded into all its decimal digits with a small big-integer
/// and rounded half to even. Trailing zeros are dropped. Numbers from 1e-5
/// up to 10^significantDigits are written plainly (`0.005`, `1234.5`),
/// others in exponent form (`1.5e+20`, `2.5e-7`), which both Go's
/// `ParseFloat` (InfluxDB, Prometheus) and C's `strtod` read.
///
/// ```swift
/// var text: [UInt8] = []
/// DecimalText.append(0.005, to: &text)  // "0.005"
/// ```
public enum DecimalText {
    /// Appends `value`: NaN as `NaN`, infinities as `+Inf` and `-Inf`
    /// (Prometheus's spelling; InfluxDB has none, so its encoder leaves such
    /// values out), negative zero as `-0`.
    public static func append(_ value: Double, significantDigits: Int = 15, to output: inout [UInt8]) {
        if value.isNaN { return output.append(contentsOf: "NaN".utf8) }
        if value.isInfinite { return output.append(contentsOf: (value < 0 ? "-Inf" : "+Inf").utf8) }
        if value.sign == .minus { output.append(UInt8(ascii: "-")) }
        let magnitude = value.magnitude
        let precision = Swift.min(Swift.max(significantDigits, 1), 17)
        // Whole numbers with no more digits than the precision are exact.
        if magnitude < powersOfTen[precision], magnitude.rounded(.towardZero) == magnitude {
            return append(UInt64(magnitude), to: &output)
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maximumDigits) { digits in
            var (count, exponent) = exactDigits(of: magnitude, into: digits)
            if count > precision {
                if roundsUp(digits, count: count, at: precision) {
                    var index = precision - 1
                    while index >= 0 && digits[index] == 9 {
                        digits[index] = 0
                        index -= 1
                    }
                    if index >= 0 {
                        digits[index] += 1
                    } else {
                        digits[0] = 1
                        exponent += 1
                    }
                }
                count = precision
            }
            while count > 1 && digits[count - 1] == 0 { count -= 1 }
            write(digits, count: count, exponent: exponent, precision: precision, to: &output)
        }
    }

    /// Appends `value` in decimal.
    public static func append(_ value: UInt64, to output: inout [UInt8]) {
        var reversed: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 20 digits fit in 24 bytes
        withUnsafeMutableBytes(of: &reversed) { scratch in
            var rest = value
            var count = 0
            repeat {
                scratch[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            while count > 0 {
                count -= 1
                output.append(scratch[count])
            }
        }
    }

    /// Appends `value` in decimal, with `-` when negative.
    public static func append(_ value: Int64, to output: inout [UInt8]) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        append(value.magnitude, to: &output)
    }

    // MARK: Exact expansion

    /// A double's exact expansion has at most 767 significant digits (the
    /// smallest subnormal, 2^-1074, has 751 after its leading zeros); whole
    /// chunks of 9 may overshoot by 8.
    static let maximumDigits = 800
    /// 2^53 * 5^1074 needs 2547 bits: 80 limbs of 32 bits.
    static let maximumLimbs = 84

    static let powersOfTen: [Double] = [
        1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
    ]

    /// Writes every significant decimal digit of the positive finite
    /// `value` (as numbers 0-9, the first non-zero) into `digits`.
    ///
    /// - Returns: The number of digits, and the power of ten of the first:
    ///   `value == d0.d1d2... * 10^exponent`.
    static func exactDigits(of value: Double, into digits: UnsafeMutableBufferPointer<UInt8>) -> (
        count: Int, exponent: Int
    ) {
        // value = significand * 2^binaryExponent, the significand an integer.
        var significand = value.significandBitPattern
        var binaryExponent: Int
        if value.exponentBitPattern == 0 {
            binaryExponent = -1074
        } else {
            significand |= 1 << 52
            binaryExponent = Int(value.exponentBitPattern) - 1075
        }
        let zeros = significand.trailingZeroBitCount
        significand >>= zeros
        binaryExponent += zeros

        return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: maximumLimbs) { limbs in
            var number = BigNumber(limbs: limbs, value: significand)
            // A negative power of two is a power of five over a power of ten:
            // m * 2^-k == m * 5^k / 10^k, so the digits are those of m * 5^k.
            var fractionDigits = 0
            if binaryExponent >= 0 {
                number.shiftLeft(by: binaryExponent)
            } else {
                fractionDigits = -binaryExponent
                var remaining = fractionDigits
                while remaining >= 13 {
                    number.multiply(by: 1_220_703_125)  // 5^13
                    remaining -= 13
                }
                var power: UInt32 = 1
                for _ in 0..<remaining { power *= 5 }
                number.multiply(by: power)
            }
            // Nine digits at a time from the right, into the end of the buffer.
            var start = digits.count
            while !number.isZero {
                var chunk = number.divide(by: 1_000_000_000)
                for _ in 0..<9 {
                    start -= 1
                    digits[start] = UInt8(chunk % 10)
                    chunk /= 10
                }
            }
            while digits[start] == 0 { start += 1 }
            let count = digits.count - start
            for index in 0..<count { digits[index] = digits[start + index] }
            return (count, count - 1 - fractionDigits)
        }
    }

    /// Whether cutting the `count` digits at `position` rounds up: half to
    /// even on the exact value.
    private static func roundsUp(_ digits: UnsafeMutableBufferPointer<UInt8>, count: Int, at position: Int)
        -> Bool
    {
        let first = digits[position]
        if first != 5 { return first > 5 }
        for index in (position + 1)..<count where digits[index] != 0 { return true }
        return digits[position - 1] % 2 == 1
    }

    /// Writes rounded digits in plain or exponent form.
    private static func write(
        _ digits: UnsafeMutableBufferPointer<UInt8>, count: Int, exponent: Int, precision: Int,
        to output: inout [UInt8]
    ) {
        let zero = UInt8(ascii: "0")
        if exponent < -5 || exponent >= precision {
            output.append(zero + digits[0])
            if count > 1 {
                output.append(UInt8(ascii: "."))
                for index in 1..<count { output.append(zero + digits[index]) }
            }
            output.append(UInt8(ascii: "e"))
            output.append(UInt8(ascii: exponent < 0 ? "-" : "+"))
            append(UInt64(exponent.magnitude), to: &output)
        } else if exponent < 0 {
            output.append(zero)
            output.append(UInt8(ascii: "."))
            for _ in 0..<(-exponent - 1) { output.append(zero) }
            for index in 0..<count { output.append(zero + digits[index]) }
        } else {
            for index in 0...exponent { output.append(index < count ? zero + digits[index] : zero) }
            if count > exponent + 1 {
                output.append(UInt8(ascii: "."))
                for index in (exponent + 1)..<count { output.append(zero + digits[index]) }
            }
        }
    }
}

/// A non-negative integer in 32-bit limbs (least significant first), in
/// memory its caller lends: just what the exact expansion needs.
private struct BigNumber {
    let limbs: UnsafeMutableBufferPointer<UInt32>
    var used: Int

    init(limbs: UnsafeMutableBufferPointer<UInt32>, value: UInt64) {
        self.limbs = limbs
        limbs[0] = UInt32(truncatingIfNeeded: value)
        limbs[1] = UInt32(truncatingIfNeeded: value >> 32)
        used = limbs[1] != 0 ? 2 : limbs[0] != 0 ? 1 : 0
    }

    var isZero: Bool { used == 0 }

    mutating func multiply(by factor: UInt32) {
        var carry: UInt64 = 0
        for index in 0..<used {
            let product = UInt64(limbs[index]) * UInt64(factor) + carry
            limbs[index] = UInt32(truncatingIfNeeded: product)
            carry = product >> 32
        }
        if carry != 0 {
            limbs[used] = UInt32(carry)
            used += 1
        }
    }

    mutating func shiftLeft(by bits: Int) {
        let whole = bits / 32
        let part = bits % 32
        var index = used + whole
        limbs[index] = 0
        while index > whole {
            let high = limbs[index - 1 - whole]
            limbs[index] |= part == 0 ? 0 : high >> (32 - part)
            index -= 1
            limbs[index] = high << part
        }
        for low in 0..<whole { limbs[low] = 0 }
        used += whole + 1
        while used > 0 && limbs[used - 1] == 0 { used -= 1 }
    }

    /// Divides in place; returns the remainder.
    mutating func divide(by divisor: UInt32) -> UInt32 {
        var remainder: UInt64 = 0
        var index = used
        while index > 0 {
            index -= 1
            let current = remainder << 32 | UInt64(limbs[index])
            limbs[index] = UInt32(current / UInt64(divisor))
            remainder = current % UInt64(divisor)
        }
        while used > 0 && limbs[used - 1] == 0 { used -= 1 }
        return UInt32(remainder)
    }
}
