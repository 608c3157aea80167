import Foundation

/// What a follow-up visit (回访) found.
public enum FollowUpResult: String, Sendable, Codable, CaseIterable {
    case stable, relapsed, escalated

    public init?(parsing text: String) {
        switch text.trimmingWhitespace().lowercased() {
        case "stable", "稳定": self = .stable
        case "relapsed", "relapse", "反复": self = .relapsed
        case "escalated", "升级", "激化": self = .escalated
        default: return nil
        }
    }
}

/// A planned follow-up visit after an agreement, and what it found once recorded.
public struct FollowUp: Sendable, Hashable, Codable {
    public var id: Int64
    public var disputeId: Int64
    public var sessionId: Int64
    public var outcomeId: Int64
    public var officeId: String
    /// The day of the visit, in the office's zone.
    public var dueOn: LocalDate
    /// Days after the agreement, as the policy planned it.
    public var offsetDays: Int
    /// The panel's community staff member who visits with the office, if the panel had one.
    public var assigneeExpertId: Int64?
    public var result: FollowUpResult?
    public var notes: String?
    public var recordedAt: Date?
    public var recordedBy: String?

    public init(
        id: Int64 = 0, disputeId: Int64, sessionId: Int64, outcomeId: Int64, officeId: String, dueOn: LocalDate,
        offsetDays: Int, assigneeExpertId: Int64? = nil, result: FollowUpResult? = nil, notes: String? = nil,
        recordedAt: Date? = nil, recordedBy: String? = nil
    ) {
        self.id = id
        self.disputeId = disputeId
        self.sessionId = sessionId
        self.outcomeId = outcomeId
        self.officeId = officeId
        self.dueOn = dueOn
        self.offsetDays = offsetDays
        self.assigneeExpertId = assigneeExpertId
        self.result = result
        self.notes = notes
        self.recordedAt = recordedAt
        self.recordedBy = recordedBy
    }

    public var isDone: Bool { result != nil }

    /// Overdue: not recorded and its day has passed.
    public func isOverdue(today: LocalDate) -> Bool { result == nil && dueOn < today }

    /// A visit's result may be recorded from the day before it is due.
    ///
    /// - Throws: `conflict` when it already has a result; `invalidInput` when it is due more than a day ahead.
    public func checkRecordable(today: LocalDate) throws {
        if let result {
            throw MediationError.said(
                .conflict, field: "result", en: "follow-up #\(id) was already recorded as \(result.rawValue)",
                zh: "回访 #\(id) 已记录过结果：“\(Words.followUpResult(result, .zh))”")
        }
        guard dueOn <= today.adding(days: 1) else {
            throw MediationError.said(
                .invalidInput, field: "result",
                en: "follow-up #\(id) is due on \(dueOn), more than a day ahead; "
                    + "record it from \(dueOn.adding(days: -1)) on",
                zh:
                    "回访 #\(id) 定于 \(Words.day(dueOn, .zh)) 进行，离今天还有一天以上；请从 \(Words.day(dueOn.adding(days: -1), .zh)) 起再记录"
            )
        }
    }
}

/// When follow-up visits fall after an agreement (`followups.*` in the configuration).
public struct FollowUpPolicy: Sendable, Hashable {
    /// Days after every agreement (default 3 and 30).
    public var afterAgreementDays: [Int]
    /// Extra days for high and critical disputes (default 1 and 7).
    public var highRiskExtraDays: [Int]

    public init(afterAgreementDays: [Int] = [3, 30], highRiskExtraDays: [Int] = [1, 7]) {
        self.afterAgreementDays = afterAgreementDays
        self.highRiskExtraDays = highRiskExtraDays
    }

    /// The offsets for a settled dispute of this risk, ascending, each once.
    public func offsets(risk: RiskLevel) -> [Int] {
        let extra = risk >= .high ? highRiskExtraDays : []
        return Array(Set(afterAgreementDays + extra)).filter { $0 > 0 }.sorted()
    }

    /// The visit days after an agreement reached on `day`.
    public func plan(agreedOn day: LocalDate, risk: RiskLevel) -> [(offset: Int, day: LocalDate)] {
        offsets(risk: risk).map { ($0, day.adding(days: $0)) }
    }

    /// Checks the configured lists.
    ///
    /// - Throws: `invalidInput` naming the key.
    public func validated() throws -> FollowUpPolicy {
        var problems = Problems()
        for (key, list) in [
            ("followups.after_agreement_days", afterAgreementDays),
            ("followups.high_risk_extra_days", highRiskExtraDays),
        ] where list.contains(where: { !(1...365).contains($0) }) {
            problems.add(
                FieldProblem(
                    field: "general", en: "\(key) must list whole days from 1 to 365, for example [3, 30]",
                    zh: "\(key) 应列出 1 到 365 之间的整天数，如 [3, 30]"))
        }
        try problems.check("followups")
        return self
    }
}

/// What a dispute escalated into.
public enum EscalationKind: String, Sendable, Codable, CaseIterable {
    /// 民转刑: the civil dispute became a criminal case.
    case criminal
    case violence
    /// A petition to higher authorities (上访).
    case petition

    public init?(parsing text: String) {
        switch text.trimmingWhitespace().lowercased() {
        case "criminal", "criminal_case", "民转刑", "刑事": self = .criminal
        case "violence", "暴力", "肢体冲突": self = .violence
        case "petition", "上访", "信访": self = .petition
        default: return nil
        }
    }

    public var chinese: String {
        switch self {
        case .criminal: "民转刑"
        case .violence: "暴力冲突"
        case .petition: "越级上访"
        }
    }
}

/// A recorded escalation of a dispute.
public struct Escalation: Sendable, Hashable, Codable {
    public var id: Int64
    public var disputeId: Int64
    public var kind: EscalationKind
    /// The day it happened, in the office's zone.
    public var occurredOn: LocalDate
    /// The police or court case number.
    public var caseReference: String?
    public var notes: String?
    /// The follow-up visit that found it, if one did.
    public var followUpId: Int64?
    public var recordedAt: Date
    public var recordedBy: String?

    public init(
        id: Int64 = 0, disputeId: Int64 = 0, kind: EscalationKind, occurredOn: LocalDate, caseReference: String? = nil,
        notes: String? = nil, followUpId: Int64? = nil, recordedAt: Date = Date(timeIntervalSince1970: 0),
        recordedBy: String? = nil
    ) {
        self.id = id
        self.disputeId = disputeId
        self.kind = kind
        self.occurredOn = occurredOn
        self.caseReference = caseReference
        self.notes = notes
        self.followUpId = followUpId
        self.recordedAt = recordedAt
        self.recordedBy = recordedBy
    }

    /// - Throws: `invalidInput` for a date in the future or a criminal case without its reference.
    public func validated(today: LocalDate) throws -> Escalation {
        var e = self
        e.caseReference = Text.nonEmpty(caseReference)
        e.notes = Text.nonEmpty(notes)
        var problems = Problems()
        if occurredOn > today {
            problems.add(
                FieldProblem(
                    field: "date", en: "the escalation's date \(occurredOn) is in the future",
                    zh: "升级日期 \(occurredOn) 在今天之后，请核对日期"))
        }
        if kind == .criminal && e.caseReference == nil {
            problems.add(
                FieldProblem(
                    field: "case", en: "a criminal case (民转刑) needs its case reference; give it with --case",
                    zh: "民转刑须填写公安或法院的案件编号"))
        }
        try problems.check("escalation")
        return e
    }
}
