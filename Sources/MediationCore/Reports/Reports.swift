import Foundation

/// 每周研判: everything the office meeting looks at for one ISO week.
public struct WeeklyReport: Sendable, Hashable, Codable {
    public struct RiskRow: Sendable, Hashable, Codable {
        public var risk: RiskLevel
        public var count: Int
        public var maxDaysOpen: Int
        public var meanDaysOpen: Double
    }
    public struct OldCase: Sendable, Hashable, Codable {
        public var number: String
        public var risk: RiskLevel
        public var status: DisputeStatus
        public var daysOpen: Int
    }
    public struct WeekCount: Sendable, Hashable, Codable {
        public var week: ISOWeek
        public var sessions: Int
    }
    public struct Count: Sendable, Hashable, Codable {
        public var key: String
        public var count: Int
    }

    public var week: ISOWeek
    public var office: String?
    /// The moment the figures are taken at: the week's end, or now if the week is not over.
    public var asOf: Date
    public var openByRisk: [RiskRow]
    public var openTotal: Int
    /// The longest-open high and critical disputes, at most ten.
    public var oldestHighRisk: [OldCase]
    public var sessionsHeld: Int
    /// Booked sessions in the seven days after the week.
    public var sessionsComing: Int
    /// Sessions held in the eight weeks ending with this one.
    public var sessionsPerWeek: [WeekCount]
    /// Outcomes of sessions held this week, by result code (every code listed).
    public var outcomes: [Count]
    /// Visits due in the week, recorded or not.
    public var followUpsDue: Int
    /// Visits still without a result whose day is before `asOf`.
    public var followUpsOverdue: Int
    /// Visits recorded in the week.
    public var followUpsDone: Int
    /// Warnings raised this week, by rule (every rule listed).
    public var warnings: [Count]
    /// Escalations this week, by kind (every kind listed).
    public var escalations: [Count]
    public var escalationsTotal: Int
    public var criminalTotal: Int
    /// Days since the last escalation of any kind up to `asOf`; nil when there has been none.
    public var daysSinceLastEscalation: Int?

    /// Computes the report from rows the store read.
    ///
    /// - Parameters:
    ///   - open: disputes open now (status open, scheduled, in session or unresolved).
    ///   - sessions: sessions starting from seven weeks before the week to seven days after it.
    ///   - outcomes: outcomes of sessions held in the week.
    ///   - followUps: visits without a result due up to the week's end, those due in the week, and those
    ///     recorded in the week.
    ///   - escalations: every escalation (of the office).
    ///   - warnings: warnings raised in the week.
    public static func compute(
        week: ISOWeek, office: String?, zone: Zone, now: Date, open: [OpenDisputeRow], sessions: [SessionRow],
        outcomes: [OutcomeRow], followUps: [FollowUpRow], escalations: [EscalationRow], warnings: [WarningRow]
    ) -> WeeklyReport {
        let start = zone.instant(week.monday, .midnight)
        let end = zone.instant(week.monday.adding(days: 7), .midnight)
        let asOf = min(now, end)
        let asOfDay = zone.wallClock(asOf.addingTimeInterval(asOf == end ? -1 : 0)).date
        func days(_ from: Date) -> Int { max(0, Int(asOf.timeIntervalSince(from) / 86400)) }
        let openNow = open.filter { $0.openedAt < asOf }
        let byRisk = RiskLevel.allCases.reversed().map { risk -> RiskRow in
            let list = openNow.filter { $0.risk == risk }.map { days($0.openedAt) }
            return RiskRow(
                risk: risk, count: list.count, maxDaysOpen: list.max() ?? 0,
                meanDaysOpen: Stats.round(Stats.mean(list.map(Double.init)) ?? 0, 1))
        }
        let oldest = openNow.filter { $0.risk >= .high }
            .sorted { ($0.openedAt, $0.id) < ($1.openedAt, $1.id) }.prefix(10)
            .map { OldCase(number: $0.number, risk: $0.risk, status: $0.status, daysOpen: days($0.openedAt)) }
        let inWeek = sessions.filter { $0.start >= start && $0.start < end }
        let held = inWeek.filter { $0.status == .ended }.count
        let coming = sessions.filter {
            $0.status == .booked && $0.start >= end && $0.start < end.addingTimeInterval(7 * 86400)
        }.count
        let perWeek = (0..<8).reversed().map { back -> WeekCount in
            let w = week.adding(weeks: -back)
            let a = zone.instant(w.monday, .midnight)
            let b = zone.instant(w.monday.adding(days: 7), .midnight)
            return WeekCount(
                week: w, sessions: sessions.filter { $0.status == .ended && $0.start >= a && $0.start < b }.count)
        }
        let outcomeCounts = OutcomeResult.allCases.map { r in
            Count(
                key: r.rawValue,
                count: outcomes.filter { $0.result == r && $0.heldAt >= start && $0.heldAt < end }.count)
        }
        let due = followUps.filter { $0.dueOn >= week.monday && $0.dueOn <= week.sunday }.count
        let overdue = followUps.filter { $0.result == nil && $0.dueOn < asOfDay }.count
        let done = followUps.filter { f in f.recordedAt.map { $0 >= start && $0 < end } ?? false }.count
        let warningCounts = WarningRule.allCases.map { r in
            Count(
                key: r.rawValue,
                count: warnings.filter { $0.rule == r && $0.raisedAt >= start && $0.raisedAt < end }.count)
        }
        let upTo = escalations.filter { $0.occurredOn <= asOfDay }
        let escalationCounts = EscalationKind.allCases.map { k in
            Count(key: k.rawValue, count: upTo.filter { $0.kind == k && $0.occurredOn >= week.monday }.count)
        }
        let last = upTo.map(\.occurredOn).max()
        return WeeklyReport(
            week: week, office: office, asOf: asOf, openByRisk: byRisk, openTotal: openNow.count,
            oldestHighRisk: Array(oldest), sessionsHeld: held, sessionsComing: coming, sessionsPerWeek: perWeek,
            outcomes: outcomeCounts, followUpsDue: due, followUpsOverdue: overdue, followUpsDone: done,
            warnings: warningCounts, escalations: escalationCounts, escalationsTotal: upTo.count,
            criminalTotal: upTo.filter { $0.kind == .criminal }.count,
            daysSinceLastEscalation: last.map { asOfDay.dayNumber - $0.dayNumber })
    }
}

