import Foundation
import GRDB
import MediationCore

/// One stored row, read strictly: every value is read as the type the code needs, or the read fails with an error
/// naming the table, the column and the row. The store never turns a value it cannot read into a default (an
/// unknown outbox status read as `pending` would send a message again; an unknown role read as `lawyer` would
/// invent a lawyer).
///
/// For example:
/// ```swift
/// let row = StoredRow(row, table: "outbox_message")
/// let status: OutboxStatus = try row.value(Columns.status)   // 'bogus' → unavailable, naming table, column, row
/// let sent: Date? = try row.optionalDate(Columns.sentAt)
/// let channel: String? = try row.optional(Columns.channel)
/// ```
struct StoredRow {
    let row: Row
    let table: String
    /// How an error names the row when its own columns cannot (a row joined from several tables).
    let key: String?

    init(_ row: Row, table: String, key: String? = nil) {
        self.row = row
        self.table = table
        self.key = key
    }

    /// The value of `column` (text, an integer, a real, a boolean), of exactly the stored type: an integer column
    /// holding text is not read as 0.
    ///
    /// - Throws: `unavailable` naming table, column and row when the value is NULL or of another type.
    func value<T: DatabaseValueConvertible>(_ column: Column) throws -> T {
        let stored = try stored(column)
        guard let value = T.fromDatabaseValue(stored) else { throw unreadable(column, stored, expected: T.self) }
        return value
    }

    /// The value of `column`, or nil for NULL.
    ///
    /// - Throws: `unavailable` naming table, column and row when the value is of another type.
    func optional<T: DatabaseValueConvertible>(_ column: Column) throws -> T? {
        let stored = try stored(column)
        if stored.isNull { return nil }
        guard let value = T.fromDatabaseValue(stored) else { throw unreadable(column, stored, expected: T.self) }
        return value
    }

    private func stored(_ column: Column) throws -> DatabaseValue {
        do { return try row.decode(DatabaseValue.self, forColumn: column.name) } catch {
            throw failure(column, "is missing from what was read", fix: nil)
        }
    }

    /// One of the code's named values (a status, a role, a kind).
    ///
    /// - Throws: `unavailable` naming table, column, row and the values this build knows.
    func value<T: RawRepresentable & CaseIterable>(_ column: Column) throws -> T where T.RawValue == String {
        let text: String = try value(column)
        guard let known = T(rawValue: text) else { throw unknown(column, text, known: T.allCases.map(\.rawValue)) }
        return known
    }

    /// One of the code's named values, or nil for NULL.
    func optional<T: RawRepresentable & CaseIterable>(_ column: Column) throws -> T? where T.RawValue == String {
        guard let text: String = try optional(column) else { return nil }
        guard let known = T(rawValue: text) else { throw unknown(column, text, known: T.allCases.map(\.rawValue)) }
        return known
    }

    /// An instant stored as Unix seconds.
    func date(_ column: Column) throws -> Date { Date(epoch: try value(column) as Double) }

    /// An instant stored as Unix seconds, or nil for NULL.
    func optionalDate(_ column: Column) throws -> Date? { (try optional(column) as Double?).map(Date.init(epoch:)) }

    /// An IANA zone name, checked: a zone this system does not know is unreadable, never replaced by another.
    func zone(_ column: Column) throws -> Zone {
        let name: String = try value(column)
        guard let zone = try? Zone(name) else {
            throw failure(
                column,
                "holds the time zone '\(Self.shown(name))', which this system's time zone database does not know",
                fix: "set it to an IANA name such as Asia/Shanghai")
        }
        return zone
    }

    /// A value of `column` written in one of the store's compact forms (windows, requirements), parsed by `parse`,
    /// which answers nil when the text is not in that form.
    func parsed<T>(_ column: Column, as what: String, _ parse: (String) -> T?) throws -> T {
        let text: String = try value(column)
        guard let value = parse(text) else {
            throw failure(column, "holds '\(Self.shown(text))', which is not \(what)", fix: nil)
        }
        return value
    }

    // MARK: Errors

    /// The row as a person finds it again: its id, or its key columns (`session_id 3, expert_id 5`).
    var rowName: String {
        if let key { return key }
        func shown(_ name: String) -> String? {
            switch (row[name] as DatabaseValue).storage {
            case .int64(let id): "\(id)"
            case .string(let id): "'\(Self.shown(id))'"
            default: nil
            }
        }
        if row.hasColumn("id"), let id = shown("id") { return "row id \(id)" }
        let keys = row.columnNames.filter { $0.hasSuffix("_id") }.compactMap { name in
            shown(name).map { "\(name) \($0)" }
        }
        return keys.isEmpty ? "a row" : "the row with " + keys.joined(separator: ", ")
    }

    private func unreadable(_ column: Column, _ value: DatabaseValue, expected: Any.Type) -> MediationError {
        let stored: String
        switch value.storage {
        case .null: stored = "is empty (NULL)"
        case .int64: stored = "holds an integer"
        case .double: stored = "holds a real number"
        case .string: stored = "holds text"
        case .blob: stored = "holds a blob"
        }
        return failure(column, "\(stored) where \(Self.describe(expected)) is expected", fix: nil)
    }

    private func unknown(_ column: Column, _ text: String, known: [String]) -> MediationError {
        failure(
            column,
            "holds '\(Self.shown(text))', which this version does not know (it knows "
                + known.joined(separator: ", ") + ")",
            fix: "set it to one of those")
    }

    /// The error for a stored value the code cannot read: what is stored where, and what to do.
    private func failure(_ column: Column, _ what: String, fix: String?) -> MediationError {
        .unavailable(
            "the store cannot be read: in table \(table), column \(column.name) of \(rowName) \(what). "
                + "It was written by another version of mediationd or changed by hand; "
                + (fix.map { "\($0) (with sqlite3 while the daemon is stopped), or restore a backup" }
                    ?? "correct it with sqlite3 while the daemon is stopped, or restore a backup"))
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "text"
        case is Bool.Type: "true or false"
        case is Double.Type: "a number"
        default: "an integer"
        }
    }

    /// A stored text as an error shows it: short, one line.
    private static func shown(_ text: String) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return line.count > 40 ? String(line.prefix(40)) + "…" : line
    }
}
