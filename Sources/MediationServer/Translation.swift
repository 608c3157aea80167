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
            throw MediationError.said(
                .invalidInput, field: "hours",
                en: "give the hours once: either \(field) or hours; hours takes text such as 'mon-fri 09:00-12:00'",
                zh: "每周时间段只能给一次：\(field) 或 hours 二选一；hours 写成 mon-fri 09:00-12:00 这样的文字")
        }
        guard Text.nonEmpty(text) != nil else {
            throw MediationError.said(
                .invalidInput, field: "hours",
                en: "hours is empty; give hours such as 'mon 09:00-12:00', or an empty \(field) list to clear them",
                zh: "每周时间段为空：请写成 周一 09:00-12:00 的形式；如要清空，请给一个空的 \(field) 列表")
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
                problems.add(
                    FieldProblem(
                        field: field,
                        en: "\(field)[\(i)]: weekday '\(w.weekday)' is not mon, tue, wed, thu, fri, sat or sun",
                        zh: "第 \(i + 1) 个时间段的星期“\(w.weekday)”无法识别，请写 mon…sun 或 周一…周日"))
            }
            if start == nil {
                problems.add(
                    FieldProblem(
                        field: field, en: "\(field)[\(i)]: start '\(w.start)' is not a time HH:MM",
                        zh: "第 \(i + 1) 个时间段的开始时间“\(w.start)”不是 HH:MM 形式的时间"))
            }
            if end == nil {
                problems.add(
                    FieldProblem(
                        field: field, en: "\(field)[\(i)]: end '\(w.end)' is not a time HH:MM",
                        zh: "第 \(i + 1) 个时间段的结束时间“\(w.end)”不是 HH:MM 形式的时间"))
            }
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
            throw MediationError.said(
                .invalidInput, field: "role", en: "role '\(text)' is unknown; use one of \(ExpertRole.choices)",
                zh: "角色“\(text)”无法识别，请写 " + ExpertRole.allCases.map(\.chinese).joined(separator: "、"))
        }
        return role
    }

    static func channel(_ text: String?) throws -> ContactChannel? {
        guard let text = Text.nonEmpty(text) else { return nil }
        guard let channel = ContactChannel(parsing: text) else {
            throw MediationError.said(
                .invalidInput, field: "preferredChannel",
                en: "preferred channel '\(text)' is unknown; use email, sms, wecom or dingtalk",
                zh: "联系方式“\(text)”无法识别，请写 email、sms、wecom 或 dingtalk（邮件、短信、企业微信、钉钉）")
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
            note: s.note,
            warnings: s.warnings.isEmpty ? nil : s.warnings.map(APIHandler.said))
    }
}
