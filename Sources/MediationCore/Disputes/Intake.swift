import Foundation

/// What a person types to register a dispute or a party, read by one set of rules: the API's handlers and the
/// console's forms both call these, so a risk level, a side, a time or a week's hours are read the same way
/// wherever they are typed. Every refusal names its field (`FieldProblem`) in both languages.
public enum Intake {
    /// `low` (when none is given), `medium`, `high`, `critical`, or 低 / 中 / 高 / 极高.
    public static func risk(_ text: String?) throws -> RiskLevel {
        guard let text else { return .low }
        guard let level = RiskLevel(parsing: text) else {
            throw MediationError(
                .invalidInput, "risk '\(text)' is unknown; use low, medium, high or critical",
                fields: [
                    FieldProblem(
                        field: "risk", en: "risk '\(text)' is unknown; use low, medium, high or critical",
                        zh: "风险等级“\(text)”无法识别，请选择 低、中、高 或 极高")
                ])
        }
        return level
    }

    /// `applicant`, `respondent`, `other`, or 申请人 / 被申请人 / 其他.
    public static func side(_ text: String, hint: String = "use applicant, respondent or other (申请人, 被申请人, 其他)")
        throws -> PartySide
    {
        guard let side = PartySide(parsing: text) else {
            let en = "side '\(text)' is unknown; \(hint)"
            throw MediationError(
                .invalidInput, en,
                fields: [FieldProblem(field: "side", en: en, zh: "当事人身份“\(text)”无法识别，请选择 申请人、被申请人 或 其他")])
        }
        return side
    }

    /// A moment as people type it (`2026-12-01`, `2026-12-01 14:30`, RFC 3339), read in `zone`; empty is none.
    public static func moment(
        _ text: String?, field: String, zh: String, zone: Zone, endOfDay: Bool = false, now: Date
    ) throws -> Date? {
        guard let text = Text.nonEmpty(text) else { return nil }
        do {
            return try zone.parseInstant(text, field: field, endOfDay: endOfDay, now: now)
        } catch let e as MediationError {
            throw MediationError(
                .invalidInput, e.message,
                fields: [
                    FieldProblem(
                        field: field, en: e.message,
                        zh: "\(zh)“\(text)”无法识别，请写成 2026-12-01 或 2026-12-01 14:30 的形式")
                ])
        }
    }

    /// A session's start as typed, in the office's zone: a bare day is refused (it would mean its midnight), a time
    /// with its own offset is taken as it is. The API's reschedule and the console's read it here.
    ///
    /// - Parameter field: the form's field, and the name the English message gives it.
    /// - Throws: `invalidInput` with the problem beside `field` in both languages.
    public static func sessionStart(_ text: String, field: String, zone: Zone, now: Date) throws -> Date {
        let typed = text.trimmingWhitespace()
        do {
            if let instant = try Zone.startInstant(text, field: field) { return instant }
        } catch let e as MediationError {
            throw MediationError(
                .invalidInput, e.message,
                fields: [FieldProblem(field: field, en: e.message, zh: "“\(typed)”只有日期，请同时填写时间，如 \(typed) 14:00")])
        }
        do {
            return try zone.parseInstant(text, field: field, now: now)
        } catch let e as MediationError {
            throw MediationError(
                .invalidInput, e.message,
                fields: [
                    FieldProblem(field: field, en: e.message, zh: "时间“\(typed)”无法识别，请写成 2026-12-14 14:00 的形式")
                ])
        }
    }

    /// An expert's leave or extra time as typed, in the expert's zone: `from` a day or a day and time, `to` the same
    /// (a day alone meaning the end of that day); both checked at once, each problem said beside its field.
    ///
    /// For example, `2026-12-21` to `2026-12-23` is three whole days of leave.
    public static func span(from: String, to: String, zone: Zone, now: Date, what: String) throws -> Interval {
        var problems = Problems()
        func read(_ text: String, _ field: String, endOfDay: Bool) -> Date? {
            let typed = text.trimmingWhitespace()
            do { return try zone.parseInstant(text, field: field, endOfDay: endOfDay, now: now) } catch let e
                as MediationError
            {
                problems.add(
                    FieldProblem(
                        field: field, en: e.message,
                        zh: typed.isEmpty
                            ? "请填写日期，如 2026-12-21 或 2026-12-21 09:00"
                            : "时间“\(typed)”无法识别，请写成 2026-12-21 或 2026-12-21 09:00 的形式"))
                return nil
            } catch {
                return nil
            }
        }
        let start = read(from, "from", endOfDay: false)
        let end = read(to, "to", endOfDay: true)
        try problems.check(what)
        guard let start, let end else { throw MediationError.invalidInput("\(what) has no start or end") }
        let interval = Interval(start: start, end: end)
        try AvailabilityResolver.checkSpan(interval, what: what)
        return interval
    }

