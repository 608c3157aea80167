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
        var t = text.trimmingWhitespace()
        for noise in ["¥", "￥", "元", ",", "，", "RMB", "CNY"] { t = t.replacingOccurrences(of: noise, with: "") }
        t = t.trimmingWhitespace()
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 12,
            parts[0].allSatisfy({ $0.isASCII && $0.isNumber }),
            parts.count == 1
                || ((1...2).contains(parts[1].count) && parts[1].allSatisfy({ $0.isASCII && $0.isNumber })),
            let yuan = Int64(parts[0])
        else {
            throw MediationError.invalidInput(
                "\(field) '\(text)' is not an amount in yuan",
                hint: "write it like 1200 or 1200.50 (at most two decimals)")
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

    public init(
        id: Int64 = 0, sessionId: Int64, disputeId: Int64 = 0, result: OutcomeResult, terms: String? = nil,
        amountFen: Int64? = nil, signed: Bool = false, notes: String? = nil, referredTo: String? = nil,
        recordedAt: Date = Date(timeIntervalSince1970: 0), recordedByUid: UInt32 = 0, recordedBy: String? = nil
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
            problems.add("an agreement needs its terms; give them with --terms")
        }
        if result == .referredOther && o.referredTo == nil {
            problems.add("a referral to another agency needs its name; give it with --to")
        }
        if !result.isReferral && Text.nonEmpty(referredTo) != nil {
            problems.add("--to names where a referral goes; \(result.rawValue) is not a referral")
        }
        if let amount = amountFen, amount < 0 { problems.add("the amount cannot be negative") }
        try problems.check("outcome")
        return o
    }

    /// Whether `session` has concluded, so that an outcome may be recorded for it.
    ///
    /// - Parameter zone: the session's office's, in which a message shows its end.
    /// - Throws: `conflict` for a session cancelled, missed, or not yet over.
    public static func checkConcluded(_ session: Session, now: Date, zone: Zone = .shanghai) throws {
        switch session.status {
        case .ended: return
        case .cancelled, .noShow:
            throw MediationError.conflict(
                "session #\(session.id) is \(session.status.rawValue); only a session that was held has an outcome")
        case .booked, .inSession:
            guard session.end <= now else {
                throw MediationError.conflict(
                    "session #\(session.id) has not ended yet (it ends \(zone.format(session.end))); "
                        + "record its outcome after it ends, or mark it ended with 'session end \(session.id)'")
            }
        }
    }
}