/// How the outcomes report groups its rows.
public enum OutcomeGrouping: String, Sendable, Codable, CaseIterable {
    case office, category, expert
}

/// Settlements, speed, referrals and escalations over a range of days.
public struct OutcomesReport: Sendable, Hashable, Codable {
    public struct Row: Sendable, Hashable, Codable {
        /// The office id, the category, the expert's id, or `all`.
        public var key: String
        /// A name to show (the expert's name), when the key is an id.
        public var label: String
        public var outcomes: Int
        public var agreements: Int
        public var partialAgreements: Int
        public var noAgreements: Int
        public var adjourned: Int
        public var referrals: Int
        /// (agreements + partial agreements) / outcomes, rounded to 4 decimals; 0 without outcomes.
        public var settlementRate: Double
        /// Days from intake to the session that reached agreement (full or partial), rounded to 1 decimal.
        public var meanDaysToAgreement: Double?
        public var medianDaysToAgreement: Double?
        public var escalations: Int
    }

    public var range: DayRange
    public var by: OutcomeGrouping?
    public var rows: [Row]
    public var total: Row
    public var outcomeMix: [WeeklyReport.Count]

    /// - Parameters:
    ///   - outcomes: outcomes of sessions held in the range.
    ///   - escalations: escalations that occurred in the range.
    ///   - names: expert id → name, for `by: .expert`.
    public static func compute(
        range: DayRange, by: OutcomeGrouping?, outcomes: [OutcomeRow], escalations: [EscalationRow],
        names: [Int64: String] = [:]
    ) -> OutcomesReport {
        func row(_ key: String, _ label: String, _ list: [OutcomeRow], _ esc: Int) -> Row {
            func n(_ r: OutcomeResult) -> Int { list.filter { $0.result == r }.count }
            let settled = list.filter { $0.result.isSettlement }
            let days = settled.map { $0.heldAt.timeIntervalSince($0.disputeOpenedAt) / 86400 }
            return Row(
                key: key, label: label, outcomes: list.count, agreements: n(.agreement),
                partialAgreements: n(.partialAgreement), noAgreements: n(.noAgreement), adjourned: n(.adjourned),
                referrals: list.filter { $0.result.isReferral }.count,
                settlementRate: list.isEmpty ? 0 : Stats.round(Double(settled.count) / Double(list.count), 4),
                meanDaysToAgreement: Stats.mean(days).map { Stats.round($0, 1) },
                medianDaysToAgreement: Stats.median(days).map { Stats.round($0, 1) }, escalations: esc)
        }
        var rows: [Row] = []
        switch by {
        case nil: break
        case .office?:
            let keys = Set(outcomes.map(\.officeId) + escalations.map(\.officeId)).sorted()
            rows = keys.map { k in
                row(k, k, outcomes.filter { $0.officeId == k }, escalations.filter { $0.officeId == k }.count)
            }
        case .category?:
            let keys = Set(outcomes.map(\.category) + escalations.map(\.category)).sorted()
            rows = keys.map { k in
                row(k, k, outcomes.filter { $0.category == k }, escalations.filter { $0.category == k }.count)
            }
        case .expert?:
            // An expert's escalations: those of disputes whose sessions in the range they sat on.
            let keys = Set(outcomes.flatMap(\.experts)).sorted()
            rows = keys.map { id in
                let mine = outcomes.filter { $0.experts.contains(id) }
                let disputes = Set(mine.map(\.disputeId))
                return row(
                    String(id), names[id] ?? "#\(id)", mine,
                    escalations.filter { disputes.contains($0.disputeId) }.count)
            }
        }
        let mix = OutcomeResult.allCases.map { r in
            WeeklyReport.Count(key: r.rawValue, count: outcomes.filter { $0.result == r }.count)
        }
        return OutcomesReport(
            range: range, by: by, rows: rows, total: row("all", "合计", outcomes, escalations.count), outcomeMix: mix)
    }
}

