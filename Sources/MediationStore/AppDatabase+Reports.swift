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
                typealias C = DisputeRecord.Columns
                let r = StoredRow(row, table: "dispute")
                return OpenDisputeRow(
                    id: try r.value(C.id), number: try r.value(C.number), officeId: try r.value(C.officeId),
                    risk: try r.value(C.risk), status: try r.value(C.status), openedAt: try r.date(C.openedAt))
            }
            let sessions = try Row.fetchAll(
                db,
                sql: "SELECT id, office_id, starts_at, status FROM session WHERE starts_at >= ? AND starts_at < ?"
                    + officeSQL,
                arguments: StatementArguments(
                    [start.addingTimeInterval(-7 * 7 * 86400 - 7200).epoch, end.addingTimeInterval(7 * 86400).epoch]
                        + officeArgs)
            ).map { row in
                typealias C = SessionRecord.Columns
                let r = StoredRow(row, table: "session")
                return SessionRow(
                    id: try r.value(C.id), officeId: try r.value(C.officeId), start: try r.date(C.startsAt),
                    status: try r.value(C.status))
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
                typealias C = FollowUpColumns
                let r = StoredRow(row, table: "followup")
                return FollowUpRow(
                    id: try r.value(C.id), officeId: try r.value(C.officeId),
                    dueOn: LocalDate(dayNumber: try r.value(C.dueDay)), result: try r.optional(C.result),
                    recordedAt: try r.optionalDate(C.recordedAt))
            }
            let escalations = try Self.escalationRows(db, days: nil, office: office)
            let warnings = try Row.fetchAll(
                db,
                sql: "SELECT id, rule, office_id, raised_at FROM warning WHERE raised_at >= ? AND raised_at < ?"
                    + officeSQL, arguments: StatementArguments([start.epoch, end.epoch] + officeArgs)
            ).map { row in
                let r = StoredRow(row, table: "warning")
                return WarningRow(
                    rule: try r.value(Column("rule")), officeId: try r.value(Column("office_id")),
                    raisedAt: try r.date(Column("raised_at")))
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
                for row in try Row.fetchAll(db, sql: "SELECT id, name FROM expert") {
                    let r = StoredRow(row, table: "expert")
                    names[try r.value(ExpertRecord.Columns.id)] = try r.value(ExpertRecord.Columns.name) as String
                }
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
                typealias C = ExpertRecord.Columns
                let r = StoredRow(row, table: "expert")
                return ExpertRow(
                    id: try r.value(C.id), name: try r.value(C.name), role: try r.value(C.role),
                    active: try r.value(C.active))
            }
            let seats = try Row.fetchAll(
                db,
                sql: """
                    SELECT p.session_id, p.expert_id, s.status, p.invitation
                    FROM session s JOIN session_panel p ON p.session_id = s.id
                    WHERE s.starts_at >= ? AND s.starts_at < ?
                    """, arguments: [interval.start.epoch, interval.end.epoch]
            ).map { row in
                let r = StoredRow(row, table: "session_panel")
                return SeatRow(
                    sessionId: try r.value(Column("session_id")), expertId: try r.value(Column("expert_id")),
                    status: try StoredRow(
                        row, table: "session", key: "row id \(try r.value(Column("session_id")) as Int64)"
                    )
                    .value(Column("status")),
                    invitation: try r.value(Column("invitation")))
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
                SELECT o.id, o.session_id, o.dispute_id, d.office_id, d.category, o.result, o.held_at, d.opened_at,
                  \(panelSQL) AS panel
                FROM outcome o JOIN dispute d ON d.id = o.dispute_id
                WHERE o.held_at >= ? AND o.held_at < ? AND (? IS NULL OR d.office_id = ?) AND o.voided_at IS NULL
                """, arguments: [interval.start.epoch, interval.end.epoch, office, office]
        ).map { row in
            let r = StoredRow(row, table: "outcome")
            let dispute = StoredRow(row, table: "dispute", key: "of outcome #\(try r.value(Column("id")) as Int64)")
            let panel: String? = try r.optional(Column("panel"))
            return OutcomeRow(
                sessionId: try r.value(Column("session_id")), disputeId: try r.value(Column("dispute_id")),
                officeId: try dispute.value(Column("office_id")), category: try dispute.value(Column("category")),
                result: try r.value(Column("result")), heldAt: try r.date(Column("held_at")),
                disputeOpenedAt: try dispute.date(Column("opened_at")),
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
            let r = StoredRow(row, table: "escalation")
            let dispute = StoredRow(row, table: "dispute", key: "of escalation #\(try r.value(Column("id")) as Int64)")
            return EscalationRow(
                id: try r.value(Column("id")), disputeId: try r.value(Column("dispute_id")),
                officeId: try dispute.value(Column("office_id")), category: try dispute.value(Column("category")),
                kind: try r.value(Column("kind")), occurredOn: LocalDate(dayNumber: try r.value(Column("occurred_day")))
            )
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
            var outcomes: [Outcome] = []
            for row in rows {
                let outcome = try Self.outcome(row)
                outcomes.append(outcome)
                numbers[outcome.disputeId] =
                    try StoredRow(row, table: "dispute", key: "row id \(outcome.disputeId)").value(Column("number"))
                    as String
            }
            return Export.outcomes(outcomes, numbers: numbers, zone: zone)
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
