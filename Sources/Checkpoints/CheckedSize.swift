/// Arithmetic on sizes, offsets and counts read from a file. A hostile or corrupt file can
/// declare any number; a plain `*` or `+` on it traps the whole program. These return a
/// `FormatError` naming the field instead.
enum CheckedSize {
    /// `count · width`, refusing negative values and overflow.
    static func product(_ count: Int, _ width: Int, field: @autoclosure () -> String) throws -> Int {
        guard count >= 0, width >= 0 else { throw FormatError("\(field()) is negative (\(count))") }
        let (value, overflow) = count.multipliedReportingOverflow(by: width)
        guard !overflow else { throw FormatError("\(field()) is absurdly large (\(count) × \(width) overflows)") }
        return value
    }

    /// `a + b`, refusing negative values and overflow.
    static func sum(_ a: Int, _ b: Int, field: @autoclosure () -> String) throws -> Int {
        guard a >= 0, b >= 0 else { throw FormatError("\(field()) is negative") }
        let (value, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw FormatError("\(field()) is absurdly large (\(a) + \(b) overflows)") }
        return value
    }
}
