import Foundation
import GRDB
import MediationCore

/// A row of `office`.
struct OfficeRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "office"
    var id: String
    var name: String
    var timeZone: String
    var address: String?
    var phone: String?
    var workingHours: [WeeklyWindow]
    var defaultSessionMinutes: Int
    var createdAt: Date
    var updatedAt: Date

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let name = Column(CodingKeys.name)
    }

    static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    init(_ o: Office, createdAt: Date, updatedAt: Date) {
        id = o.id
        name = o.name
        timeZone = o.timeZone
        address = o.address
        phone = o.phone
        workingHours = o.workingHours
        defaultSessionMinutes = o.defaultSessionMinutes
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    var office: Office {
        Office(
            id: id, name: name, timeZone: timeZone, address: address, phone: phone, workingHours: workingHours,
            defaultSessionMinutes: defaultSessionMinutes)
    }
}

/// A row of `expert`.
struct ExpertRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "expert"
    var id: Int64?
    var name: String
    var role: String
    var specialties: [String]
    var languages: [String]
    var servesAllOffices: Bool
    var offices: [String]
    var email: String?
    var mobile: String?
    var wecomUserId: String?
    var dingtalkMobile: String?
    var preferredChannel: String?
    var timeZone: String
    var maxSessionsPerDay: Int
    var maxSessionsPerWeek: Int
    var notes: String?
    var active: Bool
    var weeklyHours: [WeeklyWindow]
    var createdAt: Date
    var updatedAt: Date

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let name = Column(CodingKeys.name)
        static let role = Column(CodingKeys.role)
        static let mobile = Column("mobile")
        static let email = Column("email")
        static let active = Column(CodingKeys.active)
    }

    static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    init(_ e: Expert, createdAt: Date, updatedAt: Date) {
        id = e.id == 0 ? nil : e.id
        name = e.name
        role = e.role.rawValue
        specialties = e.specialties
        languages = e.languages
        servesAllOffices = e.servesAllOffices
        offices = e.offices
        email = e.email
        mobile = e.mobile
        wecomUserId = e.wecomUserId
        dingtalkMobile = e.dingtalkMobile
        preferredChannel = e.preferredChannel?.rawValue
        timeZone = e.timeZone
        maxSessionsPerDay = e.maxSessionsPerDay
        maxSessionsPerWeek = e.maxSessionsPerWeek
        notes = e.notes
        active = e.active
        weeklyHours = e.weeklyHours
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    var expert: Expert {
        Expert(
            id: id ?? 0, name: name, role: ExpertRole(rawValue: role) ?? .lawyer, specialties: specialties,
            languages: languages, servesAllOffices: servesAllOffices, offices: offices, email: email, mobile: mobile,
            wecomUserId: wecomUserId, dingtalkMobile: dingtalkMobile,
            preferredChannel: preferredChannel.flatMap(ContactChannel.init(rawValue:)), timeZone: timeZone,
            maxSessionsPerDay: maxSessionsPerDay, maxSessionsPerWeek: maxSessionsPerWeek, notes: notes, active: active,
            weeklyHours: weeklyHours)
    }
}

/// A row of `expert_time_off` or `expert_extra_availability`: the two tables share a shape.
struct ExpertSpanRecord: Codable, FetchableRecord {
    var id: Int64?
    var expertId: Int64
    var startsAt: Date
    var endsAt: Date
    var note: String?
    var createdAt: Date

    static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase

    var interval: Interval { Interval(start: startsAt, end: endsAt) }
}