    /// A week's hours as text (`mon-fri 09:00-12:00`, `周六 09:00-11:30`), read by `WeeklyWindow.parseList`.
    public static func hours(_ text: String, field: String = "hours") throws -> [WeeklyWindow] {
        do {
            return try WeeklyWindow.parseList(text, field: field)
        } catch let e as MediationError {
            throw MediationError(
                .invalidInput, e.message,
                fields: [
                    FieldProblem(
                        field: field, en: e.message,
                        zh: "时间段“\(text)”无法识别，请写成 周一至周五 09:00-12:00 或 mon 19:00-21:00 的形式")
                ])
        }
    }

    /// A dated window a party can attend, `from` and `to` as typed, read in `zone`.
    public static func dated(from: String, to: String, zone: Zone, now: Date, field: String = "datedWindows")
        throws -> Interval
    {
        let interval = Interval(
            start: try moment(from, field: "\(field).from", zh: "开始时间", zone: zone, now: now) ?? now,
            end: try moment(to, field: "\(field).to", zh: "结束时间", zone: zone, endOfDay: true, now: now) ?? now)
        try AvailabilityResolver.checkRange(interval, what: "a dated window")
        return interval
    }

    /// The elements of a dispute as typed; a field left out (nil) keeps its value, an empty one clears it.
    public struct Elements: Sendable {
        public var cause: String?
        public var occurredAt: String?
        public var location: String?
        public var nature: String?
        public var scale: Int?
        public var involved: String?
        public var development: String?

        public init(
            cause: String? = nil, occurredAt: String? = nil, location: String? = nil, nature: String? = nil,
            scale: Int? = nil, involved: String? = nil, development: String? = nil
        ) {
            self.cause = cause
            self.occurredAt = occurredAt
            self.location = location
            self.nature = nature
            self.scale = scale
            self.involved = involved
            self.development = development
        }

        /// Writes what was typed into `target`; the time it occurred is read in the office's zone.
        public func apply(to target: inout DisputeElements, zone: Zone, now: Date) throws {
            if let v = cause { target.cause = v }
            if let v = occurredAt {
                target.occurredAt = try Intake.moment(v, field: "occurredAt", zh: "发生时间", zone: zone, now: now)
            }
            if let v = location { target.location = v }
            if let v = nature { target.nature = v }
            if let v = scale { target.scale = v }
            if let v = involved { target.involved = v }
            if let v = development { target.development = v }
        }
    }

    /// A party as typed: its side read, its hours (as a list or as text, not both) and dated windows read in its
    /// own zone (default: the office's). `Party.validated()` checks the rest when it is stored.
    public static func party(
        name: String, side: String, mobile: String? = nil, email: String? = nil, idCard: String? = nil,
        organisation: String? = nil, language: String? = nil, timeZone: String? = nil,
        weekly: [WeeklyWindow]? = nil, hours: String? = nil, weeklyField: String = "weeklyWindows",
        dated: [(from: String, to: String)] = [], channel: String? = nil, officeZone: Zone, now: Date
    ) throws -> Party {
        var problems = Problems()
        var readChannel: PartyChannel?
        do { readChannel = try partyChannel(channel) } catch let e as MediationError { problems.add(e) }
        var readSide = PartySide.other
        do { readSide = try Intake.side(side) } catch let e as MediationError { problems.add(e) }
        var zone = officeZone
        do { zone = try Zone(timeZone ?? officeZone.identifier) } catch let e as MediationError {
            problems.add(
                FieldProblem(
                    field: "timeZone", en: e.message, zh: "时区“\(timeZone ?? "")”无法识别，请写 Asia/Shanghai 这样的名称"))
        }
        var windows = weekly ?? []
        if let hours {
            if weekly != nil {
                problems.add(
                    FieldProblem(
                        field: "hours",
                        en: "give the hours once: either \(weeklyField) or hours; hours takes text such as "
                            + "'mon-fri 09:00-12:00'",
                        zh: "每周时间段只能填写一种形式"))
            } else if Text.nonEmpty(hours) == nil {
                problems.add(
                    FieldProblem(
                        field: "hours",
                        en: "hours is empty; give hours such as 'mon 09:00-12:00', or an empty \(weeklyField) list "
                            + "to clear them",
                        zh: "每周时间段为空，请写成 周六 09:00-12:00 的形式"))
            } else {
                do { windows = try Intake.hours(hours) } catch let e as MediationError { problems.add(e) }
            }
        }
        var intervals: [Interval] = []
        for w in dated {
            do { intervals.append(try Intake.dated(from: w.from, to: w.to, zone: zone, now: now)) } catch let e
                as MediationError
            { problems.add(e) }
        }
        try problems.check("party")
        return Party(
            name: name, side: readSide, mobile: mobile, email: email, idCard: idCard, organisation: organisation,
            language: language, timeZone: zone.identifier, weeklyWindows: windows, datedWindows: intervals,
            channel: readChannel)
    }

    /// A party's channel as typed (`sms`, `mail`, `none`, 短信, 邮件, 不通知); nil for none given or empty text.
    public static func partyChannel(_ text: String?) throws -> PartyChannel? {
        guard let typed = Text.nonEmpty(text) else { return nil }
        guard let channel = PartyChannel(parsing: typed) else {
            let en = "channel '\(typed)' is unknown; use sms, mail or none"
            throw MediationError.said(
                .invalidInput, field: "channel", en: en, zh: "通知方式“\(typed)”无法识别，请选择 短信、邮件 或 不通知")
        }
        return channel
    }

