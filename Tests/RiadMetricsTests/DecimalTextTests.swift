import Foundation
import XCTest

@testable import RiadMetrics

/// The decimal formatter: exact rounding, both notations, edge values, and
/// agreement with the C library's correctly rounded printf on random
/// doubles.
final class DecimalTextTests: XCTestCase {
    private func text(_ value: Double, _ digits: Int = 15) -> String {
        var output: [UInt8] = []
        DecimalText.append(value, significantDigits: digits, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    func testSimpleValues() {
        XCTAssertEqual(text(0), "0")
        XCTAssertEqual(text(-0.0), "-0")
        XCTAssertEqual(text(1), "1")
        XCTAssertEqual(text(-1), "-1")
        XCTAssertEqual(text(42), "42")
        XCTAssertEqual(text(0.1), "0.1")
        XCTAssertEqual(text(0.005), "0.005")
        XCTAssertEqual(text(0.25), "0.25")
        XCTAssertEqual(text(1.5), "1.5")
        XCTAssertEqual(text(-1234.5), "-1234.5")
        XCTAssertEqual(text(2.5), "2.5")
        XCTAssertEqual(text(10), "10")
    }

    func testFifteenDigitsHideBinaryNoiseAndSeventeenKeepIt() {
        XCTAssertEqual(text(0.1 + 0.2), "0.3")
        XCTAssertEqual(text(0.1 + 0.2, 17), "0.30000000000000004")
        XCTAssertEqual(text(1.0000000000000002), "1")
        XCTAssertEqual(text(1.0000000000000002, 17), "1.0000000000000002")
        XCTAssertEqual(text(0.1, 17), "0.10000000000000001")
        XCTAssertEqual(text(0.1, 20), "0.10000000000000001", "precision is capped at 17")
    }

    func testPlainAndExponentNotation() {
        XCTAssertEqual(text(123_456_789_012_345), "123456789012345")
        XCTAssertEqual(text(1e15), "1e+15")
        XCTAssertEqual(text(1_234_567_890_123_456_789), "1.23456789012346e+18")
        XCTAssertEqual(text(0.00001), "0.00001")
        XCTAssertEqual(text(0.000012345), "0.000012345")
        XCTAssertEqual(text(0.000001), "1e-6")
        XCTAssertEqual(text(1.5e-7), "1.5e-7")
        XCTAssertEqual(text(2.5e300), "2.5e+300")
        XCTAssertEqual(text(1e22), "1e+22")
        XCTAssertEqual(text(-3e-20), "-3e-20")
        XCTAssertEqual(text(1_234_567, 6), "1.23457e+6")
        XCTAssertEqual(text(123456, 6), "123456")
    }

    func testExtremes() {
        XCTAssertEqual(text(.greatestFiniteMagnitude), "1.79769313486232e+308")
        XCTAssertEqual(text(.greatestFiniteMagnitude, 17), "1.7976931348623157e+308")
        XCTAssertEqual(text(.leastNormalMagnitude), "2.2250738585072e-308")
        XCTAssertEqual(text(.leastNonzeroMagnitude), "4.94065645841247e-324")
        XCTAssertEqual(text(.leastNonzeroMagnitude, 1), "5e-324")
        XCTAssertEqual(text(Double(UInt64.max)), "1.84467440737096e+19")
        XCTAssertEqual(text(9_007_199_254_740_993), "9.00719925474099e+15")
    }

    func testNonFiniteValuesInPrometheusSpelling() {
        XCTAssertEqual(text(.nan), "NaN")
        XCTAssertEqual(text(-.nan), "NaN")
        XCTAssertEqual(text(.infinity), "+Inf")
        XCTAssertEqual(text(-.infinity), "-Inf")
    }

    func testRoundingIsHalfToEvenOnTheExactValue() {
        // Exact ties: 2.5, 3.5, 0.125 and 0.375 are binary fractions.
        XCTAssertEqual(text(2.5, 1), "2")
        XCTAssertEqual(text(3.5, 1), "4")
        XCTAssertEqual(text(0.125, 2), "0.12")
        XCTAssertEqual(text(0.375, 2), "0.38")
        // Not ties: 0.15 is 0.1499999999999999944..., 0.35 is 0.34999999999999997779...
        XCTAssertEqual(text(0.15, 1), "0.1")
        XCTAssertEqual(text(0.35, 1), "0.3")
        // 2.675 is 2.67499999999999982236431605997495353221893310546875.
        XCTAssertEqual(text(2.675, 3), "2.67")
        // A carry through every digit adds one to the exponent.
        XCTAssertEqual(text(999_999.5, 6), "1e+6")
        XCTAssertEqual(text(9.9999999999999999e-6, 15), "0.00001")
        XCTAssertEqual(text(0.99999999999999989), "1")
    }

    func testIntegers() {
        func text(_ value: UInt64) -> String {
            var output: [UInt8] = []
            DecimalText.append(value, to: &output)
            return String(decoding: output, as: UTF8.self)
        }
        func text(_ value: Int64) -> String {
            var output: [UInt8] = []
            DecimalText.append(value, to: &output)
            return String(decoding: output, as: UTF8.self)
        }
        XCTAssertEqual(text(UInt64(0)), "0")
        XCTAssertEqual(text(UInt64(7)), "7")
        XCTAssertEqual(text(UInt64.max), "18446744073709551615")
        XCTAssertEqual(text(Int64.min), "-9223372036854775808")
        XCTAssertEqual(text(Int64(-42)), "-42")
    }

    /// Digits without leading or trailing zeros, and the power of ten of the
    /// first: "0.005" is ("5", -3), "1.5e+20" is ("15", 20).
    private func normalised(_ text: String) -> (String, Int) {
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...])!
        }
        if mantissa.first == "-" { mantissa = mantissa.dropFirst() }
        let point = mantissa.firstIndex(of: ".") ?? mantissa.endIndex
        let integerDigits = mantissa.distance(from: mantissa.startIndex, to: point)
        var digits = mantissa.filter { $0 != "." }
        var leading = 0
        while digits.first == "0" {
            digits.removeFirst()
            leading += 1
        }
        while digits.last == "0" { digits.removeLast() }
        return (digits, exponent + integerDigits - leading - 1)
    }

    func testAgreesWithPrintfOnRandomDoubles() {
        var generator = SplitMix64(seed: 0x5eed)
        for round in 0..<20_000 {
            // Random bit patterns cover every exponent, subnormals included;
            // every fourth value is a "human" decimal.
            var value = Double(bitPattern: generator.next() & ~(1 << 63))
            if round % 4 == 0 { value = Double(generator.next() % 1_000_000) / 1000 }
            guard value.isFinite, value != 0 else { continue }
            for digits in [6, 15, 17] {
                let ours = text(value, digits)
                let reference = String(format: "%.\(digits - 1)e", value)
                XCTAssertTrue(
                    normalised(ours) == normalised(reference),
                    "\(value.bitPattern): ours \(ours), printf \(reference)")
                if digits == 17 { XCTAssertEqual(Double(ours), value, "17 digits round-trip") }
            }
        }
    }
}

/// A small seeded generator, so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
