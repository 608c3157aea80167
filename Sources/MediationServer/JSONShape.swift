/// A cheap look at a JSON body before a decoder sees it: the bytes must be UTF-8, and arrays and objects may
/// nest only so deep (a decoder recurses once per level, so 10,000 levels would cost its stack).
enum JSONShape {
    /// What is wrong with the body, in words a person can act on, or nil when it may be decoded.
    ///
    /// For example:
    /// ```swift
    /// JSONShape.problem(Array("[[[]]]".utf8), maxDepth: 2)  // "arrays and objects nest 3 levels deep; …"
    /// ```
    static func problem<Bytes: Collection<UInt8>>(_ bytes: Bytes, maxDepth: Int) -> String? {
        if let offset = invalidUTF8Offset(bytes) {
            return "byte \(offset) is not UTF-8; send the text encoded as UTF-8"
        }
        var depth = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maxDepth {
                    return "arrays and objects nest more than \(maxDepth) levels deep; the API's documents nest a few"
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return nil
    }

    /// The offset of the first byte that does not belong to a well-formed UTF-8 sequence.
    static func invalidUTF8Offset<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Int? {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}
