import Foundation
import GRDB
import MediationCore

/// What recording an outcome did: the outcome, the visits it planned, and the dispute as it now stands.
public struct RecordedOutcome: Sendable {
    public var outcome: Outcome
    public var followUps: [FollowUp]
    public var dispute: Dispute
}

/// What correcting an outcome did: the outcome as it now stands, the visits planned and cancelled, and the
/// dispute (with the status it had, when the correction moved it).
public struct CorrectedOutcome: Sendable {
    public var outcome: Outcome
    public var planned: [FollowUp]
    public var cancelled: [Int64]
    public var dispute: Dispute
    /// The dispute's status before the correction, when the correction moved it.
    public var disputeWas: DisputeStatus?
    /// False when an amendment gave the values already recorded (nothing was written).
    public var changed = true
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
    /// - Throws: `conflict` for a session not ended, cancelled, missed or already with an outcome (in force: a voided
    ///   one makes way), or a dispute that cannot move; `invalidInput` for bad fields; `notFound`. Nothing is
    ///   written on any of them.
    public func recordOutcome(session id: Int64, _ draft: Outcome, policy: FollowUpPolicy, actor: Actor) async throws
        -> RecordedOutcome
    {
        let valid = try draft.validated()
        let now = clock.now()
        return try await write { db in
            var session = try Self.findSession(id, db)
            if let existing = try db.cachedRow(
                "SELECT result FROM outcome WHERE session_id = ? AND voided_at IS NULL", [id])
            {
                let result: String = existing["result"]
                throw MediationError.said(
                    .conflict, field: "result",
                    en: "session #\(id) already has an outcome (\(result)); one session has one "
                        + "outcome: correct it with 'outcome amend \(id) RESULT' or what else changes (--terms, "
                        + "--amount, --signed, --notes, --to), or void it with 'outcome void \(id) --reason …' and "
                        + "record it again",
                    zh: "调解场次 #\(id) 已经记录了结果（"
                        + (OutcomeResult(rawValue: result).map { Words.outcomeResult($0, .zh) } ?? result)
                        + "），一场调解只有一个结果：要更正，请用 'outcome amend \(id) RESULT'（或 --terms、--amount、"
                        + "--signed、--notes、--to）；要重新记录，请先用 'outcome void \(id) --reason …' 作废")
            }
            try Outcome.checkConcluded(
                session.session, now: now,
                zone: try Self.officeZone(session.session.officeId, db))
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
            let planned =
                try outcome.result.isSettlement
                ? Self.planFollowUps(
                    db, outcome: outcome, session: session.session, heldAt: min(session.session.end, now),
                    dispute: disputeRecord.dispute, policy: policy, now: now) : []
            try self.audit(
                db, "outcome.record", "session \(id)",
                "dispute \(number): \(outcome.result.rawValue)" + (outcome.signed ? ", signed" : "")
                    + (outcome.amountFen.map { ", amount \($0) fen" } ?? "") + ", \(planned.count) follow-ups planned")
            return RecordedOutcome(outcome: outcome, followUps: planned, dispute: disputeRecord.dispute)
        }
    }

