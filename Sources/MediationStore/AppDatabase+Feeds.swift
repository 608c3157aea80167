import Foundation
import GRDB
import MediationCore

/// An expert's sessions as their personal calendar feed shows them.
public struct ExpertFeed: Sendable {
    public var expert: Expert
    /// Booked, running and held sessions from 30 days ago on, and those cancelled (so calendars drop them).
    public var sessions: [Session]
    public var display: SessionDisplay
    /// Each session's office zone and name, by office id.
    public var offices: [String: Office]
}

/// Where an expert's feed is, for a token and the web listener's public address (`web.public_url`).
public struct FeedAddress: Sendable, Equatable {
    /// `/feeds/TOKEN.ics`, on the web listener.
    public var path: String
    /// The whole address, `https://HOST/feeds/TOKEN.ics`.
    public var url: String
    /// The same as `webcal://HOST/feeds/TOKEN.ics`, which calendar programs subscribe to.
    public var webcal: String

    public init(base: String, token: String) {
        path = "/feeds/\(token).ics"
        url = base + path
        webcal = "webcal://" + url.drop { $0 != ":" }.dropFirst(3)
    }
}

extension AppDatabase {
    /// The token of an expert's calendar feed: made on first asking; a new one when `reset` (the old address then
    /// answers 404). A reset is audited; the token itself never is.
    public func feedToken(expert ref: String, reset: Bool) async throws -> (Expert, String) {
        try await write { db in
            let expert = try Self.findExpert(ref, db).expert
            if !reset,
                let token = try String.fetchOne(
                    db, sql: "SELECT feed_token FROM expert WHERE id = ?", arguments: [expert.id])
            {
                return (expert, token)
            }
            // 128 random bits from the system's cryptographic generator, as hex.
            var generator = SystemRandomNumberGenerator()
            let token = (0..<2).map { _ in
                let n = generator.next() as UInt64
                let hex = String(n, radix: 16)
                return String(repeating: "0", count: 16 - hex.count) + hex
            }.joined()
            try db.execute(sql: "UPDATE expert SET feed_token = ? WHERE id = ?", arguments: [token, expert.id])
            if reset {
                try self.audit(
                    db, "expert.feed_reset", "expert \(expert.id)",
                    "calendar feed of \(expert.name) given a new address; the old one no longer answers")
            }
            return (expert, token)
        }
    }

    /// The feed a token opens, or nil for a token no expert holds (forged, or reset).
    public func expertFeed(token: String) async throws -> ExpertFeed? {
        let since = clock.now().addingTimeInterval(-30 * 86400)
        return try await read { db in
            guard token.count == 32, token.allSatisfy(\.isHexDigit),
                let record = try ExpertRecord.fetchOne(
                    db, sql: "SELECT * FROM expert WHERE feed_token = ?", arguments: [token])
            else { return nil }
            var records = try SessionRecord.fetchAll(
                db,
                sql: """
                    SELECT s.* FROM session s JOIN session_panel p ON p.session_id = s.id
                    WHERE p.expert_id = ? AND s.ends_at > ? AND s.status IN ('booked', 'in_session', 'ended', 'cancelled')
                    ORDER BY s.starts_at, s.id
                    """, arguments: [record.expert.id, since.epoch])
            try SessionRecord.loadPanels(&records, db)
            let sessions = records.map(\.session)
            let display = try Self.display(sessions, db)
            var offices: [String: Office] = [:]
            for id in Set(sessions.map(\.officeId)) {
                offices[id] = try OfficeRecord.fetchOne(db, key: id)?.office
            }
            return ExpertFeed(expert: record.expert, sessions: sessions, display: display, offices: offices)
        }
    }
}
