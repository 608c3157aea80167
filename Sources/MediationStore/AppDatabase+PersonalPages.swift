import Crypto
import Foundation
import GRDB
import MediationCore

/// A personal page's signed address (`/p/TOKEN`): whose it is, for which session, until when. The token is the
/// payload `SESSION.e12.EXPIRES` (or `p7` for a party) and its HMAC-SHA256 under the store's link key, both
/// base64url; a token whose signature does not match, or whose time is past, opens nothing.
public struct PersonalLink: Sendable, Equatable {
    public var session: Int64
    public var kind: RecipientKind
    public var person: Int64
    public var expires: Date

    public init(session: Int64, kind: RecipientKind, person: Int64, expires: Date) {
        self.session = session
        self.kind = kind
        self.person = person
        self.expires = expires
    }

    /// How long after its session's end a link still opens its page.
    public static let validAfterEnd: TimeInterval = 7 * 86400

    /// A person's link for a session: good until `validAfterEnd` past its end.
    public init(_ session: Session, kind: RecipientKind, person: Int64) {
        self.init(
            session: session.id, kind: kind, person: person, expires: session.end.addingTimeInterval(Self.validAfterEnd)
        )
    }

    /// The page's whole address on the web listener's public address `base`.
    public func url(base: String, key: Data) -> String { base + "/p/" + token(key: key) }

    public func token(key: Data) -> String {
        let key = SymmetricKey(data: key)
        let payload = "\(session).\(kind == .expert ? "e" : "p")\(person).\(Int64(expires.timeIntervalSince1970))"
        let mac = HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)
        return Self.base64url(Data(payload.utf8)) + "." + Self.base64url(Data(mac))
    }

    /// The link a token signs, if the signature is the key's and the time is not past; nil otherwise.
    public static func verify(_ token: String, key: Data, now: Date) -> PersonalLink? {
        let key = SymmetricKey(data: key)
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.count < 200, parts.count == 2, let payload = data(String(parts[0])),
            let mac = data(String(parts[1])),
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key),
            let text = String(data: payload, encoding: .utf8)
        else { return nil }
        let fields = text.split(separator: ".")
        guard fields.count == 3, let session = Int64(fields[0]), let first = fields[1].first,
            let person = Int64(fields[1].dropFirst()), let seconds = Int64(fields[2]),
            first == "e" || first == "p"
        else { return nil }
        let expires = Date(timeIntervalSince1970: TimeInterval(seconds))
        guard now < expires else { return nil }
        return PersonalLink(session: session, kind: first == "e" ? .expert : .party, person: person, expires: expires)
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func data(_ text: String) -> Data? {
        guard text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), text.allSatisfy(\.isASCII)
        else { return nil }
        var b = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        // Only the one spelling of the bytes: a last character whose unused bits differ names the same bytes, and
        // an altered link must not open the page.
        guard let data = Data(base64Encoded: b), base64url(data) == text else { return nil }
        return data
    }
}

/// What a personal page shows: the session, the person, their dispute and office.
public struct PersonalView: Sendable {
    public var link: PersonalLink
    public var session: Session
    public var disputeNumber: String
    public var disputeTitle: String
    public var office: Office
    public var name: String
    public var email: String?
    public var timeZone: String
    /// For an expert: their seat (lead or not) and answer; nil for a party.
    public var seat: PanelMember?
    public var panelNames: [String]
}

extension AppDatabase {
    /// A person's page for a session on the web listener at `base`: signed, good until 7 days after its end.
    public func personalPage(base: String, session: Session, kind: RecipientKind, person: Int64) async throws -> String
    {
        PersonalLink(session, kind: kind, person: person).url(base: base, key: try await personalLinkKey())
    }

    /// The key personal links are signed with (256 random bits): made once, kept in the store.
    public func personalLinkKey() async throws -> Data {
        // Read first: every personal page checks its link with it, and only the first ever makes it.
        if let bytes = try await read({ db in try Data.fetchOne(db, sql: "SELECT key FROM link_key WHERE id = 1") }) {
            return bytes
        }
        return try await write { db in
            if let bytes = try Data.fetchOne(db, sql: "SELECT key FROM link_key WHERE id = 1") { return bytes }
            let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            try db.execute(sql: "INSERT INTO link_key (id, key) VALUES (1, ?)", arguments: [key])
            return key
        }
    }

    /// The page a verified link opens, or nil when its session or person is gone (or the person is no longer on
    /// it: an expert replaced, a party removed).
    public func personalView(_ link: PersonalLink) async throws -> PersonalView? {
        try await read { db in
            guard let record = try SessionRecord.fetchOne(db, key: link.session) else { return nil }
            var records = [record]
            try SessionRecord.loadPanels(&records, db)
            let session = records[0].session
            let dispute = try Self.findDispute(String(session.disputeId), db).dispute
            guard let office = try OfficeRecord.fetchOne(db, key: session.officeId)?.office else { return nil }
            let names = try Self.display([session], db).names
            let panelNames = session.panel.map { names[$0.expertId] ?? "#\($0.expertId)" }
            switch link.kind {
            case .expert:
                guard let seat = session.panel.first(where: { $0.expertId == link.person }),
                    let expert = try ExpertRecord.fetchOne(db, key: link.person)?.expert
                else { return nil }
                return PersonalView(
                    link: link, session: session, disputeNumber: dispute.number, disputeTitle: dispute.title,
                    office: office, name: expert.name, email: expert.email, timeZone: expert.timeZone, seat: seat,
                    panelNames: panelNames)
            case .party:
                guard let party = try PartyRecord.fetchOne(db, key: link.person)?.party,
                    party.disputeId == session.disputeId
                else { return nil }
                return PersonalView(
                    link: link, session: session, disputeNumber: dispute.number, disputeTitle: dispute.title,
                    office: office, name: party.name, email: party.email, timeZone: party.timeZone, seat: nil,
                    panelNames: panelNames)
            case .office:
                return nil
            }
        }
    }
}
