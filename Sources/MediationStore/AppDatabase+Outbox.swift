import Foundation
import GRDB
import MediationCore

/// Messages whose time has come: those that read, and the rows that do not (never sent), with why.
public struct DueMessages: Sendable {
    public var messages: [OutboxMessage] = []
    public var unreadable: [(id: Int64, error: MediationError)] = []

    public init(messages: [OutboxMessage] = [], unreadable: [(id: Int64, error: MediationError)] = []) {
        self.messages = messages
        self.unreadable = unreadable
    }
}

/// Which messages a listing returns.
public struct OutboxFilter: Sendable, Equatable {
    public var status: OutboxStatus?
    public var session: Int64?
    /// Only messages of this office's sessions.
    public var office: String?
    public var limit: Int

    public init(status: OutboxStatus? = nil, session: Int64? = nil, office: String? = nil, limit: Int = 500) {
        self.status = status
        self.session = session
        self.office = office
        self.limit = limit
    }
}

/// One delivery attempt's outcome, to be stored.
public struct AttemptRecord: Sendable {
    public var message: Int64
    public var channel: String
    /// `sent`, `transient`, `permanent` or `skipped`.
    public var result: String
    public var detail: String
    public var status: OutboxStatus
    public var retryAt: Date?
    /// When the attempt was made, when it is stored later than that (the store could not be written at the
    /// time); nil for the moment it is stored.
    public var at: Date?
    /// For an SMS a gateway took: what to ask its delivery receipt by.
    public var receipt: ReceiptTicket?

    public init(
        message: Int64, channel: String, result: String, detail: String, status: OutboxStatus, retryAt: Date?,
        at: Date? = nil
    ) {
        self.message = message
        self.channel = channel
        self.result = result
        self.detail = detail
        self.status = status
        self.retryAt = retryAt
        self.at = at
    }
}

extension AppDatabase {
    // MARK: Queuing, inside the change's own transaction

    /// The panel's and the parties' notices and reminders for a new booking (or for `only` of them).
    static func queueBooking(
        _ db: Database, session: Session, rules: SchedulingRules, now: Date, kind: NoticeKind = .notice,
        only experts: [Int64]? = nil, parties includeParties: Bool = true
    ) throws {
        let recipients = try recipients(of: session, db, experts: experts, parties: includeParties)
        try queue(
            db, session: session, messages(kind, to: recipients, session: session, rules: rules, now: now), now: now)
    }

    /// A notice for each recipient now, then each reminder whose moment is still ahead.
    private static func messages(
        _ kind: NoticeKind, to recipients: [(RecipientKind, Int64)], session: Session, rules: SchedulingRules,
        now: Date
    ) -> [QueuedMessage] {
        var rows: [QueuedMessage] = []
        for (recipientKind, id) in recipients {
            rows.append(QueuedMessage(kind: kind, recipient: recipientKind, id: id, due: now, offset: nil))
            for offset in Set(rules.reminderOffsetsMinutes).sorted(by: >) {
                let due = session.start.addingTimeInterval(-Double(offset) * 60)
                // A reminder whose moment has already passed at booking time would only arrive late.
                guard due > now else { continue }
                rows.append(QueuedMessage(kind: .reminder, recipient: recipientKind, id: id, due: due, offset: offset))
            }
        }
        return rows
    }

    /// A party added to a dispute whose session is booked and still ahead hears of it as the others did: the
    /// notice now and the reminders still to come. Returns the sessions it was told of.
    static func queueNewParty(_ db: Database, party id: Int64, dispute: Int64, rules: SchedulingRules, now: Date)
        throws -> [Int64]
    {
        // A party who chose to be told by staff (channel none) gets nothing queued.
        guard try String.fetchOne(db, sql: "SELECT channel FROM party WHERE id = ?", arguments: [id]) != "none" else {
            return []
        }
        let sessions = try SessionRecord.fetchAll(
            db, sql: "SELECT * FROM session WHERE dispute_id = ? AND status = 'booked' AND starts_at > ? ORDER BY id",
            arguments: [dispute, now.epoch])
        for record in sessions {
            try queue(
                db, session: record.session,
                messages(.notice, to: [(.party, id)], session: record.session, rules: rules, now: now), now: now)
        }
        return sessions.map(\.session.id)
    }

