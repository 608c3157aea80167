import Foundation
import GRDB
import MediationCore

/// Who is changing the store, as the server's access layer identified them. The server binds it for each
/// request; every write method records its audit row inside its own transaction when one is bound, so the row
/// commits or rolls back with the change. Writes with no actor bound (the outbox dispatcher's bookkeeping) are
/// not audited.
///
/// For example:
/// ```swift
/// try await AuditActor.$current.withValue(AuditActor(uid: 1000, user: "alice", role: "staff")) {
///     try await db.openDispute(draft, categories: categories, actor: actor)
/// }
/// ```
public struct AuditActor: Sendable, Hashable {
    public var uid: UInt32
    public var user: String?
    /// `viewer`, `staff`, `admin`, or `system` for the daemon's own timers.
    public var role: String

    public init(uid: UInt32, user: String?, role: String) {
        self.uid = uid
        self.user = user
        self.role = role
    }

    /// The actor of the change being made.
    @TaskLocal public static var current: AuditActor?

    /// The daemon itself, for changes its timers make (the retention policy).
    public static func system(uid: UInt32) -> AuditActor { AuditActor(uid: uid, user: "mediationd", role: "system") }
}

/// One row of the audit trail: who did what to which thing, and when.
public struct AuditEntry: Sendable, Hashable {
    public var id: Int64
    public var at: Date
    public var uid: UInt32
    public var user: String?
    public var role: String
    /// What was done, as `noun.verb`: `dispute.open`, `session.book`, `party.reveal`.
    public var action: String
    /// What it was done to: `dispute JS-2026-0042`, `session 12`.
    public var target: String
    /// What changed, in a line; never a full mobile or ID-card number.
    public var summary: String
}

/// Which audit rows a listing returns; nil fields do not filter. Newest first.
public struct AuditFilter: Sendable, Equatable {
    public var since: Date?
    /// A user name or a uid.
    public var actor: String?
    /// Text the target contains (`JS-2026-0042`, `session 12`).
    public var target: String?
    public var limit: Int

    public init(since: Date? = nil, actor: String? = nil, target: String? = nil, limit: Int = 100) {
        self.since = since
        self.actor = actor
        self.target = target
        self.limit = limit
    }
}

/// Masks what looks like a mobile or an ID-card number, so an audit line never carries one in full.
public enum AuditText {
    /// `13800138000` becomes `138****8000`; an 18-character ID number becomes `4301**********1234`.
    public static func scrub(_ text: String) -> String {
        // Most summaries hold no run of seven digits, the shortest that is masked: they stay as they are.
        // (A run of digit characters is at least as long in bytes, so this never lets one through.)
        var longest = 0
        var digits = 0
        for byte in text.utf8 {
            digits = (0x30...0x39).contains(byte) ? digits + 1 : 0
            longest = max(longest, digits)
        }
        if longest < 7 { return text }
        var out = ""
        var run = ""
        func flush() {
            if run.count == 18 || run.count == 15 {
                out += IDCard.mask(run)
            } else if run.count == 11, run.hasPrefix("1") {
                out += Contact.maskMobile(run)
            } else if run.count >= 7 {
                // Any other long number (a mobile with its country code): keep only its ends.
                out += Contact.maskMobile(run)
            } else {
                out += run
            }
            run = ""
        }
        for c in text {
            if c.isASCII && (c.isNumber || ((c == "X" || c == "x") && run.count == 17)) {
                run.append(c)
            } else {
                flush()
                out.append(c)
            }
        }
        flush()
        return out
    }
}

extension AppDatabase {
    /// Records one audit row inside the transaction `db` belongs to, for the bound actor; nothing without one.
    ///
    /// - Throws: what SQLite throws; the change it describes then rolls back with it.
    func audit(_ db: Database, _ action: String, _ target: String, _ summary: String) throws {
        try Self.audit(db, at: clock.now(), action, target, summary)
    }

