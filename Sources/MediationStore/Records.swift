import Foundation
import GRDB
import MediationCore

/// Instants are stored as Unix seconds (REAL): GRDB would format every Date with a DateFormatter, which
/// pages in the ICU data (megabytes of resident memory) and is slow.
extension Date {
    var epoch: Double { timeIntervalSince1970 }
    init(epoch: Double) { self.init(timeIntervalSince1970: epoch) }
}

extension Row {
    func date(_ column: String) -> Date { Date(epoch: self[column]) }
    func optionalDate(_ column: String) -> Date? { (self[column] as Double?).map(Date.init(epoch:)) }
}

// Records map rows by hand: Codable row decoding with JSON columns and snake-case key conversion cost
// most of the time of a 2,000-expert listing. Lists are stored as `|a|b|` text (one spelling that both
// SQLite and PostgreSQL can search with LIKE), weekly hours in the roster's compact form.

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

    static func decode(_ text: String) -> [WeeklyWindow] {
        var result: [WeeklyWindow] = []
        var numbers: [Int] = []
        var current = 0
        var inNumber = false
        func flushWindow() {
            if numbers.count == 3, let day = Weekday(rawValue: numbers[0]), let start = TimeOfDay(minutes: numbers[1]),
                let end = TimeOfDay(minutes: numbers[2])
            {
                result.append(WeeklyWindow(weekday: day, start: start, end: end))
            }
            numbers.removeAll(keepingCapacity: true)
        }
        for byte in text.utf8 {
            if byte >= 48 && byte <= 57 {
                current = current * 10 + Int(byte - 48)
                inNumber = true
                continue
            }
            if inNumber { numbers.append(current) }
            current = 0
            inNumber = false
            if byte == UInt8(ascii: ",") { flushWindow() }
        }
        if inNumber { numbers.append(current) }
        flushWindow()
        return result
    }
}

/// A row of `office`.
struct OfficeRecord: FetchableRecord, PersistableRecord {
    static let databaseTableName = "office"
    var office: Office
    var createdAt: Date
    var updatedAt: Date

    enum Columns {
        static let id = Column("id")
    }

    init(_ office: Office, createdAt: Date, updatedAt: Date) {
        self.office = office
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    init(row: Row) throws {
        office = Office(
            id: row["id"], name: row["name"], timeZone: row["time_zone"], address: row["address"],
            phone: row["phone"], workingHours: WindowsColumn.decode(row["working_hours"]),
            defaultSessionMinutes: row["default_session_minutes"], disputePrefix: row["dispute_prefix"])
        createdAt = row.date("created_at")
        updatedAt = row.date("updated_at")
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
        static let mobile = Column("mobile")
        static let email = Column("email")
        static let active = Column("active")
    }

    init(_ expert: Expert, createdAt: Date, updatedAt: Date) {
        self.expert = expert
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    init(row: Row) throws {
        let roleText: String = row["role"]
        let channel: String? = row["preferred_channel"]
        expert = Expert(
            id: row["id"], name: row["name"], role: ExpertRole(rawValue: roleText) ?? .lawyer,
            specialties: TagColumn.decode(row["specialties"]), languages: TagColumn.decode(row["languages"]),
            servesAllOffices: row["serves_all_offices"], offices: TagColumn.decode(row["offices"]),
            email: row["email"], mobile: row["mobile"], wecomUserId: row["wecom_user_id"],
            dingtalkMobile: row["dingtalk_mobile"], preferredChannel: channel.flatMap(ContactChannel.init(rawValue:)),
            timeZone: row["time_zone"], maxSessionsPerDay: row["max_sessions_per_day"],
            maxSessionsPerWeek: row["max_sessions_per_week"], notes: row["notes"], active: row["active"],
            weeklyHours: WindowsColumn.decode(row["weekly_hours"]))
        createdAt = row.date("created_at")
        updatedAt = row.date("updated_at")
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

    init(row: Row) throws {
        id = row["id"]
        expertId = row["expert_id"]
        interval = Interval(start: row.date("starts_at"), end: row.date("ends_at"))
        note = row["note"]
    }
}
