import Foundation

/// How a session ended.
public enum OutcomeResult: String, Sendable, Codable, CaseIterable {
    case agreement
    case partialAgreement = "partial_agreement"
    case noAgreement = "no_agreement"
    case adjourned
    case referredCourt = "referred_court"
    case referredPolice = "referred_police"
    case referredOther = "referred_other"

    /// Reads the code (`partial_agreement`, `partial-agreement`) or its Chinese name.
    public init?(parsing text: String) {
        let t = text.trimmingWhitespace().lowercased().replacingOccurrences(of: "-", with: "_")
        if let known = OutcomeResult(rawValue: t) {
            self = known
            return
        }
        guard let match = OutcomeResult.allCases.first(where: { $0.chinese == t }) else { return nil }
        self = match
    }

    public static var codes: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// 达成协议 …, for reports.
    public var chinese: String {
        switch self {
        case .agreement: "达成协议"
        case .partialAgreement: "部分达成"
        case .noAgreement: "未达成"
        case .adjourned: "休会待续"
        case .referredCourt: "移送法院"
        case .referredPolice: "移交公安"
        case .referredOther: "移交其他部门"
        }
    }

    /// An agreement, full or partial: the dispute is settled and follow-up visits are planned.
    public var isSettlement: Bool { self == .agreement || self == .partialAgreement }
    public var isReferral: Bool { self == .referredCourt || self == .referredPolice || self == .referredOther }

    /// Where the dispute goes once this outcome is recorded.
    public var disputeStatus: DisputeStatus {
        switch self {
        case .agreement, .partialAgreement: .resolved
        // An adjourned session asks for the next one: unresolved disputes can be scheduled again.
        case .noAgreement, .adjourned: .unresolved
        case .referredCourt, .referredPolice, .referredOther: .referred
        }
    }

    /// To whom a referral goes when the person recording it names no one.
    public var defaultReferee: String? {
        switch self {
        case .referredCourt: "court"
        case .referredPolice: "police"
        default: nil
        }
    }
}

/// Amounts in yuan, kept as whole fen so sums never drift.
public enum Money {
    /// Reads `1200`, `1200.5`, `1200.50`, `¥1,200.50` or `1200元` as fen.
    ///
    /// - Throws: `invalidInput` for anything else, a third decimal or a negative amount.
    public static func parseFen(_ text: String, field: String = "amount") throws -> Int64 {
        var t = Text.halfWidth(text).trimmingWhitespace()
        for noise in ["¥", "￥", "元", ",", "，", "RMB", "CNY"] { t = t.replacingOccurrences(of: noise, with: "") }
        t = t.trimmingWhitespace()
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 12,
            parts[0].allSatisfy({ $0.isASCII && $0.isNumber }),
            parts.count == 1
                || ((1...2).contains(parts[1].count) && parts[1].allSatisfy({ $0.isASCII && $0.isNumber })),
            let yuan = Int64(parts[0])
        else {
            throw MediationError.said(
                .invalidInput, field: Text.fieldKey(field),
                en: "\(field) '\(text)' is not an amount in yuan; write it like 1200 or 1200.50 (at most two decimals)",
                zh: "金额“\(text)”无法识别，请写成 1200 或 1200.50 的形式（单位：元，最多两位小数）")
        }
        var fen: Int64 = 0
        if parts.count == 2 {
            let digits = String(parts[1])
            fen = (Int64(digits) ?? 0) * (digits.count == 1 ? 10 : 1)
        }
        return yuan * 100 + fen
    }

    /// `1200.50`.
    public static func format(fen: Int64) -> String {
        let sign = fen < 0 ? "-" : ""
        let a = abs(fen)
        return sign + "\(a / 100)." + String(format: "%02d", Int(a % 100))
    }
}