    /// A correction of an outcome as typed: only what is given changes; an empty amount clears it.
    public static func amendment(
        result: String?, terms: String?, amount: String?, signed: Bool?, notes: String?, to: String?,
        reason: String?
    ) throws -> OutcomeAmendment {
        var problems = Problems()
        let read = result.flatMap { outcomeResult($0, &problems) }
        // An empty amount clears it; any other text must be an amount.
        let fen: Int64?? = amount.map { Text.nonEmpty($0).flatMap { fenAmount($0, &problems) } }
        try problems.check("outcome")
        return OutcomeAmendment(
            result: read, terms: terms, amountFen: fen, signed: signed, notes: notes, referredTo: to, reason: reason)
    }

    /// A session's outcome as typed: the result by its code or its Chinese name, an amount in yuan (kept as fen).
    /// `AppDatabase.recordOutcome` checks the rest (terms for an agreement, whom a referral went to).
    public static func outcome(
        session: Int64, result: String, terms: String?, amount: String?, signed: Bool, notes: String?, to: String?
    ) throws -> Outcome {
        var problems = Problems()
        let read = outcomeResult(result, &problems) ?? .agreement
        let fen = Text.nonEmpty(amount).flatMap { fenAmount($0, &problems) }
        try problems.check("outcome")
        return Outcome(
            sessionId: session, result: read, terms: terms, amountFen: fen, signed: signed, notes: notes,
            referredTo: to)
    }

    /// An escalation as typed: its kind (criminal 民转刑, violence, petition) and the day it happened (default today).
    public static func escalation(kind: String, date: String?, caseRef: String?, notes: String?, today: LocalDate)
        throws -> Escalation
    {
        guard let k = EscalationKind(parsing: kind) else {
            let en = "escalation kind '\(kind)' is unknown; use criminal (民转刑), violence or petition"
            throw MediationError(
                .invalidInput, en,
                fields: [
                    FieldProblem(
                        field: "kind", en: en,
                        zh: "升级类型“\(kind)”无法识别，请选择 " + EscalationKind.allCases.map(\.chinese).joined(separator: "、"))
                ])
        }
        var day = today
        if let text = Text.nonEmpty(date) {
            do { day = try TimeText.day(text, field: "--date", today: today) } catch let e as MediationError {
                throw MediationError(
                    .invalidInput, e.message,
                    fields: [FieldProblem(field: "date", en: e.message, zh: "日期“\(text)”无法识别，请写成 2026-12-05 的形式")])
            }
        }
        return Escalation(kind: k, occurredOn: day, caseReference: caseRef, notes: notes)
    }

    /// A follow-up visit's result as typed, with the escalation an escalated visit records (its kind given).
    public static func followUp(
        result: String, kind: String?, date: String?, caseRef: String?, notes: String?, today: LocalDate
    ) throws -> (FollowUpResult, Escalation?) {
        guard let read = FollowUpResult(parsing: result) else {
            let en = "result '\(result)' is unknown; use stable, relapsed or escalated"
            throw MediationError(
                .invalidInput, en,
                fields: [FieldProblem(field: "result", en: en, zh: "回访结果“\(result)”无法识别，请选择 稳定、反复 或 升级")])
        }
        if read == .escalated, let kind = Text.nonEmpty(kind) {
            return (read, try escalation(kind: kind, date: date, caseRef: caseRef, notes: notes, today: today))
        }
        if Text.nonEmpty(kind) != nil {
            let en = "--kind belongs to an escalated visit; the result is \(read.rawValue)"
            throw MediationError(
                .invalidInput, en, fields: [FieldProblem(field: "kind", en: en, zh: "只有“升级”的回访才填写升级类型")])
        }
        return (read, nil)
    }

    /// An outcome's result by its code or Chinese name; a problem noted when it is neither.
    private static func outcomeResult(_ text: String, _ problems: inout Problems) -> OutcomeResult? {
        if let read = OutcomeResult(parsing: text) { return read }
        problems.add(
            FieldProblem(
                field: "result", en: "result '\(text)' is unknown; use one of \(OutcomeResult.codes)",
                zh: "调解结果“\(text)”无法识别，请选择 " + OutcomeResult.allCases.map(\.chinese).joined(separator: "、")))
        return nil
    }

    /// An amount in yuan, as fen; a problem noted when it is not one.
    private static func fenAmount(_ text: String, _ problems: inout Problems) -> Int64? {
        do { return try Money.parseFen(text) } catch let e as MediationError {
            problems.add(FieldProblem(field: "amount", en: e.message, zh: "金额“\(text)”无法识别，请写成 1200.50 的形式（单位：元）"))
        } catch {
            problems.add(FieldProblem(field: "amount", en: "\(error)", zh: "金额“\(text)”无法识别"))
        }
        return nil
    }
}
