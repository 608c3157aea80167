import Foundation
import GRDB
import MediationCore

/// Instants are stored as Unix seconds (REAL): GRDB would format every Date with a DateFormatter, which
/// pages in the ICU data (megabytes of resident memory) and is slow.
extension Date {
    var epoch: Double { timeIntervalSince1970 }
    init(epoch: Double) { self.init(timeIntervalSince1970: epoch) }
}

// Records read their rows through `StoredRow`, column by column (`enum Columns`), strictly: a value the code cannot
// read fails the read, naming table, column and row. Codable row decoding with JSON columns and snake-case key
// conversion cost most of the time of a 2,000-expert listing, so the mapping is written out. Lists are stored as
// `|a|b|` text (one spelling that both SQLite and PostgreSQL can search with LIKE), weekly hours in the roster's
// compact form.

/// Lists of tags in one text column: `|property|family|`, empty list as ``.
enum TagColumn {
    static func encode(_ tags: [String]) -> String { tags.isEmpty ? "" : "|" + tags.joined(separator: "|") + "|" }
    static func decode(_ text: String) -> [String] { text.split(separator: "|").map(String.init) }

    /// A LIKE pattern matching rows whose list holds `tag`, with LIKE's wildcards escaped by `\`.
    static func pattern(_ tag: String) -> String { "%|" + escapeLike(tag) + "|%" }

    /// Text with LIKE's wildcards and the escape character escaped by `\`.
    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}

/// Weekly windows in one text column as `weekday:start-end` in minutes, comma-separated
/// (`1:540-720,3:1140-1260`): read with a byte scanner, because listings read thousands of them.
enum WindowsColumn {
    static func encode(_ windows: [WeeklyWindow]) -> String {
        windows.map { "\($0.weekday.rawValue):\($0.start.minutes)-\($0.end.minutes)" }.joined(separator: ",")
    }

    /// The windows, or nil when the text is not in this form (a window that does not read is never dropped).
    static func decode(_ text: String) -> [WeeklyWindow]? {
        var result: [WeeklyWindow] = []
        guard !text.isEmpty else { return result }
        var numbers: [Int] = []
        var current = 0
        var inNumber = false
        var valid = true
        func flushWindow() {
            if numbers.count == 3, let day = Weekday(rawValue: numbers[0]), let start = TimeOfDay(minutes: numbers[1]),
                let end = TimeOfDay(minutes: numbers[2])
            {
                result.append(WeeklyWindow(weekday: day, start: start, end: end))
            } else {
                valid = false
            }
            numbers.removeAll(keepingCapacity: true)
        }
        for byte in text.utf8 {
            if byte >= 48 && byte <= 57 {
                guard current < 100_000 else { return nil }
                current = current * 10 + Int(byte - 48)
                inNumber = true
                continue
            }
            // Each separator follows a number: `:` after the day, `-` after the start, `,` after the end.
            let expected: UInt8 = numbers.count == 0 ? UInt8(ascii: ":") : numbers.count == 1 ? UInt8(ascii: "-") : 44
            guard inNumber, byte == expected else { return nil }
            numbers.append(current)
            current = 0
            inNumber = false
            if byte == UInt8(ascii: ",") { flushWindow() }
        }
        guard inNumber else { return nil }
        numbers.append(current)
        flushWindow()
        return valid ? result : nil
    }

    /// The form as an error names it.
    static let form = "weekly windows in the form 1:540-720,3:1140-1260 (weekday:start-end in minutes)"
}

/// A row of `office`.
struct OfficeRecord: FetchableRecord, PersistableRecord {
    static let databaseTableName = "office"
    var office: Office
    var createdAt: Date
    var updatedAt: Date

    enum Columns {
        static let id = Column("id")
        static let name = Column("name")
        static let timeZone = Column("time_zone")
        static let address = Column("address")
        static let phone = Column("phone")
        static let workingHours = Column("working_hours")
        static let defaultSessionMinutes = Column("default_session_minutes")
        static let disputePrefix = Column("dispute_prefix")
        static let createdAt = Column("created_at")
        static let updatedAt = Column("updated_at")
    }

    init(_ office: Office, createdAt: Date, updatedAt: Date) {
        self.office = office
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// - Throws: `unavailable` naming the column and the office when a value cannot be read (an unknown zone too:
    ///   an office's zone is required, and never guessed).
    init(row: Row) throws {
        let r = StoredRow(row, table: Self.databaseTableName)
        office = Office(
            id: try r.value(Columns.id), name: try r.value(Columns.name),
            timeZone: try r.zone(Columns.timeZone).identifier, address: try r.optional(Columns.address),
            phone: try r.optional(Columns.phone),
            workingHours: try r.parsed(Columns.workingHours, as: WindowsColumn.form, WindowsColumn.decode),
            defaultSessionMinutes: try r.value(Columns.defaultSessionMinutes),
            disputePrefix: try r.optional(Columns.disputePrefix))
        createdAt = try r.date(Columns.createdAt)
        updatedAt = try r.date(Columns.updatedAt)
    }

    func encode(to container: inout PersistenceContainer) throws {
        container["id"] = office.id
        container["name"] = office.name
        container["time_zone"] = office.timeZone
        container["address"] = office.address
        container["phone"] = office.phone
        container["working_hours"] = WindowsColumn.encode(office.workingHours)
        container["default_session_minutes"] = office.defaultSessionMinutes
        container["dispute_prefix"] = office.disputePrefix
        container["created_at"] = createdAt.epoch
        container["updated_at"] = updatedAt.epoch
    }
}

/// A row of `expert`.
struct ExpertRecord: FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "expert"
    var expert: Expert
    var createdAt: Date
    var updatedAt: Date

