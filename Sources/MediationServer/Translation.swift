import Foundation
import MediationAPI
import MediationCore

/// API types ⇄ core types. Core validates; this file only reshapes.
enum Wire {
    static func window(_ w: WeeklyWindow) -> Components.Schemas.WeeklyWindow {
        .init(weekday: w.weekday.code, start: w.start.description, end: w.end.description)
    }

    /// Weekly hours given either as a list (`field`) or as text a person wrote (`hours`: `mon-fri 09:00-12:00`),
    /// read by Core's one parser; both at once, or empty text, is refused.
    static func windows(_ list: [Components.Schemas.WeeklyWindow]?, text: String?, field: String) throws
        -> [WeeklyWindow]?
    {
        guard let text else { return try windows(list, field: field) }
        guard list == nil else {
            throw MediationError.invalidInput(
                "give the hours once: either \(field) or hours", hint: "hours takes text such as 'mon-fri 09:00-12:00'")
        }
        guard Text.nonEmpty(text) != nil else {
            throw MediationError.invalidInput(
                "hours is empty", hint: "give hours such as 'mon 09:00-12:00', or an empty \(field) list to clear them")
        }
        return try Intake.hours(text)
    }

    /// Weekly hours as people read them, `mon-fri 09:00-12:00` (`周一 09:00-12:00；…` for a Chinese caller), or `-`
    /// when there are none.
    static func hoursText(_ windows: [WeeklyWindow]) -> String {
        windows.isEmpty ? "-" : Words.hours(windows, ReplyLanguage.current)
    }

    static func windows(_ list: [Components.Schemas.WeeklyWindow]?, field: String) throws -> [WeeklyWindow]? {
        guard let list else { return nil }
        var problems = Problems()
        var result: [WeeklyWindow] = []
        for (i, w) in list.enumerated() {
            let day = Weekday(parsing: w.weekday)
            let start = TimeOfDay(parsing: w.start)
            let end = TimeOfDay(parsing: w.end)
            if day == nil {
                problems.add("\(field)[\(i)]: weekday '\(w.weekday)' is not mon, tue, wed, thu, fri, sat or sun")
            }
            if start == nil { problems.add("\(field)[\(i)]: start '\(w.start)' is not a time HH:MM") }
            if end == nil { problems.add("\(field)[\(i)]: end '\(w.end)' is not a time HH:MM") }
            if let day, let start, let end { result.append(WeeklyWindow(weekday: day, start: start, end: end)) }
        }
        try problems.check(field)
        return result
    }

    static func office(_ o: Office) -> Components.Schemas.Office {
        .init(
            id: o.id, name: o.name, timeZone: o.timeZone, address: o.address, phone: o.phone,
            workingHours: o.workingHours.map(window), hoursText: hoursText(o.workingHours),
            defaultSessionMinutes: o.defaultSessionMinutes,
            disputePrefix: o.numberPrefix)
    }

    /// An expert as the API shows them: mobiles masked unless the caller asked to reveal them (and may).
    static func expert(_ expert: Expert, reveal: Bool) -> Components.Schemas.Expert {
        let e = reveal ? expert : expert.masked()
        return .init(
            id: e.id, name: e.name, role: .init(e.role), roleName: e.role.chinese, specialties: e.specialties,
            languages: e.languages, servesAllOffices: e.servesAllOffices, offices: e.offices, email: e.email,
            mobile: e.mobile, wecomUserId: e.wecomUserId, dingtalkMobile: e.dingtalkMobile,
            preferredChannel: e.preferredChannel.map { .init($0) }, timeZone: e.timeZone,
            maxSessionsPerDay: e.maxSessionsPerDay, maxSessionsPerWeek: e.maxSessionsPerWeek, notes: e.notes,
            active: e.active, weeklyHours: e.weeklyHours.map(window), hoursText: hoursText(e.weeklyHours))
    }

    /// An expert in a listing: the mobile masked unless the caller asked to reveal it (and may).
    static func summary(_ expert: Expert, reveal: Bool) -> Components.Schemas.ExpertSummary {
        let e = reveal ? expert : expert.masked()
        return .init(
            id: e.id, name: e.name, role: .init(e.role), roleName: e.role.chinese, specialties: e.specialties,
            languages: e.languages, servesAllOffices: e.servesAllOffices, offices: e.offices, email: e.email,
            mobile: e.mobile, timeZone: e.timeZone, active: e.active,
            weeklyMinutes: e.weeklyHours.reduce(0) { $0 + $1.end.minutes - $1.start.minutes })
    }

    static func role(_ text: String) throws -> ExpertRole {
        guard let role = ExpertRole(parsing: text) else {
            throw MediationError.invalidInput("role '\(text)' is unknown", hint: "use one of \(ExpertRole.choices)")
        }
        return role
    }

    static func channel(_ text: String?) throws -> ContactChannel? {
        guard let text = Text.nonEmpty(text) else { return nil }
        guard let channel = ContactChannel(parsing: text) else {
            throw MediationError.invalidInput(
                "preferred channel '\(text)' is unknown", hint: "use email, sms, wecom or dingtalk")
        }
        return channel
    }

    /// `["all"]` (or 全部) means every office; an item may hold several ids as a person writes them (`a, b`).
    static func offices(_ list: [String]) -> (all: Bool, ids: [String]) {
        let ids = list.flatMap(Text.splitList)
        let all = ids.contains { ["all", "*", "全部"].contains($0.lowercased()) }
        return (all, all ? [] : ids)
    }

    /// Specialties or languages: an item may hold several as a person writes them (`婚姻家庭、邻里`).
    static func tags(_ list: [String]?) -> [String]? {
        list.map { $0.flatMap(Text.splitList) }
    }

    static func span(_ s: AppDatabaseSpan, zone: Zone) -> Components.Schemas.Span {
        .init(
            id: s.id, expertId: s.expertId, start: zone.format(s.interval.start), end: zone.format(s.interval.end),
            note: s.note, warnings: s.warnings.isEmpty ? nil : s.warnings)
    }
}
