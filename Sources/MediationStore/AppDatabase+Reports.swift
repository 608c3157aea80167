import Foundation
import GRDB
import MediationCore

extension AppDatabase {
    /// The zone reports of `office` (or of all offices: Asia/Shanghai) count days in; checks the office exists.
    static func reportZone(_ office: String?, _ db: Database) throws -> Zone {
        guard let office else { return .shanghai }
        guard let record = try OfficeRecord.fetchOne(db, key: office.lowercased()) else {
            throw officeNotFound(office, db)
        }
        return try Zone(record.office.timeZone)
    }

    /// 每周研判 for one ISO week, of one office or all; the rows are read in one transaction and counted by
    /// `WeeklyReport.compute`.
    ///
    /// - Throws: `notFound` for an unknown office.
    public func weeklyReport(week: ISOWeek, office: String?) async throws -> WeeklyReport {
        let now = clock.now()
        let office = office?.lowercased()
        return try await read { db in
            let zone = try Self.reportZone(office, db)
            let start = zone.instant(week.monday, .midnight)
            let end = zone.instant(week.monday.adding(days: 7), .midnight)
            let officeSQL = office == nil ? "" : " AND office_id = ?"
            let officeArgs: [any DatabaseValueConvertible] = office.map { [$0] } ?? []
            let open = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, number, office_id, risk, status, opened_at FROM dispute
                    WHERE status IN ('open', 'scheduled', 'in_session', 'unresolved')
                    """ + officeSQL, arguments: StatementArguments(officeArgs)
            ).map { row in
                OpenDisputeRow(
                    id: row[0], number: row[1], officeId: row[2], risk: RiskLevel(rawValue: row[3]) ?? .low,
                    status: DisputeStatus(rawValue: row[4]) ?? .open, openedAt: Date(epoch: row[5]))
            }
            let sessions = try Row.fetchAll(
                db,
                sql: "SELECT id, office_id, starts_at, status FROM session WHERE starts_at >= ? AND starts_at < ?"
                    + officeSQL,
                arguments: StatementArguments(
                    [start.addingTimeInterval(-7 * 7 * 86400 - 7200).epoch, end.addingTimeInterval(7 * 86400).epoch]
                        + officeArgs)
            ).map { row in
                SessionRow(
                    id: row[0], officeId: row[1], start: Date(epoch: row[2]),
                    status: SessionStatus(rawValue: row[3]) ?? .booked)
            }
            let outcomes = try Self.outcomeRows(db, Interval(start: start, end: end), office: office, panels: false)
            let followUps = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, office_id, due_day, result, recorded_at FROM followup
                    WHERE ((result IS NULL AND due_day <= ?) OR due_day BETWEEN ? AND ? OR (recorded_at >= ? AND recorded_at < ?))
                    AND cancelled_at IS NULL
                    """ + officeSQL,
                arguments: StatementArguments(
                    [week.sunday.dayNumber, week.monday.dayNumber, week.sunday.dayNumber, start.epoch, end.epoch]
                        + officeArgs)
            ).map { row in
                FollowUpRow(
                    id: row[0], officeId: row[1], dueOn: LocalDate(dayNumber: row[2]),
                    result: (row[3] as String?).flatMap(FollowUpResult.init(rawValue:)),
                    recordedAt: (row[4] as Double?).map(Date.init(epoch:)))
            }
            let escalations = try Self.escalationRows(db, days: nil, office: office)
            let warnings = try Row.fetchAll(
                db,
                sql: "SELECT rule, office_id, raised_at FROM warning WHERE raised_at >= ? AND raised_at < ?"
                    + officeSQL, arguments: StatementArguments([start.epoch, end.epoch] + officeArgs)
            ).compactMap { row in
                WarningRule(rawValue: row[0]).map {
                    WarningRow(rule: $0, officeId: row[1], raisedAt: Date(epoch: row[2]))
                }
            }
            return WeeklyReport.compute(
                week: week, office: office, zone: zone, now: now, open: open, sessions: sessions, outcomes: outcomes,
                followUps: followUps, escalations: escalations, warnings: warnings)
        }
    }

    /// Outcomes of sessions held in a range of days, grouped; escalations that occurred in the range.
    ///
    /// - Throws: `notFound` for an unknown office.
    public func outcomesReport(range: DayRange, by: OutcomeGrouping?, office: String?) async throws -> OutcomesReport {
        let office = office?.lowercased()
        return try await read { db in
            let zone = try Self.reportZone(office, db)
            let outcomes = try Self.outcomeRows(db, range.interval(in: zone), office: office, panels: by == .expert)
            let escalations = try Self.escalationRows(
                db, days: range.from.dayNumber...range.to.dayNumber, office: office)
            var names: [Int64: String] = [:]
            if by == .expert {
                for row in try Row.fetchAll(db, sql: "SELECT id, name FROM expert") { names[row[0]] = row[1] as String }
            }
            return OutcomesReport.compute(
                range: range, by: by, outcomes: outcomes, escalations: escalations, names: names)
        }
    }

    /// Seats per expert on sessions starting in a range of days (Asia/Shanghai days).
    public func expertsReport(range: DayRange) async throws -> ExpertsReport {
        try await read { db in
            let interval = range.interval(in: .shanghai)
            let experts = try Row.fetchAll(db, sql: "SELECT id, name, role, active FROM expert ORDER BY id").map {
                row in
                ExpertRow(id: row[0], name: row[1], role: ExpertRole(rawValue: row[2]) ?? .lawyer, active: row[3])
            }
            let seats = try Row.fetchAll(
                db,
                sql: """
                    SELECT p.session_id, p.expert_id, s.status, p.invitation
                    FROM session s JOIN session_panel p ON p.session_id = s.id
                    WHERE s.starts_at >= ? AND s.starts_at < ?
                    """, arguments: [interval.start.epoch, interval.end.epoch]
            ).map { row in
                SeatRow(
                    sessionId: row[0], expertId: row[1], status: SessionStatus(rawValue: row[2]) ?? .booked,
                    invitation: Invitation(rawValue: row[3]) ?? .pending)
            }
            return ExpertsReport.compute(range: range, experts: experts, seats: seats)
        }
    }

    static func outcomeRows(_ db: Database, _ interval: Interval, office: String?, panels: Bool) throws -> [OutcomeRow]
    {
        let panelSQL =
            panels ? "(SELECT group_concat(expert_id) FROM session_panel p WHERE p.session_id = o.session_id)" : "NULL"
        return try Row.fetchAll(
            db,
            sql: """
                SELECT o.session_id, o.dispute_id, d.office_id, d.category, o.result, o.held_at, d.opened_at, \(panelSQL)
                FROM outcome o JOIN dispute d ON d.id = o.dispute_id
                WHERE o.held_at >= ? AND o.held_at < ? AND (? IS NULL OR d.office_id = ?) AND o.voided_at IS NULL
                """, arguments: [interval.start.epoch, interval.end.epoch, office, office]
        ).map { row in
            let panel: String? = row[7]
            return OutcomeRow(
                sessionId: row[0], disputeId: row[1], officeId: row[2], category: row[3],
                result: OutcomeResult(rawValue: row[4]) ?? .noAgreement, heldAt: Date(epoch: row[5]),
                disputeOpenedAt: Date(epoch: row[6]),
                experts: panel.map { $0.split(separator: ",").compactMap { Int64($0) } } ?? [])
        }
    }

    static func escalationRows(_ db: Database, days: ClosedRange<Int>?, office: String?) throws -> [EscalationRow] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT e.id, e.dispute_id, d.office_id, d.category, e.kind, e.occurred_day
                FROM escalation e JOIN dispute d ON d.id = e.dispute_id
                WHERE (? IS NULL OR e.occurred_day BETWEEN ? AND ?) AND (? IS NULL OR d.office_id = ?)
                ORDER BY e.occurred_day, e.id
                """,
            arguments: [days?.lowerBound, days?.lowerBound, days?.upperBound, office, office]
        ).map { row in
            EscalationRow(
                id: row[0], disputeId: row[1], officeId: row[2], category: row[3],
                kind: EscalationKind(rawValue: row[4]) ?? .violence, occurredOn: LocalDate(dayNumber: row[5]))
        }
    }

    // MARK: Export

    /// Disputes opened in a range of days, as CSV with a BOM.
    public func exportDisputes(range: DayRange, office: String?) async throws -> String {
        let office = office?.lowercased()
        return try await read { db in
            let zone = try Self.reportZone(office, db)
            let interval = range.interval(in: zone)
            let list = try DisputeRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM dispute WHERE opened_at >= ? AND opened_at < ? AND (? IS NULL OR office_id = ?)
                    ORDER BY opened_at, id
                    """, arguments: [interval.start.epoch, interval.end.epoch, office, office]
            ).map(\.dispute)
            return Export.disputes(list, zone: zone)
        }
    }

    /// Sessions starting in a range of days, as CSV with a BOM.
    public func exportSessions(range: DayRange, office: String?) async throws -> String {
        let office = office?.lowercased()
        return try await read { db in
            let zone = try Self.reportZone(office, db)
            let interval = range.interval(in: zone)
            var records = try SessionRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM session WHERE starts_at >= ? AND starts_at < ? AND (? IS NULL OR office_id = ?)
                    ORDER BY starts_at, id
                    """, arguments: [interval.start.epoch, interval.end.epoch, office, office])
            for i in records.indices { try records[i].loadPanel(db) }
            let sessions = records.map(\.session)
            return Export.sessions(sessions, numbers: try Self.display(sessions, db).numbers, zone: zone)
        }
    }

    /// Outcomes of sessions held in a range of days, as CSV with a BOM.
    public func exportOutcomes(range: DayRange, office: String?) async throws -> String {
        let office = office?.lowercased()
        return try await read { db in
            let zone = try Self.reportZone(office, db)
            let interval = range.interval(in: zone)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT o.*, d.number FROM outcome o JOIN dispute d ON d.id = o.dispute_id
                    WHERE o.held_at >= ? AND o.held_at < ? AND (? IS NULL OR d.office_id = ?) AND o.voided_at IS NULL
                    ORDER BY o.held_at, o.id
                    """, arguments: [interval.start.epoch, interval.end.epoch, office, office])
            var numbers: [Int64: String] = [:]
            for row in rows { numbers[row["dispute_id"]] = row["number"] as String }
            return Export.outcomes(rows.map(Self.outcome), numbers: numbers, zone: zone)
        }
    }

    // MARK: Seeding

    /// Stores a session held before the system was in use (paper records, tests, benchmarks) as it is given:
    /// no availability or notice checks and no messages. A dispute waiting for a session becomes scheduled.
    ///
    /// - Throws: `notFound` for the dispute.
    public func importHistoricalSession(_ session: Session, actor: Actor) async throws -> Session {
        let now = clock.now()
        return try await write { db in
            let dispute = try Self.findDispute(String(session.disputeId), db).dispute
            var record = SessionRecord(session, createdAt: now, updatedAt: now)
            record.session.id = 0
            record.session.officeId = dispute.officeId
            try record.insert(db)
            try record.savePanel(db, replacing: false)
            // A session that was (or will be) held schedules a dispute waiting for one, as a booking does.
            if [.open, .unresolved].contains(dispute.status), [.booked, .ended].contains(session.status) {
                try db.execute(
                    sql: "UPDATE dispute SET status = 'scheduled', updated_at = ? WHERE id = ?",
                    arguments: [now.epoch, dispute.id])
                try Self.recordStatus(
                    db, dispute: dispute.id, from: dispute.status, to: .scheduled,
                    reason: "session #\(record.session.id) imported", actor: actor, at: now)
            }
            return record.session
        }
    }
}