    var id: Int64? { expert.id == 0 ? nil : expert.id }

    enum Columns {
        static let id = Column("id")
        static let name = Column("name")
        static let role = Column("role")
        static let specialties = Column("specialties")
        static let languages = Column("languages")
        static let servesAllOffices = Column("serves_all_offices")
        static let offices = Column("offices")
        static let email = Column("email")
        static let mobile = Column("mobile")
        static let wecomUserId = Column("wecom_user_id")
        static let dingtalkMobile = Column("dingtalk_mobile")
        static let preferredChannel = Column("preferred_channel")
        static let timeZone = Column("time_zone")
        static let maxSessionsPerDay = Column("max_sessions_per_day")
        static let maxSessionsPerWeek = Column("max_sessions_per_week")
        static let notes = Column("notes")
        static let active = Column("active")
        static let weeklyHours = Column("weekly_hours")
        static let createdAt = Column("created_at")
        static let updatedAt = Column("updated_at")
    }

    init(_ expert: Expert, createdAt: Date, updatedAt: Date) {
        self.expert = expert
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// - Throws: `unavailable` naming the column and the expert when a value cannot be read.
    init(row: Row) throws {
        let r = StoredRow(row, table: Self.databaseTableName)
        expert = Expert(
            id: try r.value(Columns.id), name: try r.value(Columns.name), role: try r.value(Columns.role),
            specialties: TagColumn.decode(try r.value(Columns.specialties)),
            languages: TagColumn.decode(try r.value(Columns.languages)),
            servesAllOffices: try r.value(Columns.servesAllOffices),
            offices: TagColumn.decode(try r.value(Columns.offices)), email: try r.optional(Columns.email),
            mobile: try r.optional(Columns.mobile), wecomUserId: try r.optional(Columns.wecomUserId),
            dingtalkMobile: try r.optional(Columns.dingtalkMobile),
            preferredChannel: try r.optional(Columns.preferredChannel),
            timeZone: try r.zone(Columns.timeZone).identifier,
            maxSessionsPerDay: try r.value(Columns.maxSessionsPerDay),
            maxSessionsPerWeek: try r.value(Columns.maxSessionsPerWeek), notes: try r.optional(Columns.notes),
            active: try r.value(Columns.active),
            weeklyHours: try r.parsed(Columns.weeklyHours, as: WindowsColumn.form, WindowsColumn.decode))
        createdAt = try r.date(Columns.createdAt)
        updatedAt = try r.date(Columns.updatedAt)
    }

    func encode(to container: inout PersistenceContainer) throws {
        container["id"] = id
        container["name"] = expert.name
        container["role"] = expert.role.rawValue
        container["specialties"] = TagColumn.encode(expert.specialties)
        container["languages"] = TagColumn.encode(expert.languages)
        container["serves_all_offices"] = expert.servesAllOffices
        container["offices"] = TagColumn.encode(expert.offices)
        container["email"] = expert.email
        container["mobile"] = expert.mobile
        container["wecom_user_id"] = expert.wecomUserId
        container["dingtalk_mobile"] = expert.dingtalkMobile
        container["preferred_channel"] = expert.preferredChannel?.rawValue
        container["time_zone"] = expert.timeZone
        container["max_sessions_per_day"] = expert.maxSessionsPerDay
        container["max_sessions_per_week"] = expert.maxSessionsPerWeek
        container["notes"] = expert.notes
        container["active"] = expert.active
        container["weekly_hours"] = WindowsColumn.encode(expert.weeklyHours)
        container["created_at"] = createdAt.epoch
        container["updated_at"] = updatedAt.epoch
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { expert.id = inserted.rowID }
}

/// A row of `expert_time_off` or `expert_extra_availability`: the two tables share a shape.
struct ExpertSpanRecord: FetchableRecord {
    var id: Int64
    var expertId: Int64
    var interval: Interval
    var note: String?

    enum Columns {
        static let id = Column("id")
        static let expertId = Column("expert_id")
        static let startsAt = Column("starts_at")
        static let endsAt = Column("ends_at")
        static let note = Column("note")
    }

    /// The row of `table` (`expert_time_off` or `expert_extra_availability`).
    init(row: Row, table: String) throws {
        let r = StoredRow(row, table: table)
        id = try r.value(Columns.id)
        expertId = try r.value(Columns.expertId)
        interval = Interval(start: try r.date(Columns.startsAt), end: try r.date(Columns.endsAt))
        note = try r.optional(Columns.note)
    }

    init(row: Row) throws { try self.init(row: row, table: "expert_time_off or expert_extra_availability") }
}
