import Foundation

/// The abbreviations (`CET`, `CEST`, `CST`) a compiled tz database file gives its local time types (TZif,
/// RFC 8536), by offset and daylight flag. Foundation on Linux names zones through ICU, which often says only
/// `GMT+1`; calendar clients show TZNAME, so it should be the tz database's.
struct TZifAbbreviations {
    private struct Key: Hashable {
        var offset: Int
        var daylight: Bool
    }

    private var exact: [Key: String] = [:]
    private var byOffset: [Int: String] = [:]

    /// Nil when `data` is not a TZif file.
    init?(data: Data) {
        let bytes = [UInt8](data)
        guard bytes.count >= 44, bytes[0..<4].elementsEqual("TZif".utf8) else { return nil }
        guard var block = Self.dataBlock(bytes, at: 0, timeSize: 4) else { return nil }
        // Version 2 and later repeat the data with 64-bit times after the first block; prefer it, since files built
        // with `zic -b slim` leave the first block empty.
        if bytes[4] >= UInt8(ascii: "2"), let second = Self.dataBlock(bytes, at: block.end, timeSize: 8) {
            block = second
        }
        var types: [(offset: Int, daylight: Bool, name: String)] = []
        for index in 0..<block.typeCount {
            let at = block.types + index * 6
            let raw = Self.uint32(bytes, at)
            let nameStart = block.names + Int(bytes[at + 5])
            guard nameStart < block.names + block.nameCount else { return nil }
            let nameEnd =
                bytes[nameStart..<(block.names + block.nameCount)].firstIndex(of: 0) ?? (block.names + block.nameCount)
            types.append(
                (
                    Int(Int32(bitPattern: raw)), bytes[at + 4] != 0,
                    String(decoding: bytes[nameStart..<nameEnd], as: UTF8.self)
                ))
        }
        // Later uses win: the names in force recently are the ones to show (Europe/London was "BST" in winter once).
        let order = Array(0..<types.count) + (0..<block.transitionCount).map { Int(bytes[block.transitionTypes + $0]) }
        for index in order where index < types.count {
            let type = types[index]
            exact[Key(offset: type.offset, daylight: type.daylight)] = type.name
            byOffset[type.offset] = type.name
        }
    }

    /// The abbreviation for a local time type; nil when the file has none for that offset, or only a numeric one.
    func name(offset: Int, daylight: Bool) -> String? {
        guard let name = exact[Key(offset: offset, daylight: daylight)] ?? byOffset[offset],
            name.first?.isLetter == true
        else { return nil }
        return name
    }

    private struct Block {
        var transitionCount: Int
        var transitionTypes: Int
        var typeCount: Int
        var types: Int
        var nameCount: Int
        var names: Int
        var end: Int
    }

    /// The layout of the header at `start` and the data block after it; nil when it does not fit in `bytes`.
    private static func dataBlock(_ bytes: [UInt8], at start: Int, timeSize: Int) -> Block? {
        guard start >= 0, start + 44 <= bytes.count, bytes[start..<start + 4].elementsEqual("TZif".utf8) else {
            return nil
        }
        func count(_ field: Int) -> Int {
            Int(uint32(bytes, start + 20 + field * 4))
        }
        let (utcCount, standardCount, leapCount) = (count(0), count(1), count(2))
        let (transitionCount, typeCount, nameCount) = (count(3), count(4), count(5))
        let transitionTypes = start + 44 + transitionCount * timeSize
        let types = transitionTypes + transitionCount
        let names = types + typeCount * 6
        let end = names + nameCount + leapCount * (timeSize + 4) + standardCount + utcCount
        guard end <= bytes.count else { return nil }
        return Block(
            transitionCount: transitionCount, transitionTypes: transitionTypes, typeCount: typeCount, types: types,
            nameCount: nameCount, names: names, end: end)
    }

    /// The big-endian 32-bit number at `at`; the caller has checked that four bytes are there.
    private static func uint32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        bytes[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