    /// The follow-up visits of an agreement reached when its session was held (`heldAt`), with their reminders.
    static func planFollowUps(
        _ db: Database, outcome: Outcome, session: Session, heldAt: Date, dispute: Dispute, policy: FollowUpPolicy,
        now: Date
    ) throws -> [FollowUp] {
        let office = try Self.officeOf(dispute, db)
        let zone = try Zone(office.timeZone)
        let agreedOn = zone.wallClock(heldAt).date
        let assignee = session.panel.first { $0.requirement.role == .communityStaff }?.expertId
        var planned: [FollowUp] = []
        for (offset, day) in policy.plan(agreedOn: agreedOn, risk: dispute.risk) {
            var f = FollowUp(
                disputeId: outcome.disputeId, sessionId: session.id, outcomeId: outcome.id, officeId: office.id,
                dueOn: day, offsetDays: offset, assigneeExpertId: assignee)
            try db.execute(
                sql: """
                    INSERT INTO followup (dispute_id, session_id, outcome_id, office_id, due_on, due_day,
                      offset_days, assignee_expert_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    f.disputeId, session.id, f.outcomeId, f.officeId, day.description, day.dayNumber, offset, assignee,
                    now.epoch,
                ])
            f.id = db.lastInsertedRowID
            planned.append(f)
            try Self.queueFollowUpReminder(db, followUp: f, session: session, zone: zone, now: now)
        }
        return planned
    }

    /// Cancels the outcome's visits not yet made, and skips their reminders still waiting; returns their ids.
    static func cancelOpenFollowUps(_ db: Database, outcome: Int64, reason: String, now: Date) throws -> [Int64] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT f.*, o.time_zone FROM followup f JOIN office o ON o.id = f.office_id
                WHERE f.outcome_id = ? AND f.result IS NULL AND f.cancelled_at IS NULL ORDER BY f.id
                """, arguments: [outcome])
        var cancelled: [Int64] = []
        for row in rows {
            let f = try Self.followUp(row)
            cancelled.append(f.id)
            try db.execute(
                sql: "UPDATE followup SET cancelled_at = ?, cancel_reason = ? WHERE id = ?",
                arguments: [now.epoch, reason, f.id])
            try db.execute(
                sql: """
                    UPDATE outbox_message SET status = 'skipped', last_error = ?
                    WHERE session_id = ? AND kind = 'followup' AND due_at = ? AND status IN ('pending', 'failed')
                    """,
                arguments: [
                    "the visit was cancelled: \(reason)", f.sessionId,
                    Self.followUpReminderTime(f, zone: try Self.officeZone(of: row)).epoch,
                ])
        }
        return cancelled
    }

    // MARK: Correcting outcomes

    /// Corrects a recorded outcome: the fields `amendment` gives replace the recorded ones, checked as a new record
    /// would be. Reports read the corrected values; an agreement amended away cancels the visits not yet made (and
    /// their reminders), and one amended into being plans them; the dispute follows when it still stands where the
    /// outcome put it (`OutcomeCorrection`). The old values go to the audit trail. The same values again change
    /// nothing and write nothing.
    ///
    /// For example:
    /// ```swift
    /// try await db.amendOutcome(session: 12, OutcomeAmendment(amountFen: 120_000), policy: FollowUpPolicy(),
    ///     actor: actor)
    /// ```
    /// - Throws: `notFound` for a session without an outcome in force; `conflict` for a closed dispute;
    ///   `invalidInput` for an empty amendment or bad fields.
    public func amendOutcome(session id: Int64, _ amendment: OutcomeAmendment, policy: FollowUpPolicy, actor: Actor)
        async throws -> CorrectedOutcome
    {
        guard !amendment.isEmpty else {
            throw MediationError.said(
                .invalidInput,
                en: "nothing to change; give the new RESULT, or --terms, --amount, --signed, --notes or --to",
                zh: "没有要更正的内容：请填写新的调解结果，或 --terms、--amount、--signed、--notes、--to 中要改的项")
        }
        let reason = try amendment.reason.flatMap(Text.nonEmpty).map { why in
            try Text.check(why, "the reason", max: InputLimits.reasonLength, multiline: true)
            return why
        }
        let now = clock.now()
        return try await write { db in
            let (session, old, disputeRecord) = try Self.outcomeInForce(session: id, db, doing: "amend")
            let new = try amendment.applied(to: old)
            guard !new.sameRecord(as: old) else {
                return CorrectedOutcome(
                    outcome: old, planned: [], cancelled: [], dispute: disputeRecord.dispute, disputeWas: nil,
                    changed: false)
            }
            try db.execute(
                sql: """
                    UPDATE outcome SET result = ?, terms = ?, amount_fen = ?, signed = ?, notes = ?, referred_to = ?,
                      amended_at = ?, amended_by = ? WHERE id = ?
                    """,
                arguments: [
                    new.result.rawValue, new.terms, new.amountFen, new.signed, new.notes, new.referredTo, now.epoch,
                    actor.user, old.id,
                ])
            var outcome = new
            outcome.amendedAt = now
            outcome.amendedBy = actor.user
            let why = "outcome of session #\(id) amended" + (reason.map { ": \($0)" } ?? "")
            var planned: [FollowUp] = []
            var cancelled: [Int64] = []
            switch OutcomeCorrection.visits(from: old.result, to: new.result) {
            case .keep: break
            case .cancel: cancelled = try Self.cancelOpenFollowUps(db, outcome: old.id, reason: why, now: now)
            case .plan:
                planned = try Self.planFollowUps(
                    db, outcome: outcome, session: session, heldAt: try Self.heldAt(outcome: old.id, db),
                    dispute: disputeRecord.dispute, policy: policy, now: now)
            }
            var dispute = disputeRecord
            let was = try Self.correctDispute(
                &dispute, session: session, from: old.result, to: new.result, reason: why, actor: actor, now: now,
                db)
            try self.audit(
                db, "outcome.amend", "session \(id)",
                "dispute \(dispute.dispute.number): " + Self.changes(from: old, to: new).joined(separator: "; ")
                    + (reason.map { "; reason: \($0)" } ?? "")
                    + (planned.isEmpty ? "" : "; \(planned.count) follow-ups planned")
                    + (cancelled.isEmpty
                        ? ""
                        : "; follow-ups " + cancelled.map { "#\($0)" }.joined(separator: " ")
                            + " cancelled")
                    + (was.map { "; dispute \($0.rawValue) → \(dispute.dispute.status.rawValue)" } ?? ""))
            return CorrectedOutcome(
                outcome: outcome, planned: planned, cancelled: cancelled, dispute: dispute.dispute, disputeWas: was)
        }
    }

    /// Voids a recorded outcome, with a reason: it no longer counts in any report or export, its visits not yet made
    /// are cancelled (and their reminders skipped), the dispute goes back to waiting for the session's outcome when
    /// it still stands where the outcome put it or was reopened since (`OutcomeCorrection`), and the session's
    /// outcome can be recorded again. The voided row stays, with who voided it, when and why.
    ///
    /// - Throws: `invalidInput` without a reason; `notFound` for a session without an outcome in force; `conflict`
    ///   for a closed dispute.
    public func voidOutcome(session id: Int64, reason: String, actor: Actor) async throws -> CorrectedOutcome {
        guard let why = Text.nonEmpty(reason) else {
            throw MediationError.said(
                .invalidInput, field: "voidReason", en: "voiding an outcome needs a reason; say why with --reason",
                zh: "作废调解结果须说明原因，请用 --reason 填写，它会记入审计记录")
        }
        try Text.check(why, "the reason", max: InputLimits.reasonLength, multiline: true)
        let now = clock.now()
        return try await write { db in
            let (session, old, disputeRecord) = try Self.outcomeInForce(session: id, db, doing: "void")
            try db.execute(
                sql: "UPDATE outcome SET voided_at = ?, voided_by = ?, void_reason = ? WHERE id = ?",
                arguments: [now.epoch, actor.user, why, old.id])
            var outcome = old
            outcome.voidedAt = now
            outcome.voidedBy = actor.user
            outcome.voidReason = why
            let because = "outcome of session #\(id) voided: \(why)"
            let cancelled = try Self.cancelOpenFollowUps(db, outcome: old.id, reason: because, now: now)
            var dispute = disputeRecord
            let was = try Self.correctDispute(
                &dispute, session: session, from: old.result, to: nil, reason: because, actor: actor, now: now, db)
            try self.audit(
                db, "outcome.void", "session \(id)",
                "dispute \(dispute.dispute.number): outcome #\(old.id) voided: \(why); it was "
                    + Self.describe(old)
                    + (cancelled.isEmpty
                        ? ""
                        : "; follow-ups " + cancelled.map { "#\($0)" }.joined(separator: " ")
                            + " cancelled")
                    + (was.map { "; dispute \($0.rawValue) → \(dispute.dispute.status.rawValue)" } ?? ""))
            return CorrectedOutcome(
                outcome: outcome, planned: [], cancelled: cancelled, dispute: dispute.dispute, disputeWas: was)
        }
    }

    /// The session, its outcome in force and its dispute, for a correction; a closed dispute is kept as closed.
    private static func outcomeInForce(session id: Int64, _ db: Database, doing verb: String) throws
        -> (Session, Outcome, DisputeRecord)
    {
        let session = try findSession(id, db).session
        guard
            let row = try db.cachedRow("SELECT * FROM outcome WHERE session_id = ? AND voided_at IS NULL", [id])
        else {
            throw MediationError.said(
                .notFound,
                en: "session #\(id) has no outcome to \(verb); record one with 'outcome record \(id) RESULT'",
                zh: "调解场次 #\(id) 还没有记录结果，无从\(verb == "void" ? "作废" : "更正")；"
                    + "请先用 'outcome record \(id) RESULT' 记录")
        }
        let dispute = try findDispute(String(session.disputeId), db)
        try dispute.dispute.status.checkEditable(dispute: dispute.dispute.number)
        return (session, try outcome(row), dispute)
    }

    /// When the outcome's session was held, as recorded.
    private static func heldAt(outcome id: Int64, _ db: Database) throws -> Date {
        guard let row = try db.cachedRow("SELECT id, held_at FROM outcome WHERE id = ?", [id]) else {
            throw MediationError.notFound("no outcome #\(id)")
        }
        return try StoredRow(row, table: "outcome").date(Column("held_at"))
    }

    /// Moves the dispute as `OutcomeCorrection.disputeStatus` says, keeping the change in its status history;
    /// returns the status it had when it moved.
    private static func correctDispute(
        _ record: inout DisputeRecord, session: Session, from old: OutcomeResult, to new: OutcomeResult?,
        reason: String, actor: Actor, now: Date, _ db: Database
    ) throws -> DisputeStatus? {
        let later =
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM session WHERE dispute_id = ? AND id != ? AND starts_at >= ?
                      AND status IN ('booked', 'in_session', 'ended'))
                    """, arguments: [session.disputeId, session.id, session.start.epoch]) ?? false
        let before = record.dispute.status
        guard
            let after = OutcomeCorrection.disputeStatus(
                current: before, from: old, to: new, latestSession: !later)
        else { return nil }
        record.dispute.status = after
        record.dispute.closedAt = nil
        record.updatedAt = now
        try record.update(db)
        try recordStatus(
            db, dispute: record.dispute.id, from: before, to: after, reason: reason, actor: actor, at: now)
        return before
    }

    /// The recorded fields of an outcome, in a line for the audit trail.
    private static func describe(_ o: Outcome) -> String {
        [
            o.result.rawValue, o.terms.map { "terms '\($0)'" }, o.amountFen.map { "amount \(Money.format(fen: $0))" },
            o.signed ? "signed" : "not signed", o.notes.map { "notes '\($0)'" }, o.referredTo.map { "to \($0)" },
        ].compactMap { $0 }.joined(separator: ", ")
    }

    /// What an amendment changed, old → new, one entry per field.
    private static func changes(from old: Outcome, to new: Outcome) -> [String] {
        func text(_ value: String?) -> String { value.map { "'\($0)'" } ?? "none" }
        var lines: [String] = []
        if old.result != new.result { lines.append("result \(old.result.rawValue) → \(new.result.rawValue)") }
        if old.terms != new.terms { lines.append("terms \(text(old.terms)) → \(text(new.terms))") }
        if old.amountFen != new.amountFen {
            lines.append(
                "amount \(old.amountFen.map(Money.format) ?? "none") → \(new.amountFen.map(Money.format) ?? "none")")
        }
        if old.signed != new.signed { lines.append(new.signed ? "signed" : "not signed") }
        if old.notes != new.notes { lines.append("notes \(text(old.notes)) → \(text(new.notes))") }
        if old.referredTo != new.referredTo {
            lines.append("referred to \(text(old.referredTo)) → \(text(new.referredTo))")
        }
        return lines
    }

    /// Outcomes in force (not voided), of one dispute or of sessions held in a range, by time held.
    public func outcomes(dispute ref: String? = nil, heldIn range: Interval? = nil) async throws -> [Outcome] {
        try await read { db in
            var sql = "SELECT * FROM outcome WHERE voided_at IS NULL"
            var arguments: StatementArguments = []
            if let ref {
                sql += " AND dispute_id = ?"
                arguments += [try Self.findDispute(ref, db).dispute.id]
            }
            if let range {
                sql += " AND held_at >= ? AND held_at < ?"
                arguments += [range.start.epoch, range.end.epoch]
            }
            return try Row.fetchAll(db, sql: sql + " ORDER BY held_at, id", arguments: arguments).map {
                try Self.outcome($0)
            }
        }
    }

    /// The columns of `outcome`.
    enum OutcomeColumns {
        static let id = Column("id")
        static let sessionId = Column("session_id")
        static let disputeId = Column("dispute_id")
        static let result = Column("result")
        static let terms = Column("terms")
        static let amountFen = Column("amount_fen")
        static let signed = Column("signed")
        static let notes = Column("notes")
        static let referredTo = Column("referred_to")
        static let recordedAt = Column("recorded_at")
        static let recordedUid = Column("recorded_uid")
        static let recordedBy = Column("recorded_by")
        static let amendedAt = Column("amended_at")
        static let amendedBy = Column("amended_by")
        static let voidedAt = Column("voided_at")
        static let voidedBy = Column("voided_by")
        static let voidReason = Column("void_reason")
    }

    /// A row of `outcome`.
    ///
    /// - Throws: `unavailable` naming the column and the outcome when a value cannot be read.
    static func outcome(_ row: Row) throws -> Outcome {
        typealias C = OutcomeColumns
        let r = StoredRow(row, table: "outcome")
        return Outcome(
            id: try r.value(C.id), sessionId: try r.value(C.sessionId), disputeId: try r.value(C.disputeId),
            result: try r.value(C.result), terms: try r.optional(C.terms), amountFen: try r.optional(C.amountFen),
            signed: try r.value(C.signed), notes: try r.optional(C.notes), referredTo: try r.optional(C.referredTo),
            recordedAt: try r.date(C.recordedAt),
            recordedByUid: UInt32(truncatingIfNeeded: try r.value(C.recordedUid) as Int64),
            recordedBy: try r.optional(C.recordedBy), amendedAt: try r.optionalDate(C.amendedAt),
            amendedBy: try r.optional(C.amendedBy), voidedAt: try r.optionalDate(C.voidedAt),
            voidedBy: try r.optional(C.voidedBy), voidReason: try r.optional(C.voidReason))
    }

    /// The session's outcome voided most recently, if any, for saying why it has none in force.
    public func voidedOutcome(session id: Int64) async throws -> Outcome? {
        try await read { db in
            try db.cachedRow(
                "SELECT * FROM outcome WHERE session_id = ? AND voided_at IS NOT NULL ORDER BY voided_at DESC LIMIT 1",
                [id]
            ).map { try Self.outcome($0) }
        }
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
                    WHERE (? IS NULL OR f.office_id = ?) AND (? = 'all' OR f.result IS NULL) AND f.cancelled_at IS NULL
                    ORDER BY f.due_day, f.id
                    """,
                arguments: [office?.lowercased(), office?.lowercased(), scope.rawValue])
            return try rows.compactMap { row -> FollowUp? in
                let f = try Self.followUp(row)
                let today = try Self.officeZone(of: row).wallClock(now).date
                switch scope {
                case .due: return f.dueOn <= today.adding(days: 1) ? f : nil
                case .overdue: return f.isOverdue(today: today) ? f : nil
                case .open, .all: return f
                }
            }
        }
    }

    /// The columns of `followup`.
    enum FollowUpColumns {
        static let id = Column("id")
        static let disputeId = Column("dispute_id")
        static let sessionId = Column("session_id")
        static let outcomeId = Column("outcome_id")
        static let officeId = Column("office_id")
        static let dueDay = Column("due_day")
        static let offsetDays = Column("offset_days")
        static let assigneeExpertId = Column("assignee_expert_id")
        static let result = Column("result")
        static let notes = Column("notes")
        static let recordedAt = Column("recorded_at")
        static let recordedBy = Column("recorded_by")
        static let cancelReason = Column("cancel_reason")
    }

    /// A row of `followup`.
    ///
    /// - Throws: `unavailable` naming the column and the visit when a value cannot be read.
    static func followUp(_ row: Row) throws -> FollowUp {
        typealias C = FollowUpColumns
        let r = StoredRow(row, table: "followup")
        return FollowUp(
            id: try r.value(C.id), disputeId: try r.value(C.disputeId), sessionId: try r.value(C.sessionId),
            outcomeId: try r.value(C.outcomeId), officeId: try r.value(C.officeId),
            dueOn: LocalDate(dayNumber: try r.value(C.dueDay)), offsetDays: try r.value(C.offsetDays),
            assigneeExpertId: try r.optional(C.assigneeExpertId), result: try r.optional(C.result),
            notes: try r.optional(C.notes), recordedAt: try r.optionalDate(C.recordedAt),
            recordedBy: try r.optional(C.recordedBy))
    }

    /// The zone of the office a row joined with `office` (as `o.time_zone`) belongs to, read strictly.
    static func officeZone(of row: Row) throws -> Zone {
        let office = (try? StoredRow(row, table: "office").value(Column("office_id")) as String) ?? "?"
        return try StoredRow(row, table: "office", key: "row id '\(office)'").zone(OfficeRecord.Columns.timeZone)
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
            throw MediationError.said(
                .invalidInput, field: "kind",
                en: "an escalated visit needs the escalation's kind; give --kind criminal, violence or petition",
                zh: "回访结果为“升级”时须选择升级类型：" + EscalationKind.allCases.map(\.chinese).joined(separator: "、"))
        }
        return try await write { db in
            guard
                let row = try db.cachedRow(
                    "SELECT f.*, o.time_zone FROM followup f JOIN office o ON o.id = f.office_id WHERE f.id = ?", [id])
            else {
                throw MediationError.said(
                    .notFound, en: "no follow-up #\(id); 'followup list --all' shows them",
                    zh: "没有编号为 \(id) 的回访；'followup list --all' 会列出全部回访")
            }
            var f = try Self.followUp(row)
            if let cancelled: String = try StoredRow(row, table: "followup").optional(FollowUpColumns.cancelReason) {
                throw MediationError.said(
                    .conflict, field: "result",
                    en: "follow-up #\(id) was cancelled (\(cancelled)); there is nothing to record",
                    zh: "回访 #\(id) 已经取消，无需记录结果")
            }
            let zone = try Self.officeZone(of: row)
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
                let r = StoredRow(row, table: "escalation")
                return Escalation(
                    id: try r.value(Column("id")), disputeId: try r.value(Column("dispute_id")),
                    kind: try r.value(Column("kind")),
                    occurredOn: LocalDate(dayNumber: try r.value(Column("occurred_day"))),
                    caseReference: try r.optional(Column("case_reference")), notes: try r.optional(Column("notes")),
                    followUpId: try r.optional(Column("followup_id")), recordedAt: try r.date(Column("recorded_at")),
                    recordedBy: try r.optional(Column("recorded_by")))
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
                let r = StoredRow(row, table: "dispute")
                out[try r.value(Column("id"))] = try r.value(Column("number")) as String
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
                    let r = StoredRow(row, table: "office")
                    return (try r.value(OfficeRecord.Columns.id) as String, try r.zone(OfficeRecord.Columns.timeZone))
                })
            let disputes = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, d.number, d.office_id, d.risk, d.status,
                      COALESCE((SELECT MAX(at) FROM dispute_status_change c WHERE c.dispute_id = d.id), d.opened_at) AS since
                    FROM dispute d WHERE d.status IN ('open', 'unresolved') AND d.risk IN ('high', 'critical')
                    """
            ).map { row in
                let r = StoredRow(row, table: "dispute")
                return WarningInput.WaitingDispute(
                    id: try r.value(Column("id")), number: try r.value(Column("number")),
                    officeId: try r.value(Column("office_id")), risk: try r.value(Column("risk")),
                    status: try r.value(Column("status")), waitingSince: try r.date(Column("since")))
            }
            let noShows = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, d.number, d.office_id, COUNT(*) AS n FROM session s JOIN dispute d ON d.id = s.dispute_id
                    WHERE s.status = 'no_show' GROUP BY d.id HAVING COUNT(*) >= ?
                    """, arguments: [settings.noShows]
            ).map { row in
                let r = StoredRow(row, table: "dispute")
                return WarningInput.NoShowCount(
                    disputeId: try r.value(Column("id")), number: try r.value(Column("number")),
                    officeId: try r.value(Column("office_id")), count: try r.value(Column("n")))
            }
            let followUps = try Row.fetchAll(
                db,
                sql: """
                    SELECT f.*, d.number FROM followup f JOIN dispute d ON d.id = f.dispute_id
                    WHERE f.cancelled_at IS NULL AND (f.result IS NULL OR f.result = 'relapsed')
                    """
            ).map { row in
                (try Self.followUp(row), try StoredRow(row, table: "dispute").value(Column("number")) as String)
            }
            let candidates = try WarningRules.evaluate(
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
                let r = StoredRow(row, table: "warning")
                return EarlyWarning(
                    id: try r.value(Column("id")), rule: try r.value(Column("rule")),
                    subject: try r.value(Column("subject")), disputeId: try r.value(Column("dispute_id")),
                    officeId: try r.value(Column("office_id")), message: try r.value(Column("message")),
                    raisedAt: try r.date(Column("raised_at")), deliveredAt: try r.optionalDate(Column("delivered_at")),
                    channel: try r.optional(Column("channel")))
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
                let r = StoredRow(row, table: "expert")
                out[try r.value(Column("id"))] = try r.value(Column("name")) as String
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
            ).map { try Self.followUp($0) }
        }
    }
}

