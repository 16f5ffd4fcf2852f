// The Date field's format: IMF-fixdate, RFC 9110 section 5.6.7
// ("Sun, 06 Nov 1994 08:49:37 GMT"), always in UTC.

/// Formats times for the Date field.
public enum HTTPDate {
    /// `secondsSince1970` (UTC) as an IMF-fixdate.
    public static func format(secondsSince1970: UInt64) -> String {
        let days = Int(secondsSince1970 / 86_400)
        let secondOfDay = Int(secondsSince1970 % 86_400)
        let (year, month, day) = civilDate(daysSince1970: days)
        // 1970-01-01 was a Thursday.
        let weekdays: StaticString = "ThuFriSatSunMonTueWed"
        let months: StaticString = "JanFebMarAprMayJunJulAugSepOctNovDec"
        var bytes: [UInt8] = []
        bytes.reserveCapacity(29)
        let weekday = days % 7
        bytes.append(contentsOf: UnsafeBufferPointer(start: weekdays.utf8Start + 3 * weekday, count: 3))
        appendLiteral(", ", to: &bytes)
        appendTwoDigits(day, to: &bytes)
        bytes.append(ASCII.space)
        bytes.append(contentsOf: UnsafeBufferPointer(start: months.utf8Start + 3 * (month - 1), count: 3))
        bytes.append(ASCII.space)
        appendDecimal(year, to: &bytes)
        bytes.append(ASCII.space)
        appendTwoDigits(secondOfDay / 3600, to: &bytes)
        bytes.append(ASCII.colon)
        appendTwoDigits(secondOfDay / 60 % 60, to: &bytes)
        bytes.append(ASCII.colon)
        appendTwoDigits(secondOfDay % 60, to: &bytes)
        appendLiteral(" GMT", to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Year, month (1...12) and day (1...31) of a day counted from
    /// 1970-01-01 in the proleptic Gregorian calendar: days are counted in
    /// 400-year eras starting on March 1st, so the leap day ends a year.
    static func civilDate(daysSince1970: Int) -> (year: Int, month: Int, day: Int) {
        // 719,468 days from 0000-03-01 to 1970-01-01; an era is 146,097 days.
        let shifted = daysSince1970 + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func appendTwoDigits(_ value: Int, to bytes: inout [UInt8]) {
        bytes.append(ASCII.zero + UInt8(value / 10 % 10))
        bytes.append(ASCII.zero + UInt8(value % 10))
    }
}