/// The recorded outcome of one concluded session.
public struct Outcome: Sendable, Hashable, Codable {
    public var id: Int64
    public var sessionId: Int64
    public var disputeId: Int64
    public var result: OutcomeResult
    /// The agreement's terms (required for an agreement, full or partial).
    public var terms: String?
    /// Compensation in fen (1/100 yuan).
    public var amountFen: Int64?
    public var signed: Bool
    public var notes: String?
    /// For referrals: to whom (court, police, or the agency named).
    public var referredTo: String?
    public var recordedAt: Date
    public var recordedByUid: UInt32
    public var recordedBy: String?
    /// When and by whom it was last corrected with `outcome amend` (the old values are in the audit trail).
    public var amendedAt: Date?
    public var amendedBy: String?
    /// When, by whom and why it was voided with `outcome void`: it no longer counts anywhere, and the session may
    /// have its outcome recorded again.
    public var voidedAt: Date?
    public var voidedBy: String?
    public var voidReason: String?

    public init(
        id: Int64 = 0, sessionId: Int64, disputeId: Int64 = 0, result: OutcomeResult, terms: String? = nil,
        amountFen: Int64? = nil, signed: Bool = false, notes: String? = nil, referredTo: String? = nil,
        recordedAt: Date = Date(timeIntervalSince1970: 0), recordedByUid: UInt32 = 0, recordedBy: String? = nil,
        amendedAt: Date? = nil, amendedBy: String? = nil, voidedAt: Date? = nil, voidedBy: String? = nil,
        voidReason: String? = nil
    ) {
        self.id = id
        self.sessionId = sessionId
        self.disputeId = disputeId
        self.result = result
        self.terms = terms
        self.amountFen = amountFen
        self.signed = signed
        self.notes = notes
        self.referredTo = referredTo
        self.recordedAt = recordedAt
        self.recordedByUid = recordedByUid
        self.recordedBy = recordedBy
        self.amendedAt = amendedAt
        self.amendedBy = amendedBy
        self.voidedAt = voidedAt
        self.voidedBy = voidedBy
        self.voidReason = voidReason
    }

    /// The fields a person records (result, terms, amount, signature, notes, referee), to tell whether an
    /// amendment changes anything.
    public func sameRecord(as other: Outcome) -> Bool {
        (result, terms, amountFen, signed, notes, referredTo)
            == (other.result, other.terms, other.amountFen, other.signed, other.notes, other.referredTo)
    }

    /// Checks the fields a person typed.
    ///
    /// - Throws: `invalidInput` listing every problem.
    public func validated() throws -> Outcome {
        var o = self
        var problems = Problems()
        o.terms = Text.nonEmpty(terms)
        o.notes = Text.nonEmpty(notes)
        o.referredTo = Text.nonEmpty(referredTo) ?? result.defaultReferee
        if result.isSettlement && o.terms == nil {
            problems.add(
                FieldProblem(
                    field: "terms", en: "an agreement needs its terms; give them with --terms",
                    zh: "达成协议时请填写协议内容"))
        }
        if result == .referredOther && o.referredTo == nil {
            problems.add(
                FieldProblem(
                    field: "to", en: "a referral to another agency needs its name; give it with --to",
                    zh: "移交其他部门时请填写接收部门的名称"))
        }
        if !result.isReferral && Text.nonEmpty(referredTo) != nil {
            problems.add(
                FieldProblem(
                    field: "to", en: "--to names where a referral goes; \(result.rawValue) is not a referral",
                    zh: "只有移交时才填写接收部门"))
        }
        if let amount = amountFen, amount < 0 {
            problems.add(FieldProblem(field: "amount", en: "the amount cannot be negative", zh: "金额不能是负数"))
        }
        try problems.check("outcome")
        return o
    }

    /// Whether `session` has concluded, so that an outcome may be recorded for it.
    ///
    /// - Parameter zone: the session's office's, in which a message shows its end.
    /// - Throws: `conflict` for a session cancelled, missed, or not yet over.
    public static func checkConcluded(_ session: Session, now: Date, zone: Zone) throws {
        switch session.status {
        case .ended: return
        case .cancelled, .noShow:
            throw MediationError.said(
                .conflict,
                en: "session #\(session.id) is \(session.status.rawValue); only a session that was held has an outcome",
                zh: "这场调解现在是“\(Words.sessionStatus(session.status, .zh))”，只有举行过的调解才能记录结果")
        case .booked, .inSession:
            guard session.end <= now else {
                // The way forward from where the session stands: a booked session is started before it is ended
                // ('session end' of a booked one is refused), and neither before its time.
                let next =
                    session.status == .booked
                    ? "mark it started with 'session start \(session.id)' when it begins and ended with "
                        + "'session end \(session.id)' when it is over"
                    : "mark it ended with 'session end \(session.id)' when it is over"
                throw MediationError.said(
                    .conflict,
                    en: "session #\(session.id) has not ended yet (\(session.status.rawValue), from "
                        + "\(zone.format(session.start)) to \(zone.format(session.end))); \(next), then record its "
                        + "outcome",
                    zh: "这场调解还没有结束（\(Words.moment(session.start, zone, .zh))–"
                        + "\(Words.moment(session.end, zone, .zh).suffix(5))）；请在调解开始时标记开始、结束后标记结束，再记录结果")
            }
        }
    }
}