    /// `audit`, for the static helpers that run inside a write and know its time.
    static func audit(_ db: Database, at: Date, _ action: String, _ target: String, _ summary: String) throws {
        guard let actor = AuditActor.current else { return }
        try db.cachedExecute(
            "INSERT INTO audit (at, uid, user, role, action, target, summary) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                at.epoch, Int64(actor.uid), actor.user, actor.role, action, AuditText.scrub(target),
                AuditText.scrub(summary),
            ])
    }

    /// Records an audit row on its own, for an action that changes nothing else (a reveal, a test message).
    ///
    /// For example:
    /// ```swift
    /// try await db.recordAudit(action: "party.reveal", target: "dispute JS-2026-0042", summary: "2 parties")
    /// ```
    public func recordAudit(action: String, target: String, summary: String) async throws {
        try await write { db in try self.audit(db, action, target, summary) }
    }

    /// Puts a reveal of a dispute's parties on the record (`party.reveal`): whose full numbers were shown, by id,
    /// never a number. Every reveal is recorded, even of a dispute whose parties have nothing left to show; the API's
    /// `--reveal` and the console's reveal button both call this.
    public func recordPartyReveal(_ detail: DisputeDetail) async throws {
        let shown = detail.parties.filter { $0.mobile != nil || $0.idCard != nil }
        try await recordAudit(
            action: "party.reveal", target: "dispute \(detail.dispute.number)",
            summary: "full mobiles and ID-card numbers of \(shown.count) of \(detail.parties.count) parties shown"
                + (shown.isEmpty ? "" : ": " + shown.map { "party \($0.id)" }.joined(separator: ", ")))
    }

    /// Audit rows, newest first.
    ///
    /// - Throws: `invalidInput` for a limit outside 1…10,000.
    public func auditEntries(_ filter: AuditFilter = AuditFilter()) async throws -> [AuditEntry] {
        guard InputLimits.listLimit.contains(filter.limit) else {
            throw MediationError.said(
                .invalidInput, field: "limit",
                en: "limit \(filter.limit) is out of range; give a limit from 1 to 10000",
                zh: "条数 \(filter.limit) 超出范围，请填写 1 到 10000 之间的数")
        }
        let actor = filter.actor.flatMap(Text.nonEmpty)
        let uid = actor.flatMap { UInt32($0) }.map(Int64.init)
        let target = filter.target.flatMap(Text.nonEmpty).map { "%" + Self.escapeLike($0) + "%" }
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM audit
                    WHERE (? IS NULL OR at >= ?)
                      AND (? IS NULL OR user = ? OR uid = ?)
                      AND (? IS NULL OR target LIKE ? ESCAPE '\\')
                    ORDER BY id DESC LIMIT ?
                    """,
                arguments: [
                    filter.since?.epoch, filter.since?.epoch, actor, actor, uid, target, target, filter.limit,
                ]
            ).map { row in try Self.auditEntry(row) }
        }
    }

    /// A dispute's audit trail, newest first: rows about the dispute and its parties, its sessions, and its outcomes
    /// and follow-up visits (whose summaries name the dispute).
    public func auditTrail(dispute number: String, sessions: [Int64], limit: Int = 50) async throws -> [AuditEntry] {
        let target = "dispute \(number)"
        let sessionTargets = sessions.map { "session \($0)" }
        let marks =
            sessionTargets.isEmpty
            ? "" : " OR target IN (" + sessionTargets.map { _ in "?" }.joined(separator: ", ") + ")"
        let escaped = Self.escapeLike(target)
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM audit
                    WHERE target = ? OR target LIKE ? ESCAPE '\\' OR summary LIKE ? ESCAPE '\\'\(marks)
                    ORDER BY id DESC LIMIT ?
                    """,
                arguments: StatementArguments(
                    ([target, escaped + " %", escaped + ":%"] + sessionTargets).map {
                        $0 as any DatabaseValueConvertible
                    }
                        + [limit])
            ).map { row in try Self.auditEntry(row) }
        }
    }

    static func auditEntry(_ row: Row) throws -> AuditEntry {
        let r = StoredRow(row, table: "audit")
        return AuditEntry(
            id: try r.value(Column("id")), at: try r.date(Column("at")), uid: try r.value(Column("uid")),
            user: try r.optional(Column("user")), role: try r.value(Column("role")),
            action: try r.value(Column("action")), target: try r.value(Column("target")),
            summary: try r.value(Column("summary")))
    }

    private static func escapeLike(_ text: String) -> String {
        var out = ""
        for c in text {
            if c == "%" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}

/// What one run of the retention policy did (or would do, on a dry run).
public struct RetentionReport: Sendable, Equatable {
    /// Disputes closed before this instant had their parties' details removed.
    public var cutoff: Date
    public var disputes: Int
    public var parties: Int
    public var dryRun: Bool
}

extension AppDatabase {
    /// Removes the mobile, email and ID-card number of every party of a dispute closed more than `months`
    /// months ago. Names, sides, counts, outcomes and reports stay, so statistics keep working. One audit row
    /// records the run with its counts (none on a dry run, which writes nothing).
    ///
    /// For example:
    /// ```swift
    /// let report = try await db.applyRetention(months: 24, dryRun: true)
    /// ```
    /// - Throws: `invalidInput` for a period outside 1…1200 months.
    public func applyRetention(months: Int, dryRun: Bool) async throws -> RetentionReport {
        guard (1...1200).contains(months) else {
            throw MediationError.said(
                .invalidInput,
                en:
                    "a retention period of \(months) months is out of range; set privacy.retention_months from 1 to 1200",
                zh: "保存期限 \(months) 个月超出范围，请把配置中的 privacy.retention_months 设为 1 到 1200")
        }
        let now = clock.now()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let cutoff = calendar.date(byAdding: .month, value: -months, to: now) ?? now
        let select = """
            FROM party WHERE (mobile IS NOT NULL OR email IS NOT NULL OR id_card IS NOT NULL)
              AND dispute_id IN
                (SELECT id FROM dispute INDEXED BY dispute_on_closed_at WHERE status = 'closed' AND closed_at < ?)
            """
        let count: @Sendable (Database) throws -> RetentionReport = { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT COUNT(DISTINCT dispute_id) AS d, COUNT(*) AS p " + select, arguments: [cutoff.epoch])
            return RetentionReport(
                cutoff: cutoff, disputes: row?["d"] ?? 0, parties: row?["p"] ?? 0, dryRun: dryRun)
        }
        if dryRun { return try await read(count) }
        return try await write { db in
            let report = try count(db)
            try db.execute(
                sql: "UPDATE party SET mobile = NULL, email = NULL, id_card = NULL, anonymised_at = ? WHERE id IN "
                    + "(SELECT id " + select + ")",
                arguments: [now.epoch, cutoff.epoch])
            try self.audit(
                db, "retention.run", "parties",
                "removed the contact details and ID numbers of \(report.parties) parties of \(report.disputes) "
                    + "disputes closed before \(Zone.shanghai.format(cutoff)) (\(months) months)")
            return report
        }
    }
}