extension AppDatabase {
    /// 人民调解协议书 of a session whose outcome is an agreement: Core's `AgreementSheet` from the session, its dispute
    /// and parties, its outcome, its panel and its office; the parties' numbers in full only when `reveal` (the
    /// caller's role is in `privacy.reveal_roles`). Every printing is on the audit record (`outcome.agreement`), with
    /// whether the numbers were shown in full. The API's getAgreement and the console's print button call this.
    ///
    /// - Throws: `notFound` for an unknown session or one without an outcome in force; `conflict` when the outcome is
    ///   not an agreement.
    public func printAgreement(session id: Int64, reveal: Bool) async throws -> AgreementSheet {
        let session = try await self.session(id)
        let detail = try await dispute(String(session.disputeId))
        let outcomes = try await outcomes(dispute: String(session.disputeId))
        guard let outcome = outcomes.first(where: { $0.sessionId == id }) else {
            let en = "session #\(id) has no outcome in force; record it with 'outcome record \(id) agreement --terms …'"
            throw MediationError(
                .notFound, en,
                fields: [FieldProblem(field: "agreement", en: en, zh: "本场调解还没有记录结果，不能打印调解协议书")])
        }
        // Its number among the dispute's agreements, in the order of their sessions: JS-2026-0042-XY1, -XY2 …
        let agreements = outcomes.filter { [.agreement, .partialAgreement].contains($0.result) }
            .sorted { ($0.sessionId, $0.id) < ($1.sessionId, $1.id) }
        let ordinal = (agreements.firstIndex { $0.id == outcome.id } ?? agreements.count) + 1
        let names = try await expertNames(session.panel.map(\.expertId))
        let office = try await self.office(session.officeId)
        let sheet = try AgreementSheet(
            dispute: detail.dispute, parties: detail.parties, session: session, outcome: outcome, ordinal: ordinal,
            mediators: Self.mediators(session, names), officeName: office.name, zone: try Zone(office.timeZone),
            reveal: reveal)
        try await recordAudit(
            action: "outcome.agreement", target: "session \(id)",
            summary: "dispute \(detail.dispute.number): printed agreement \(sheet.number), "
                + (reveal ? "parties' numbers in full" : "parties' numbers masked"))
        return sheet
    }
}

extension AppDatabase {
    /// 调解笔录 of a session, to fill in by hand (the API's getSessionRecord, `mediationctl session minutes`, the
    /// console's print button): names only, no numbers, so nothing is revealed and nothing audited.
    ///
    /// - Throws: `notFound` for an unknown session.
    public func recordSheet(session id: Int64) async throws -> RecordSheet {
        let session = try await self.session(id)
        let detail = try await dispute(String(session.disputeId))
        let names = try await expertNames(session.panel.map(\.expertId))
        let office = try await self.office(session.officeId)
        return RecordSheet(
            dispute: detail.dispute, parties: detail.parties, session: session,
            mediators: Self.mediators(session, names), officeName: office.name, zone: try Zone(office.timeZone))
    }

    /// The mediators a document names: the panel without anyone who declined the invitation (they did not sit).
    static func mediators(_ session: Session, _ names: [Int64: String]) -> [(
        name: String, role: ExpertRole, lead: Bool
    )] {
        session.panel.filter { $0.invitation != .declined }.map {
            (names[$0.expertId] ?? "#\($0.expertId)", $0.requirement.role, $0.lead)
        }
    }
}