/// A correction of a recorded outcome (`outcome amend`): the fields given replace the recorded ones; nil keeps one,
/// and an empty text clears it.
public struct OutcomeAmendment: Sendable, Hashable {
    public var result: OutcomeResult?
    public var terms: String?
    /// `.some(nil)` clears the amount.
    public var amountFen: Int64??
    public var signed: Bool?
    public var notes: String?
    public var referredTo: String?
    /// Why it is corrected, for the audit trail (optional).
    public var reason: String?

    public init(
        result: OutcomeResult? = nil, terms: String? = nil, amountFen: Int64?? = nil, signed: Bool? = nil,
        notes: String? = nil, referredTo: String? = nil, reason: String? = nil
    ) {
        self.result = result
        self.terms = terms
        self.amountFen = amountFen
        self.signed = signed
        self.notes = notes
        self.referredTo = referredTo
        self.reason = reason
    }

    /// True when it names no field to change.
    public var isEmpty: Bool {
        result == nil && terms == nil && amountFen == nil && signed == nil && notes == nil && referredTo == nil
    }

    /// `outcome` with the amendment applied and checked as a new record would be. A referral's referee carries over
    /// only while the result stays the same: another result names its own (or none).
    ///
    /// - Throws: `invalidInput` as `Outcome.validated`, for example an agreement left without its terms.
    public func applied(to outcome: Outcome) throws -> Outcome {
        var o = outcome
        if let result { o.result = result }
        if let terms { o.terms = terms }
        if let amountFen { o.amountFen = amountFen }
        if let signed { o.signed = signed }
        if let notes { o.notes = notes }
        if let referredTo {
            o.referredTo = referredTo
        } else if o.result != outcome.result {
            o.referredTo = nil
        }
        return try o.validated()
    }
}

/// What correcting an outcome does to its dispute and its follow-up visits: the one rule behind `outcome amend` and
/// `outcome void`.
public enum OutcomeCorrection {
    /// What becomes of the outcome's follow-up visits.
    public enum Visits: Sendable, Equatable {
        /// They stand as planned.
        case keep
        /// The visits not yet made are cancelled, with their reminders: there is no agreement to check on.
        case cancel
        /// Visits are planned as if the agreement had been recorded so.
        case plan
    }

    /// The visits after an outcome `old` becomes `new` (nil: voided). Visits already made stay as history.
    public static func visits(from old: OutcomeResult, to new: OutcomeResult?) -> Visits {
        switch (old.isSettlement, new?.isSettlement ?? false) {
        case (true, false): .cancel
        case (false, true): .plan
        default: .keep
        }
    }

    /// Where the dispute goes when its session's outcome `old` becomes `new` (nil: voided); nil when it stays.
    ///
    /// The dispute follows the correction only while it still stands where the outcome put it and the session is
    /// its latest: amended, it goes where the new result leads; voided, it goes back to `in_session` (held, its
    /// outcome to be recorded), also when it was reopened after the wrong outcome. A dispute that has moved on
    /// since (booked again, closed) keeps its later history.
    public static func disputeStatus(
        current: DisputeStatus, from old: OutcomeResult, to new: OutcomeResult?, latestSession: Bool
    ) -> DisputeStatus? {
        guard latestSession else { return nil }
        guard let new else {
            return current == old.disputeStatus || current == .open ? .inSession : nil
        }
        guard current == old.disputeStatus, new.disputeStatus != current else { return nil }
        return new.disputeStatus
    }
}
