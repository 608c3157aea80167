import Foundation
import GRDB
import MediationCore

/// What recording an outcome did: the outcome, the visits it planned, and the dispute as it now stands.
public struct RecordedOutcome: Sendable {
    public var outcome: Outcome
    public var followUps: [FollowUp]
    public var dispute: Dispute
}

/// Which follow-up visits a listing returns.
public enum FollowUpScope: String, Sendable, CaseIterable {
    /// Without a result and due up to tomorrow (overdue included).
    case due
    /// Without a result and due before today.
    case overdue
    /// Without a result.
    case open
    case all
}

extension AppDatabase {
    // MARK: Outcomes

    /// Records a concluded session's outcome, moves the dispute through its state machine, and plans the
    /// follow-up visits of an agreement (with their reminders in the outbox), all in one transaction.
    ///
    /// For example:
    /// ```swift
    /// try await db.recordOutcome(session: 12, Outcome(sessionId: 12, result: .agreement, terms: "赔偿 1200 元"),
    ///     policy: FollowUpPolicy(), actor: actor)
    /// ```
    /// - Throws: `conflict` for a session not ended, cancelled, missed or already with an outcome, or a dispute
    ///   that cannot move; `invalidInput` for bad fields; `notFound`. Nothing is written on any of them.
    public func recordOutcome(session id: Int64, _ draft: Outcome, policy: FollowUpPolicy, actor: Actor) async throws
        -> RecordedOutcome
    {
        let valid = try draft.validated()
        let now = clock.now()
        return try await write { db in
            var session = try Self.findSession(id, db)
            if let existing = try db.cachedRow("SELECT result FROM outcome WHERE session_id = ?", [id]) {
                throw MediationError.conflict(
                    "session #\(id) already has an outcome (\(existing["result"] as String)); one session has one outcome"
                )
            }
            try Outcome.checkConcluded(
                session.session, now: now,
                zone: try Self.officeTimeZone(session.session.officeId, db).flatMap { try? Zone($0) } ?? .shanghai)
            var disputeRecord = try Self.findDispute(String(session.session.disputeId), db)
            let number = disputeRecord.dispute.number
            // A session whose time has passed without being marked is taken as held.
            if session.session.status != .ended {
                session.session.status = .ended
                session.updatedAt = now
                try session.update(db)
            }
            var status = disputeRecord.dispute.status
            let reason = "session #\(id) outcome: \(valid.result.rawValue)"
            var path: [DisputeStatus] = []
            if status == .scheduled { path.append(.inSession) }
            path.append(valid.result.disputeStatus)
            for step in path {
                try status.check(step, dispute: number)
                try Self.recordStatus(
                    db, dispute: disputeRecord.dispute.id, from: status, to: step, reason: reason, actor: actor, at: now
                )
                status = step
            }
            disputeRecord.dispute.status = status
            disputeRecord.updatedAt = now
            try disputeRecord.update(db)
            var outcome = valid
            outcome.sessionId = id
            outcome.disputeId = disputeRecord.dispute.id
            outcome.recordedAt = now
            outcome.recordedByUid = actor.uid
            outcome.recordedBy = actor.user
            try db.execute(
                sql: """
                    INSERT INTO outcome (session_id, dispute_id, result, terms, amount_fen, signed, notes, referred_to,
                      held_at, recorded_at, recorded_uid, recorded_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    id, outcome.disputeId, outcome.result.rawValue, outcome.terms, outcome.amountFen, outcome.signed,
                    outcome.notes, outcome.referredTo, min(session.session.end, now).epoch, now.epoch,
                    Int64(actor.uid), actor.user,
                ])
            outcome.id = db.lastInsertedRowID
            var planned: [FollowUp] = []
            if outcome.result.isSettlement {
                let office = try Self.officeOf(disputeRecord.dispute, db)
                let zone = try Zone(office.timeZone)
                let agreedOn = zone.wallClock(min(session.session.end, now)).date
                let assignee = session.session.panel.first { $0.requirement.role == .communityStaff }?.expertId
                for (offset, day) in policy.plan(agreedOn: agreedOn, risk: disputeRecord.dispute.risk) {
                    var f = FollowUp(
                        disputeId: outcome.disputeId, sessionId: id, outcomeId: outcome.id, officeId: office.id,
                        dueOn: day, offsetDays: offset, assigneeExpertId: assignee)
                    try db.execute(
                        sql: """
                            INSERT INTO followup (dispute_id, session_id, outcome_id, office_id, due_on, due_day,
                              offset_days, assignee_expert_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            f.disputeId, id, f.outcomeId, f.officeId, day.description, day.dayNumber, offset, assignee,
                            now.epoch,
                        ])
                    f.id = db.lastInsertedRowID
                    planned.append(f)
                    try Self.queueFollowUpReminder(db, followUp: f, session: session.session, zone: zone, now: now)
                }
            }
            try self.audit(
                db, "outcome.record", "session \(id)",
                "dispute \(number): \(outcome.result.rawValue)" + (outcome.signed ? ", signed" : "")
                    + (outcome.amountFen.map { ", amount \($0) fen" } ?? "") + ", \(planned.count) follow-ups planned")
            return RecordedOutcome(outcome: outcome, followUps: planned, dispute: disputeRecord.dispute)
        }
    }

    /// Outcomes, of one dispute or of sessions held in a range, by time held.
    public func outcomes(dispute ref: String? = nil, heldIn range: Interval? = nil) async throws -> [Outcome] {
        try await read { db in
            var sql = "SELECT * FROM outcome WHERE 1"
            var arguments: StatementArguments = []
            if let ref {
                sql += " AND dispute_id = ?"
                arguments += [try Self.findDispute(ref, db).dispute.id]
            }
            if let range {
                sql += " AND held_at >= ? AND held_at < ?"
                arguments += [range.start.epoch, range.end.epoch]
            }
            return try Row.fetchAll(db, sql: sql + " ORDER BY held_at, id", arguments: arguments).map(Self.outcome)
        }
    }

    static func outcome(_ row: Row) -> Outcome {
        Outcome(
            id: row["id"], sessionId: row["session_id"], disputeId: row["dispute_id"],
            result: OutcomeResult(rawValue: row["result"]) ?? .noAgreement, terms: row["terms"],
            amountFen: row["amount_fen"], signed: row["signed"], notes: row["notes"], referredTo: row["referred_to"],
            recordedAt: row.date("recorded_at"),
            recordedByUid: UInt32(truncatingIfNeeded: row["recorded_uid"] as Int64),
            recordedBy: row["recorded_by"])
    }

    // MARK: Follow-up visits

    /// Visits in `scope`, optionally of one office, by day; "today" is each office's own.
    public func followUps(scope: FollowUpScope, office: String? = nil) async throws -> [FollowUp] {
        let now = clock.now()
        return try await read { db in
            if let office, try OfficeRecord.fetchOne(db, key: office.lowercased()) == nil {
                throw Self.officeNotFound(office, db)
            }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT f.*, o.time_zone FROM followup f JOIN office o ON o.id = f.office_id
                    WHERE (? IS NULL OR f.office_id = ?) AND (? = 'all' OR f.result IS NULL)
                    ORDER BY f.due_day, f.id
                    """,
                arguments: [office?.lowercased(), office?.lowercased(), scope.rawValue])
            return try rows.compactMap { row -> FollowUp? in
                let f = Self.followUp(row)
                let today = try Zone(row["time_zone"]).wallClock(now).date
                switch scope {
                case .due: return f.dueOn <= today.adding(days: 1) ? f : nil
                case .overdue: return f.isOverdue(today: today) ? f : nil
                case .open, .all: return f
                }
            }
        }
    }

    static func followUp(_ row: Row) -> FollowUp {
        let result: String? = row["result"]
        return FollowUp(
            id: row["id"], disputeId: row["dispute_id"], sessionId: row["session_id"], outcomeId: row["outcome_id"],
            officeId: row["office_id"], dueOn: LocalDate(dayNumber: row["due_day"]), offsetDays: row["offset_days"],
            assigneeExpertId: row["assignee_expert_id"], result: result.flatMap(FollowUpResult.init(rawValue:)),
            notes: row["notes"], recordedAt: row.optionalDate("recorded_at"), recordedBy: row["recorded_by"])
    }

    /// Records what a visit found. A relapse reopens the dispute; an escalation is recorded against it (and
    /// raises it to critical). Its pending reminder is withdrawn.
    ///
    /// - Throws: `invalidInput` for a visit due more than a day ahead or an escalation without its kind;
    ///   `conflict` for a visit already recorded; `notFound`.
    public func recordFollowUp(
        _ id: Int64, result: FollowUpResult, notes: String?, escalation: Escalation?, actor: Actor
    ) async throws -> (FollowUp, Dispute) {
        let now = clock.now()
        if result == .escalated && escalation == nil {
            throw MediationError.invalidInput(
                "an escalated visit needs the escalation's kind", hint: "give --kind criminal, violence or petition")
        }
        return try await write { db in
            guard
                let row = try db.cachedRow(
                    "SELECT f.*, o.time_zone FROM followup f JOIN office o ON o.id = f.office_id WHERE f.id = ?", [id])
            else {
                throw MediationError.notFound("no follow-up #\(id); 'followup list --all' shows them")
            }
            var f = Self.followUp(row)
            let zone = try Zone(row["time_zone"])
            try f.checkRecordable(today: zone.wallClock(now).date)
            f.result = result
            f.notes = Text.nonEmpty(notes)
            f.recordedAt = now
            f.recordedBy = actor.user
            try db.execute(
                sql: "UPDATE followup SET result = ?, notes = ?, recorded_at = ?, recorded_by = ? WHERE id = ?",
                arguments: [result.rawValue, f.notes, now.epoch, actor.user, id])
            try db.execute(
                sql: """
                    UPDATE outbox_message SET status = 'skipped', last_error = 'the visit was recorded before this was sent'
                    WHERE session_id = ? AND kind = 'followup' AND due_at = ? AND status IN ('pending', 'failed')
                    """,
                arguments: [f.sessionId, Self.followUpReminderTime(f, zone: zone).epoch])
            var dispute = try Self.findDispute(String(f.disputeId), db)
            if result == .relapsed, dispute.dispute.status != .open {
                let before = dispute.dispute.status
                try before.check(.open, dispute: dispute.dispute.number)
                dispute.dispute.status = .open
                dispute.dispute.closedAt = nil
                dispute.updatedAt = now
                try dispute.update(db)
                try Self.recordStatus(
                    db, dispute: f.disputeId, from: before, to: .open,
                    reason: "relapsed at follow-up #\(id)" + (f.notes.map { ": \($0)" } ?? ""), actor: actor, at: now)
            }
            if result == .escalated, var e = escalation {
                e.followUpId = id
                e = try e.validated(today: zone.wallClock(now).date)
                _ = try Self.insertEscalation(db, e, dispute: &dispute, actor: actor, now: now)
            }
            try self.audit(
                db, "followup.record", "followup \(id)",
                "dispute \(dispute.dispute.number): \(result.rawValue)" + (f.notes.map { ": \($0)" } ?? ""))
            return (f, dispute.dispute)
        }
    }

    /// 08:00 on the visit's day in the office's zone: when its reminder goes out.
    static func followUpReminderTime(_ f: FollowUp, zone: Zone) -> Date {
        zone.instant(f.dueOn, TimeOfDay(minutes: 8 * 60) ?? .midnight)
    }

    // MARK: Escalations

    /// Records an escalation against a dispute and raises it to critical, keeping who, when and why.
    ///
    /// - Throws: `invalidInput` for a future date or a criminal case without a reference; `notFound`.
    public func addEscalation(dispute ref: String, _ draft: Escalation, actor: Actor) async throws
        -> (Escalation, Dispute)
    {
        let now = clock.now()
        return try await write { db in
            var dispute = try Self.findDispute(ref, db)
            let zone = try Zone(try Self.officeOf(dispute.dispute, db).timeZone)
            let valid = try draft.validated(today: zone.wallClock(now).date)
            let e = try Self.insertEscalation(db, valid, dispute: &dispute, actor: actor, now: now)
            try self.audit(
                db, "escalation.add", "dispute \(dispute.dispute.number)",
                "escalation #\(e.id) \(e.kind.rawValue) on \(e.occurredOn.description)"
                    + (e.caseReference.map { " (\($0))" } ?? ""))
            return (e, dispute.dispute)
        }
    }

    private static func insertEscalation(
        _ db: Database, _ draft: Escalation, dispute: inout DisputeRecord, actor: Actor, now: Date
    ) throws -> Escalation {
        var e = draft
        e.disputeId = dispute.dispute.id
        e.recordedAt = now
        e.recordedBy = actor.user
        try db.execute(
            sql: """
                INSERT INTO escalation (dispute_id, kind, occurred_on, occurred_day, case_reference, notes, followup_id,
                  recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                e.disputeId, e.kind.rawValue, e.occurredOn.description, e.occurredOn.dayNumber, e.caseReference,
                e.notes, e.followUpId, now.epoch, actor.user,
            ])
        e.id = db.lastInsertedRowID
        let before = dispute.dispute.risk
        if before != .critical {
            dispute.dispute.risk = .critical
            dispute.updatedAt = now
            try dispute.update(db)
            try recordRisk(
                db, dispute: e.disputeId, from: before, to: .critical,
                reason: "escalation #\(e.id): \(e.kind.rawValue)" + (e.caseReference.map { " \($0)" } ?? ""),
                actor: actor, at: now)
        }
        return e
    }

    /// Escalations, of one dispute or all, by date.
    public func escalations(dispute ref: String? = nil) async throws -> [Escalation] {
        try await read { db in
            let id = try ref.map { try Self.findDispute($0, db).dispute.id }
            return try Row.fetchAll(
                db, sql: "SELECT * FROM escalation WHERE ? IS NULL OR dispute_id = ? ORDER BY occurred_day, id",
                arguments: [id, id]
            ).map { row in
                Escalation(
                    id: row["id"], disputeId: row["dispute_id"],
                    kind: EscalationKind(rawValue: row["kind"]) ?? .violence,
                    occurredOn: LocalDate(dayNumber: row["occurred_day"]), caseReference: row["case_reference"],
                    notes: row["notes"], followUpId: row["followup_id"], recordedAt: row.date("recorded_at"),
                    recordedBy: row["recorded_by"])
            }
        }
    }

    /// Dispute numbers by id, for showing lists.
    public func disputeNumbers(_ ids: some Sequence<Int64>) async throws -> [Int64: String] {
        let json = jsonIDs(Set(ids))
        return try await read { db in
            var out: [Int64: String] = [:]
            for row in try db.cachedRows(
                "SELECT id, number FROM dispute WHERE id IN (SELECT value FROM json_each(?))", [json])
            {
                out[row["id"]] = row["number"] as String
            }
            return out
        }
    }

    // MARK: Early warnings

    /// Evaluates the rules now and stores the warnings not raised before; returns the new ones.
    public func checkWarnings(settings: WarningSettings) async throws -> [EarlyWarning] {
        let now = clock.now()
        return try await write { db in
            let zones = try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, time_zone FROM office").map { row in
                    (row["id"] as String, try Zone(row["time_zone"]))
                })
            let disputes = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, d.number, d.office_id, d.risk, d.status,
                      COALESCE((SELECT MAX(at) FROM dispute_status_change c WHERE c.dispute_id = d.id), d.opened_at) AS since
                    FROM dispute d WHERE d.status IN ('open', 'unresolved') AND d.risk IN ('high', 'critical')
                    """
            ).map { row in
                WarningInput.WaitingDispute(
                    id: row["id"], number: row["number"], officeId: row["office_id"],
                    risk: RiskLevel(rawValue: row["risk"]) ?? .high,
                    status: DisputeStatus(rawValue: row["status"]) ?? .open, waitingSince: row.date("since"))
            }
            let noShows = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, d.number, d.office_id, COUNT(*) AS n FROM session s JOIN dispute d ON d.id = s.dispute_id
                    WHERE s.status = 'no_show' GROUP BY d.id HAVING COUNT(*) >= ?
                    """, arguments: [settings.noShows]
            ).map { row in
                WarningInput.NoShowCount(
                    disputeId: row["id"], number: row["number"], officeId: row["office_id"], count: row["n"])
            }
            let followUps = try Row.fetchAll(
                db,
                sql: """
                    SELECT f.*, d.number FROM followup f JOIN dispute d ON d.id = f.dispute_id
                    WHERE f.result IS NULL OR f.result = 'relapsed'
                    """
            ).map { row in (Self.followUp(row), row["number"] as String) }
            let candidates = WarningRules.evaluate(
                WarningInput(disputes: disputes, noShows: noShows, followUps: followUps, zones: zones),
                settings: settings, now: now)
            var raised: [EarlyWarning] = []
            for var w in candidates {
                try db.cachedExecute(
                    """
                    INSERT OR IGNORE INTO warning (rule, subject, dispute_id, office_id, message, raised_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """, [w.rule.rawValue, w.subject, w.disputeId, w.officeId, w.message, now.epoch])
                if db.changesCount > 0 {
                    w.id = db.lastInsertedRowID
                    raised.append(w)
                }
            }
            try self.audit(db, "warning.check", "warnings", "\(raised.count) new warnings raised")
            return raised
        }
    }

    /// Stored warnings, newest first; optionally of one office, or only those not yet delivered.
    public func warnings(office: String? = nil, undelivered: Bool = false) async throws -> [EarlyWarning] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM warning WHERE (? IS NULL OR office_id = ?) AND (? = 0 OR delivered_at IS NULL)
                    ORDER BY raised_at DESC, id DESC
                    """, arguments: [office?.lowercased(), office?.lowercased(), undelivered]
            ).map { row in
                EarlyWarning(
                    id: row["id"], rule: WarningRule(rawValue: row["rule"]) ?? .relapse, subject: row["subject"],
                    disputeId: row["dispute_id"], officeId: row["office_id"], message: row["message"],
                    raisedAt: row.date("raised_at"), deliveredAt: row.optionalDate("delivered_at"),
                    channel: row["channel"])
            }
        }
    }

    /// Marks warnings as sent to the duty channel, so that they are sent once.
    public func markWarningsDelivered(_ ids: [Int64], channel: String) async throws {
        let now = clock.now()
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE warning SET delivered_at = ?, channel = ?
                    WHERE delivered_at IS NULL AND id IN (SELECT value FROM json_each(?))
                    """, arguments: [now.epoch, channel, jsonIDs(ids)])
        }
    }
}

extension AppDatabase {
    /// Expert names by id, for showing lists.
    public func expertNames(_ ids: some Sequence<Int64>) async throws -> [Int64: String] {
        let json = jsonIDs(Set(ids))
        return try await read { db in
            var out: [Int64: String] = [:]
            for row in try db.cachedRows(
                "SELECT id, name FROM expert WHERE id IN (SELECT value FROM json_each(?))", [json])
            {
                out[row["id"]] = row["name"] as String
            }
            return out
        }
    }
}

extension AppDatabase {
    /// Every follow-up visit of one dispute, by day.
    public func followUps(dispute ref: String) async throws -> [FollowUp] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM followup WHERE dispute_id = ? ORDER BY due_day, id",
                arguments: [try Self.findDispute(ref, db).dispute.id]
            ).map(Self.followUp)
        }
    }
}