/// How the experts were asked, and how evenly.
public struct ExpertsReport: Sendable, Hashable, Codable {
    public struct Row: Sendable, Hashable, Codable {
        public var id: Int64
        public var name: String
        public var role: ExpertRole
        /// Seats on sessions in the range that were not cancelled.
        public var sessions: Int
        public var held: Int
        public var accepted: Int
        public var declined: Int
        /// accepted / sessions, rounded to 4 decimals; nil for an expert never asked in the range (no rate, not 0).
        public var acceptanceRate: Double?
    }

    public var range: DayRange
    public var rows: [Row]
    /// Over active experts and everyone who sat in the range.
    public var experts: Int
    public var totalSessions: Int
    public var maxSessions: Int
    public var meanSessions: Double
    /// max / mean, rounded to 2 decimals; 0 when nobody sat.
    public var maxOverMean: Double
    /// Gini coefficient of sessions per expert, rounded to 4 decimals.
    public var gini: Double

    /// - Parameters:
    ///   - experts: every expert.
    ///   - seats: every seat on sessions starting in the range.
    public static func compute(range: DayRange, experts: [ExpertRow], seats: [SeatRow]) -> ExpertsReport {
        let live = seats.filter { $0.status != .cancelled }
        var byExpert: [Int64: [SeatRow]] = [:]
        for s in live { byExpert[s.expertId, default: []].append(s) }
        let counted = experts.filter { $0.active || byExpert[$0.id] != nil }
        let rows = counted.map { e -> Row in
            let mine = byExpert[e.id] ?? []
            let accepted = mine.filter { $0.invitation == .accepted }.count
            return Row(
                id: e.id, name: e.name, role: e.role, sessions: mine.count,
                held: mine.filter { $0.status == .ended }.count, accepted: accepted,
                declined: mine.filter { $0.invitation == .declined }.count,
                acceptanceRate: mine.isEmpty ? nil : Stats.round(Double(accepted) / Double(mine.count), 4))
        }.sorted { ($1.sessions, $0.id) < ($0.sessions, $1.id) }
        let loads = rows.map { Double($0.sessions) }
        let mean = Stats.mean(loads) ?? 0
        let maxLoad = rows.map(\.sessions).max() ?? 0
        return ExpertsReport(
            range: range, rows: rows, experts: rows.count, totalSessions: live.count, maxSessions: maxLoad,
            meanSessions: Stats.round(mean, 2), maxOverMean: mean > 0 ? Stats.round(Double(maxLoad) / mean, 2) : 0,
            gini: Stats.round(Stats.gini(loads), 4))
    }
}

/// The JSON form the API sends and the CLI reads back: ISO 8601 instants, sorted keys.
public enum ReportCoding {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}