    /// A removed party's messages still waiting are skipped: there is no one left to send them to.
    static func skipRemovedParty(_ db: Database, party id: Int64) throws {
        try db.execute(
            sql: """
                UPDATE outbox_message SET status = 'skipped', last_error = 'the party was removed from the dispute'
                WHERE recipient_kind = 'party' AND recipient_id = ? AND status IN ('pending', 'failed', 'dead')
                """,
            arguments: [id])
    }

    /// One message to be queued for a session.
    struct QueuedMessage {
        var kind: NoticeKind
        var recipient: RecipientKind
        var id: Int64
        var due: Date
        var offset: Int?
    }

    /// Queues several messages with as few statements as possible (a booking queues nine): one INSERT per group of
    /// up to `perStatement` rows, each group size's statement prepared once and cached.
    private static func queue(_ db: Database, session: Session, _ rows: [QueuedMessage], now: Date) throws {
        let perStatement = 16
        var start = 0
        while start < rows.count {
            let group = rows[start..<min(rows.count, start + perStatement)]
            start += group.count
            let values = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)", count: group.count)
            var arguments: [(any DatabaseValueConvertible)?] = []
            arguments.reserveCapacity(group.count * 10)
            let random = RandomBits.words(group.count * 2)
            for (i, m) in group.enumerated() {
                arguments += [
                    token(
                        session: session, kind: m.kind, recipient: m.recipient, id: m.id, random[2 * i],
                        UInt32(truncatingIfNeeded: random[2 * i + 1])), session.id,
                    m.kind.rawValue, m.recipient.rawValue, m.id, m.offset, session.sequence, m.due.epoch, m.due.epoch,
                    now.epoch,
                ]
            }
            try db.cachedExecute(
                """
                INSERT INTO outbox_message (token, session_id, kind, recipient_kind, recipient_id, offset_minutes,
                  sequence, due_at, status, attempts, next_attempt_at, created_at)
                VALUES
                """ + values.joined(separator: ", "), StatementArguments(arguments))
        }
    }

    /// A moved session: what was still waiting is replaced by one update each and new reminders.
    static func queueReschedule(_ db: Database, session: Session, rules: SchedulingRules, now: Date) throws {
        try skipPending(
            db, session: session.id, kinds: [.notice, .update, .reminder, .added], reason: "the session moved")
        try queueBooking(db, session: session, rules: rules, now: now, kind: .update)
    }

    /// A cancelled session: nothing else goes out; those who heard of it hear of the cancellation.
    static func queueCancellation(_ db: Database, session: Session, now: Date) throws {
        let informed = try informedRecipients(db, session: session.id)
        try skipPending(
            db, session: session.id, kinds: NoticeKind.allCases.filter { !$0.survivesCancellation },
            reason: "the session was cancelled before this was sent")
        for (kind, id) in try recipients(of: session, db, experts: nil, parties: true)
        where informed.contains(RecipientKey(kind: kind, id: id)) {
            try queue(db, session: session, kind: .cancel, recipient: kind, id: id, due: now, now: now)
        }
    }

    /// A panel change: the expert taken off hears so (if they had heard of the session), the new one is invited.
    static func queueReplacement(
        _ db: Database, session: Session, removed: Int64, added: Int64, rules: SchedulingRules, now: Date
    ) throws {
        let informed = try informedRecipients(db, session: session.id)
        try db.cachedExecute(
            """
            UPDATE outbox_message SET status = 'skipped', last_error = 'taken off the panel before this was sent'
            WHERE session_id = ? AND recipient_kind = 'expert' AND recipient_id = ? AND status IN ('pending', 'failed')
            """, [session.id, removed])
        if informed.contains(RecipientKey(kind: .expert, id: removed)) {
            try queue(db, session: session, kind: .removed, recipient: .expert, id: removed, due: now, now: now)
        }
        try queueBooking(db, session: session, rules: rules, now: now, kind: .added, only: [added], parties: false)
    }

    /// A follow-up visit's reminder at 08:00 on its day (office zone), to the panel's community staff member who
    /// visits, when there is one, and to the office.
    static func queueFollowUpReminder(_ db: Database, followUp f: FollowUp, session: Session, zone: Zone, now: Date)
        throws
    {
        let due = followUpReminderTime(f, zone: zone)
        if let expert = f.assigneeExpertId {
            try queue(db, session: session, kind: .followup, recipient: .expert, id: expert, due: due, now: now)
        }
        try queue(db, session: session, kind: .followup, recipient: .office, id: 0, due: due, now: now)
    }

    /// A panel member's answer, to the office.
    static func queueRSVP(_ db: Database, session: Session, expert: Int64, now: Date) throws {
        try queue(db, session: session, kind: .rsvp, recipient: .expert, id: expert, due: now, now: now)
    }

    private struct RecipientKey: Hashable {
        var kind: RecipientKind
        var id: Int64
    }

    /// Recipients who were sent anything about the session (or whose message is on its way right now).
    private static func informedRecipients(_ db: Database, session: Int64) throws -> Set<RecipientKey> {
        Set(
            try db.cachedRows(
                "SELECT DISTINCT recipient_kind, recipient_id FROM outbox_message WHERE session_id = ? AND status = 'sent'",
                [session]
            ).map { row in
                let r = StoredRow(row, table: "outbox_message", key: "sent to session #\(session)")
                return RecipientKey(kind: try r.value(Columns.recipientKind), id: try r.value(Columns.recipientId))
            })
    }

    private static func skipPending(_ db: Database, session: Int64, kinds: [NoticeKind], reason: String) throws {
        try db.cachedExecute(
            """
            UPDATE outbox_message SET status = 'skipped', last_error = ?
            WHERE session_id = ? AND status IN ('pending', 'failed')
              AND kind IN (SELECT value FROM json_each(?))
            """,
            [reason, session, "[" + kinds.map { "\"\($0.rawValue)\"" }.joined(separator: ",") + "]"])
    }

    /// The panel's experts, then the parties, in a stable order.
    private static func recipients(of session: Session, _ db: Database, experts: [Int64]?, parties: Bool) throws
        -> [(RecipientKind, Int64)]
    {
        var list = session.panel.map(\.expertId).filter { experts?.contains($0) ?? true }.map {
            (RecipientKind.expert, $0)
        }
        if parties {
            list += try Int64.fetchAll(
                // A party who chose to be told by staff (channel none) gets nothing queued.
                db.cachedStatement(
                    sql: "SELECT id FROM party WHERE dispute_id = ? AND channel IS NOT 'none' ORDER BY id"),
                arguments: [session.disputeId]
            ).map { (RecipientKind.party, $0) }
        }
        return list
    }

    private static func queue(
        _ db: Database, session: Session, kind: NoticeKind, recipient: RecipientKind, id: Int64, due: Date, now: Date,
        offset: Int? = nil
    ) throws {
        try queue(
            db, session: session, [QueuedMessage(kind: kind, recipient: recipient, id: id, due: due, offset: offset)],
            now: now)
    }

    /// A message's unguessable name: its session, kind and recipient, then 96 random bits (`a` and `b`) as hex
    /// (String(format:) would cost more than the insert).
    private static func token(
        session: Session, kind: NoticeKind, recipient: RecipientKind, id: Int64, _ a: UInt64, _ b: UInt32
    ) -> String {
        return
            "s\(session.id).\(kind.rawValue).\(recipient.rawValue)\(id).\(String(a, radix: 16))-\(String(b, radix: 16))"
    }

    // MARK: Dispatching

    /// Messages whose time has come, oldest first, and those of them that cannot be read (each with the error
    /// naming its column): those are never sent, and never read as something they are not.
    public func dueMessages(limit: Int = 100) async throws -> DueMessages {
        let now = clock.now()
        return try await read { db in
            var due = DueMessages()
            for row in try db.cachedRows(
                """
                SELECT * FROM outbox_message WHERE status IN ('pending', 'failed') AND next_attempt_at <= ?
                ORDER BY next_attempt_at, id LIMIT ?
                """, [now.epoch, limit])
            {
                do { due.messages.append(try Self.message(row)) } catch let error as MediationError {
                    due.unreadable.append((try StoredRow(row, table: "outbox_message").value(Columns.id), error))
                }
            }
            return due
        }
    }

    /// When the next waiting message falls due, if any.
    public func nextDue() async throws -> Date? {
        try await read { db in
            try Double.fetchOne(
                db.cachedStatement(
                    sql: "SELECT min(next_attempt_at) FROM outbox_message WHERE status IN ('pending', 'failed')")
            ).map(Date.init(epoch:))
        }
    }

    /// What many messages are rendered from, read in one transaction: for each message, its context or why it
    /// cannot be read (a session that is gone, a stored value this version cannot read).
    public func noticeContexts(messages: [OutboxMessage]) async throws -> [Int64: Result<NoticeContext, any Error>] {
        try await read { db in
            // Messages of one session share its reads (a booking's notices go out together).
            var contexts: [Int64: Result<NoticeContext, any Error>] = [:]
            for (_, group) in Dictionary(grouping: messages, by: \.sessionId) {
                let experts = Set(group.filter { $0.recipientKind == .expert }.map(\.recipientId))
                guard let first = group.first else { continue }
                let shared = Result { try Self.context(first, db, alsoExperts: experts) }
                for m in group {
                    contexts[m.id] = shared.map { c in
                        var c = c
                        c.message = m
                        return c
                    }
                }
            }
            return contexts
        }
    }

    /// Records many attempts in one transaction (one fsync for a whole batch). With `groupLines` (the office has a
    /// group chat), a panel member told of a change to their session also queues the office's line about that
    /// change for the group (see `queueGroupLine`).
    public func recordAttempts(_ attempts: [AttemptRecord], groupLines: Bool = false) async throws {
        guard !attempts.isEmpty else { return }
        let now = clock.now()
        try await write { db in
            for a in attempts {
                try Self.record(a, db, now: a.at ?? now)
                if groupLines && a.status == .sent { try Self.queueGroupLine(db, after: a.message, now: now) }
            }
        }
    }

    /// The office's one line in its group chat about the change `message` told a panel member of, queued when the
    /// first member has been told: one per change (the session's sequence), never one per recipient. A group that
    /// has heard nothing of the session yet hears of it as booked (at its time as it is now); the cancellation of
    /// a session it never heard of is not announced.
    static func queueGroupLine(_ db: Database, after message: Int64, now: Date) throws {
        guard
            let row = try db.cachedRow(
                "SELECT id, session_id, kind, recipient_kind FROM outbox_message WHERE id = ?", [message])
        else { return }
        let r = StoredRow(row, table: "outbox_message")
        let kind: NoticeKind = try r.value(Columns.kind)
        guard kind.changesSession, try r.value(Columns.recipientKind) == RecipientKind.expert else { return }
        let session = try findSession(try r.value(Columns.sessionId), db).session
        let changes =
            "[" + NoticeKind.allCases.filter(\.changesSession).map { "\"\($0.rawValue)\"" }.joined(separator: ",") + "]"
        let lines = try db.cachedRows(
            """
            SELECT sequence, status FROM outbox_message
            WHERE session_id = ? AND recipient_kind = 'office' AND kind IN (SELECT value FROM json_each(?))
            """, [session.id, changes])
        let told = lines.map {
            StoredRow($0, table: "outbox_message", key: "to the office about session #\(session.id)")
        }
        guard try !told.contains(where: { try $0.value(Columns.sequence) == session.sequence }) else { return }
        let heard = try told.contains { try $0.value(Columns.status) == OutboxStatus.sent }
        guard heard || kind != .cancel else { return }
        try queue(db, session: session, kind: heard ? kind : .notice, recipient: .office, id: 0, due: now, now: now)
    }

    /// Marks sent the messages a channel took before the daemon stopped (from the hand-over journal: outbox id and
    /// channel), unless their outcome was stored after all. Returns how many it marked.
    @discardableResult
    public func recordTaken(_ taken: [(id: Int64, channel: String)], detail: String) async throws -> Int {
        guard !taken.isEmpty else { return 0 }
        let now = clock.now()
        return try await write { db in
            var marked = 0
            var seen = Set<Int64>()
            for (id, channel) in taken where seen.insert(id).inserted {
                let status = try String.fetchOne(
                    db, sql: "SELECT status FROM outbox_message WHERE id = ?", arguments: [id])
                guard let status, status != OutboxStatus.sent.rawValue else { continue }
                try Self.record(
                    AttemptRecord(
                        message: id, channel: channel, result: "sent", detail: detail, status: .sent, retryAt: nil),
                    db, now: now)
                marked += 1
            }
            return marked
        }
    }

    static func record(_ a: AttemptRecord, _ db: Database, now: Date) throws {
        if a.status != .skipped {
            try db.cachedExecute(
                "INSERT INTO outbox_attempt (message_id, at, channel, result, detail) VALUES (?, ?, ?, ?, ?)",
                [a.message, now.epoch, a.channel, a.result, a.detail])
        }
        if let r = a.receipt, a.status == .sent {
            try db.cachedExecute(
                """
                INSERT OR IGNORE INTO sms_receipt (provider, provider_id, message_id, phone, state, sent_at)
                VALUES (?, ?, ?, ?, 'waiting', ?)
                """, [r.provider, r.id, a.message, r.phone, now.epoch])
        }
        try db.cachedExecute(
            """
            UPDATE outbox_message SET status = ?, channel = ?, last_error = ?,
              attempts = attempts + ?, next_attempt_at = coalesce(?, next_attempt_at),
              sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END
            WHERE id = ?
            """,
            [
                a.status.rawValue, a.channel, a.status == .sent ? nil : a.detail, a.status == .skipped ? 0 : 1,
                a.retryAt?.epoch, a.status.rawValue, now.epoch, a.message,
            ])
    }

    /// What each recipient of the session's notice would receive now (messages not stored).
    public func previewContexts(session id: Int64) async throws -> [NoticeContext] {
        let now = clock.now()
        return try await read { db in
            let session = try Self.findSession(id, db).session
            return try Self.recipients(of: session, db, experts: nil, parties: true).map { kind, recipient in
                try Self.context(
                    OutboxMessage(
                        token: "preview", sessionId: id, kind: .notice, recipientKind: kind, recipientId: recipient,
                        sequence: session.sequence, dueAt: now, createdAt: now), db)
            }
        }
    }

    static func context(_ message: OutboxMessage, _ db: Database, alsoExperts: Set<Int64> = []) throws
        -> NoticeContext
    {
        let session = try findSession(message.sessionId, db).session
        let dispute = try findDispute(String(session.disputeId), db).dispute
        let office = try officeOf(dispute, db)
        var ids = session.panel.map(\.expertId) + alsoExperts
        if message.recipientKind == .expert { ids.append(message.recipientId) }
        let experts = try ExpertRecord.fetchAll(
            cached: db, sql: "SELECT * FROM expert WHERE id IN (SELECT value FROM json_each(?))",
            arguments: [jsonIDs(ids)]
        ).map(\.expert)
        // A follow-up reminder is due at 08:00 on its visit's day: that day finds the visit.
        var followUp: Int64?
        if message.kind == .followup {
            let day = try Zone(office.timeZone).wallClock(message.dueAt).date
            followUp = try Int64.fetchOne(
                db,
                sql: """
                    SELECT id FROM followup WHERE session_id = ? AND due_day = ?
                    ORDER BY cancelled_at IS NOT NULL, id LIMIT 1
                    """, arguments: [session.id, day.dayNumber])
        }
        return NoticeContext(
            message: message, session: session, dispute: dispute, office: office,
            experts: Dictionary(experts.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }),
            parties: try parties(of: dispute.id, db), followUpId: followUp)
    }

    /// Puts a message back to wait until `until` without counting an attempt (quiet hours).
    public func postpone(message id: Int64, until: Date, why: String) async throws {
        try await write { db in
            try db.cachedExecute(
                "UPDATE outbox_message SET next_attempt_at = ?, last_error = ? WHERE id = ?", [until.epoch, why, id])
        }
    }

    // MARK: Staff

    public func outbox(_ filter: OutboxFilter) async throws -> [OutboxMessage] {
        try await read { db in
            try db.cachedRows(
                """
                SELECT * FROM outbox_message WHERE (? IS NULL OR status = ?) AND (? IS NULL OR session_id = ?)
                AND (? IS NULL OR session_id IN (SELECT id FROM session WHERE office_id = ?))
                ORDER BY id DESC LIMIT ?
                """,
                [
                    filter.status?.rawValue, filter.status?.rawValue, filter.session, filter.session, filter.office,
                    filter.office, max(1, min(filter.limit, 10_000)),
                ]
            ).map(Self.message)
        }
    }

    public func outboxMessage(_ id: Int64) async throws -> (OutboxMessage, [DeliveryAttempt]) {
        try await read { db in
            guard let row = try db.cachedRow("SELECT * FROM outbox_message WHERE id = ?", [id]) else {
                throw MediationError.said(
                    .notFound, en: "no outbox message #\(id); 'outbox list' shows them",
                    zh: "没有第 \(id) 条通知消息；'outbox list' 会列出全部消息")
            }
            let attempts = try db.cachedRows(
                "SELECT at, channel, result, detail FROM outbox_attempt WHERE message_id = ? ORDER BY id", [id]
            ).map { row in
                let r = StoredRow(row, table: "outbox_attempt", key: "of message #\(id)")
                return DeliveryAttempt(
                    at: try r.date(Column("at")), channel: try r.value(Column("channel")),
                    result: try r.value(Column("result")), detail: try r.value(Column("detail")))
            }
            return (try Self.message(row), attempts)
        }
    }

    /// The SMS delivery receipts of a message (one per gateway that took it), oldest first.
    public func receipts(message id: Int64) async throws -> [DeliveryReceipt] {
        try await read { db in
            try db.cachedRows("SELECT * FROM sms_receipt WHERE message_id = ? ORDER BY sent_at", [id]).map {
                try Self.receipt($0)
            }
        }
    }

    /// Receipts still waiting, taken by the gateway since `since` (older ones are not asked for any more), oldest
    /// first.
    public func waitingReceipts(since: Date, limit: Int = 500) async throws -> [DeliveryReceipt] {
        try await read { db in
            try db.cachedRows(
                "SELECT * FROM sms_receipt WHERE state = 'waiting' AND sent_at >= ? ORDER BY sent_at LIMIT ?",
                [since.epoch, limit]
            ).map { try Self.receipt($0) }
        }
    }

    /// Stores what the gateways reported; a receipt already final is left as it is. Returns how many changed, and
    /// the receipts of messages the store does not know (yet: a receipt can come before its pass is stored), for
    /// the caller to offer again.
    @discardableResult
    public func recordReceipts(_ receipts: [DeliveryReceipt]) async throws -> (changed: Int, unknown: [DeliveryReceipt])
    {
        guard !receipts.isEmpty else { return (0, []) }
        return try await write { db in
            var changed = 0
            var unknown: [DeliveryReceipt] = []
            for r in receipts where r.state != .waiting {
                try db.cachedExecute(
                    """
                    UPDATE sms_receipt SET state = ?, detail = ?, received_at = ?
                    WHERE provider = ? AND provider_id = ? AND state = 'waiting'
                    """, [r.state.rawValue, r.detail, r.receivedAt?.epoch, r.provider, r.id])
                if db.changesCount > 0 {
                    changed += 1
                } else if try db.cachedRow(
                    "SELECT 1 FROM sms_receipt WHERE provider = ? AND provider_id = ?", [r.provider, r.id]) == nil
                {
                    unknown.append(r)
                }
            }
            return (changed, unknown)
        }
    }

    /// Since when the SMS gateway has refused for want of quota, when its last answer was that; nil when the last
    /// SMS attempt was anything else (or there was none).
    public func smsQuotaAlert() async throws -> (since: Date, detail: String)? {
        try await read { db in
            // Only what settles it: a refusal for want of quota, or an SMS the gateway took (a timeout says neither).
            let rows = try db.cachedRows(
                """
                SELECT at, detail FROM outbox_attempt
                WHERE channel = 'sms' AND (result = 'sent' OR detail LIKE ? || '%')
                ORDER BY id DESC LIMIT 200
                """, [SMSQuota.marker])
            var since: (Date, String)?
            for row in rows {
                let r = StoredRow(row, table: "outbox_attempt")
                let detail: String = try r.value(Column("detail"))
                guard detail.hasPrefix(SMSQuota.marker) else { break }
                since = (try r.date(Column("at")), since?.1 ?? detail)
            }
            return since.map { (since: $0.0, detail: $0.1) }
        }
    }

    static func receipt(_ row: Row) throws -> DeliveryReceipt {
        let r = StoredRow(row, table: "sms_receipt")
        let state: String = try r.value(Column("state"))
        let received: Double? = row["received_at"]
        return DeliveryReceipt(
            provider: try r.value(Column("provider")), id: try r.value(Column("provider_id")),
            phone: try r.value(Column("phone")), state: ReceiptState(rawValue: state) ?? .waiting,
            detail: row["detail"], sentAt: try r.date(Column("sent_at")),
            receivedAt: received.map { Date(timeIntervalSince1970: $0) })
    }

    /// Sends a failed or dead message again now, with a fresh count of attempts.
    ///
    /// - Throws: `conflict` for a message that was sent or skipped.
    public func retry(message id: Int64) async throws -> OutboxMessage {
        let now = clock.now()
        return try await write { db in
            guard let row = try db.cachedRow("SELECT * FROM outbox_message WHERE id = ?", [id]) else {
                throw MediationError.said(
                    .notFound, en: "no outbox message #\(id); 'outbox list' shows them",
                    zh: "没有第 \(id) 条通知消息；'outbox list' 会列出全部消息")
            }
            let message = try Self.message(row)
            guard [.failed, .dead, .pending].contains(message.status) else {
                throw MediationError.said(
                    .conflict,
                    en:
                        "message #\(id) is \(message.status.rawValue); only failed, dead or pending messages are retried",
                    zh: "第 \(id) 条消息现在是“\(Words.outboxStatus(message.status, .zh))”；只有发送失败、无法送达或待发送的消息才能重发")
            }
            try db.cachedExecute(
                "UPDATE outbox_message SET status = 'pending', attempts = 0, next_attempt_at = ? WHERE id = ?",
                [min(now, message.nextAttemptAt).epoch, id])
            try self.audit(
                db, "outbox.retry", "message \(id)",
                "\(message.status.rawValue) → pending (session \(message.sessionId), \(message.attempts) attempts before)"
            )
            return try Self.message(try db.cachedRow("SELECT * FROM outbox_message WHERE id = ?", [id]) ?? row)
        }
    }

    /// Every dead message back to pending; returns how many.
    public func retryDead() async throws -> Int {
        let now = clock.now()
        return try await write { db in
            try db.cachedExecute(
                "UPDATE outbox_message SET status = 'pending', attempts = 0, next_attempt_at = ? WHERE status = 'dead'",
                [now.epoch])
            let count = db.changesCount
            try self.audit(db, "outbox.retry-dead", "outbox", "\(count) dead messages back to pending")
            return count
        }
    }

    /// Messages by status, for status screens and metrics.
    /// How many messages of one office's sessions are in `status` (the dashboard counts the dead ones).
    public func outboxCount(status: OutboxStatus, office: String) async throws -> Int {
        try await read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT count(*) FROM outbox_message WHERE status = ?
                    AND session_id IN (SELECT id FROM session WHERE office_id = ?)
                    """, arguments: [status.rawValue, office]) ?? 0
        }
    }

    /// SMS the operator reported not delivered to the phone, for sessions of `office` not yet over (the soonest
    /// `limit`): staff tell those people by phone. Each with the session, the recipient kind and the operator's words.
    public func undeliveredSMS(office: String, limit: Int = 20) async throws
        -> [(session: Int64, number: String, recipient: RecipientKind, detail: String?)]
    {
        let now = clock.now()
        return try await read { db in
            try db.cachedRows(
                """
                SELECT m.session_id, d.number, m.recipient_kind, r.detail FROM sms_receipt r
                JOIN outbox_message m ON m.id = r.message_id
                JOIN session s ON s.id = m.session_id
                JOIN dispute d ON d.id = s.dispute_id
                WHERE r.state = 'failed' AND s.office_id = ? AND s.ends_at > ? AND s.status = 'booked'
                ORDER BY s.starts_at LIMIT ?
                """, [office, now.epoch, limit]
            ).map { row in
                let r = StoredRow(row, table: "sms_receipt")
                return (
                    session: try r.value(Column("session_id")), number: try r.value(Column("number")),
                    recipient: try r.value(Column("recipient_kind")), detail: row["detail"]
                )
            }
        }
    }

    public func outboxCounts() async throws -> [OutboxStatus: Int] {
        try await read { db in
            var counts: [OutboxStatus: Int] = [:]
            for row in try db.cachedRows("SELECT status, count(*) AS count FROM outbox_message GROUP BY status") {
                let r = StoredRow(row, table: "outbox_message", key: "counted by status")
                counts[try r.value(Columns.status)] = try r.value(Column("count"))
            }
            return counts
        }
    }

    /// The columns of `outbox_message`.
    enum Columns {
        static let id = Column("id")
        static let token = Column("token")
        static let sessionId = Column("session_id")
        static let kind = Column("kind")
        static let recipientKind = Column("recipient_kind")
        static let recipientId = Column("recipient_id")
        static let offsetMinutes = Column("offset_minutes")
        static let sequence = Column("sequence")
        static let dueAt = Column("due_at")
        static let status = Column("status")
        static let attempts = Column("attempts")
        static let nextAttemptAt = Column("next_attempt_at")
        static let channel = Column("channel")
        static let lastError = Column("last_error")
        static let createdAt = Column("created_at")
        static let sentAt = Column("sent_at")
    }

    /// A row of `outbox_message`.
    ///
    /// - Throws: `unavailable` naming the column and the message when a value cannot be read: a message of an
    ///   unknown kind, recipient or status is never sent as something else.
    static func message(_ row: Row) throws -> OutboxMessage {
        let r = StoredRow(row, table: "outbox_message")
        return OutboxMessage(
            id: try r.value(Columns.id), token: try r.value(Columns.token), sessionId: try r.value(Columns.sessionId),
            kind: try r.value(Columns.kind), recipientKind: try r.value(Columns.recipientKind),
            recipientId: try r.value(Columns.recipientId), offsetMinutes: try r.optional(Columns.offsetMinutes),
            sequence: try r.value(Columns.sequence), dueAt: try r.date(Columns.dueAt),
            status: try r.value(Columns.status), attempts: try r.value(Columns.attempts),
            nextAttemptAt: try r.date(Columns.nextAttemptAt), channel: try r.optional(Columns.channel),
            lastError: try r.optional(Columns.lastError), createdAt: try r.date(Columns.createdAt),
            sentAt: try r.optionalDate(Columns.sentAt))
    }
}

extension AppDatabase {
    /// Recipients' names for listings, keyed "expert-12", "party-3", "office-0".
    public func recipientNames(_ messages: [OutboxMessage]) async throws -> [String: String] {
        let experts = jsonIDs(Set(messages.filter { $0.recipientKind == .expert }.map(\.recipientId)))
        let parties = jsonIDs(Set(messages.filter { $0.recipientKind == .party }.map(\.recipientId)))
        return try await read { db in
            var names: [String: String] = [:]
            for (table, ids) in [("expert", experts), ("party", parties)] {
                for row in try db.cachedRows(
                    "SELECT id, name FROM \(table) WHERE id IN (SELECT value FROM json_each(?))", [ids])
                {
                    let r = StoredRow(row, table: table)
                    names["\(table)-\(try r.value(Column("id")) as Int64)"] = try r.value(Column("name")) as String
                }
            }
            return names
        }
    }
}

/// Random bits in bulk: one read of /dev/urandom for all of a booking's message names, where
/// `SystemRandomNumberGenerator` makes one getrandom(2) per 64 bits (eighteen for a booking's nine messages).
/// Falls back to it when the device cannot be read.
enum RandomBits {
    private static let urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC)

    static func words(_ count: Int) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: count)
        let wanted = count * MemoryLayout<UInt64>.size
        let got = urandom < 0 ? -1 : words.withUnsafeMutableBytes { read(urandom, $0.baseAddress, wanted) }
        if got != wanted {
            var random = SystemRandomNumberGenerator()
            for i in words.indices { words[i] = random.next() }
        }
        return words
    }
}
