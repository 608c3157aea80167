import Foundation

/// RFC 4180 reading and writing, with the line number where each record starts.
public enum CSV {
    /// One record and the physical line it starts on (1-based, header included).
    public struct Record: Sendable, Equatable {
        public var line: Int
        public var fields: [String]
    }

    /// Decodes UTF-8 (with or without a BOM).
    ///
    /// - Throws: `invalidInput` naming the line of the first byte that is not UTF-8.
    public static func decodeUTF8(_ bytes: [UInt8]) throws -> String {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        if let text = String(validating: body, as: UTF8.self) { return text }
        // Find the first bad byte by decoding line by line.
        var line = 1
        var start = body.startIndex
        for index in body.indices where body[index] == 0x0A {
            if String(validating: body[start..<index], as: UTF8.self) == nil { break }
            line += 1
            start = index + 1
        }
        let en =
            "line \(line): the file is not UTF-8 text; save it as 'CSV UTF-8' (in Excel: Save As → CSV UTF-8; in WPS: "
            + "另存为 CSV UTF-8) and import again"
        throw MediationError(
            .invalidInput, en, details: ["line \(line): not UTF-8"],
            fields: [
                FieldProblem(
                    field: String(line), en: en,
                    zh: "第 \(line) 行起不是 UTF-8 编码（多半是 Excel 默认的 ANSI/GBK）：请在 Excel 中“另存为 → CSV UTF-8（逗号分隔）”，"
                        + "或在 WPS 中“另存为 CSV UTF-8”，再重新选择文件")
            ])
    }

    /// Splits text into records.
    ///
    /// - Throws: `invalidInput` for a quote that is never closed, naming the line where it opened.
    public static func parse(_ text: String) throws -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var quoteLine = 1
        var chars = Array(text.unicodeScalars)[...]
        var fieldStarted = false
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].trimmingWhitespace().isEmpty) {
                records.append(Record(line: recordLine, fields: fields))
            }
            fields = []
            field = ""
            fieldStarted = false
        }
        while let c = chars.popFirst() {
            if inQuotes {
                if c == "\"" {
                    if chars.first == "\"" {
                        chars.removeFirst()
                        field.unicodeScalars.append("\"")
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where !fieldStarted || field.isEmpty:
                inQuotes = true
                quoteLine = line
                fieldStarted = true
            case ",":
                fields.append(field)
                field = ""
                fieldStarted = false
            case "\r":
                if chars.first == "\n" { chars.removeFirst() }
                endRecord()
                line += 1
                recordLine = line
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            default:
                field.unicodeScalars.append(c)
                fieldStarted = true
            }
        }
        if inQuotes {
            let en = "line \(quoteLine): a quoted field is never closed; add the closing \" or remove the opening one"
            throw MediationError(
                .invalidInput, en, details: ["line \(quoteLine): unclosed quote"],
                fields: [
                    FieldProblem(
                        field: String(quoteLine), en: en, zh: "第 \(quoteLine) 行有一个引号没有闭合，请补上后面的 \" 或删去前面的 \"")
                ])
        }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }

    /// Quotes a field when it holds a comma, quote or line break.
    public static func escape(_ field: String) -> String {
        // Scalars, not Characters: "\r\n" is one Character that equals neither "\r" nor "\n".
        guard field.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else {
            return field
        }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Lines joined with CRLF, as spreadsheets expect.
    public static func write(_ rows: [[String]]) -> String {
        rows.map { $0.map(escape).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }
}
