import Crypto
import Foundation
import GRDB
import HummingbirdBcrypt
import HummingbirdOTP
import MediationCore

/// A signed-in console session: who, and the token that must come back with every form.
public struct ConsoleSession: Sendable, Hashable {
    public var account: Account
    /// The cookie's value; only its SHA-256 is stored.
    public var token: String
    /// The anti-forgery token every form carries (`csrf`), compared with the one stored for the session.
    public var csrf: String
    public var createdAt: Date
    public var lastSeenAt: Date
}

/// A console account just made or given a new one-time password.
public struct IssuedPassword: Sendable, Hashable {
    public var account: Account
    /// Shown once, to the admin who asked; changed at the first sign-in.
    public var oneTimePassword: String
}

/// Why a sign-in was refused. The page shows the same words for a wrong name as for a wrong password.
public enum LoginRefusal: Error, Sendable, Equatable {
    case wrongNameOrPassword
    /// The password was right and the account signs in with an authenticator code too: none was given.
    case codeNeeded
    /// The authenticator code was wrong, too old, or already used (counted as a wrong password).
    case wrongCode
    case locked(until: Date)
    case disabled
}

extension AppDatabase {
    // MARK: Administration (the API's user operations)

    /// Makes a console account with a one-time password, which must be changed at the first sign-in.
    ///
    /// - Throws: `invalidInput` for a bad name, role-less office list (staff and viewers need an office),
    ///   `notFound` for an unknown office, `conflict` when the name is taken.
    public func createAccount(name: String, role: Role, offices: [String]) async throws -> IssuedPassword {
        let name = try AccountRules.checkName(name)
        let offices = try AccountRules.checkOffices(offices, role: role)
        let password = AccountRules.oneTimePassword()
        let hash = await Self.hash(password)
        let now = clock.now()
        let account = try await write { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM console_user WHERE name = ?", arguments: [name]) != nil {
                throw MediationError.said(
                    .conflict, field: "name",
                    en: "user '\(name)' already exists; give them a new one-time password with 'user passwd \(name)'",
                    zh: "账号“\(name)”已经存在；要给它新的一次性密码，请用 'user passwd \(name)'")
            }
            try db.execute(
                sql: """
                    INSERT INTO console_user (name, role, password_hash, must_change, created_at)
                    VALUES (?, ?, ?, 1, ?)
                    """, arguments: [name, role.rawValue, hash, now.epoch])
            let id = db.lastInsertedRowID
            try Self.storeOffices(db, userId: id, offices)
            try self.audit(
                db, "user.add", "user \(name)",
                "added \(role.rawValue) of " + (offices.isEmpty ? "every office" : offices.joined(separator: ", ")))
            return try Self.account(db, name: name)
        }
        return IssuedPassword(account: account, oneTimePassword: password)
    }

    /// Every console account, by name.
    public func accounts() async throws -> [Account] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT name FROM console_user ORDER BY name").map {
                try Self.account(db, name: $0)
            }
        }
    }

    /// One console account.
    ///
    /// - Throws: `notFound` naming the accounts that exist.
    public func account(named name: String) async throws -> Account {
        try await read { db in try Self.account(db, name: name.lowercased()) }
    }

    /// Gives an account a new one-time password (to be changed at the next sign-in), lifts a lock-out, enables it
    /// again and ends its sessions.
    public func resetPassword(name: String) async throws -> IssuedPassword {
        let password = AccountRules.oneTimePassword()
        let hash = await Self.hash(password)
        let account = try await write { db in
            let before = try Self.account(db, name: name.lowercased())
            try db.execute(
                sql: """
                    UPDATE console_user SET password_hash = ?, must_change = 1, failed_logins = 0, locked_until = NULL,
                    disabled = 0, totp_secret = NULL, totp_last_step = NULL WHERE id = ?
                    """, arguments: [hash, before.id])
            try db.execute(sql: "DELETE FROM console_session WHERE user_id = ?", arguments: [before.id])
            try self.audit(
                db, "user.passwd", "user \(before.name)",
                "gave a new one-time password" + (before.hasTOTP ? " and removed its authenticator" : ""))
            return try Self.account(db, name: before.name)
        }
        return IssuedPassword(account: account, oneTimePassword: password)
    }

    /// Disables an account and ends its sessions; 'user passwd' enables it again.
    public func disableAccount(name: String) async throws -> Account {
        try await write { db in
            let before = try Self.account(db, name: name.lowercased())
            try db.execute(sql: "UPDATE console_user SET disabled = 1 WHERE id = ?", arguments: [before.id])
            try db.execute(sql: "DELETE FROM console_session WHERE user_id = ?", arguments: [before.id])
            try self.audit(db, "user.disable", "user \(before.name)", "disabled")
            return try Self.account(db, name: before.name)
        }
    }

    /// Sets the offices an account sees.
    public func setAccountOffices(name: String, offices: [String]) async throws -> Account {
        try await write { db in
            let before = try Self.account(db, name: name.lowercased())
            let offices = try AccountRules.checkOffices(offices, role: before.role)
            try db.execute(sql: "DELETE FROM console_user_office WHERE user_id = ?", arguments: [before.id])
            try Self.storeOffices(db, userId: before.id, offices)
            try self.audit(
                db, "user.offices", "user \(before.name)",
                "offices \(before.offices.joined(separator: ", ")) → \(offices.joined(separator: ", "))")
            return try Self.account(db, name: before.name)
        }
    }

    // MARK: Signing in and out (the console)

    /// Signs in: checks the password, counts a wrong one (the fifth in a row locks the account for 15 minutes), and
    /// opens a session. Every outcome is audited under the name typed.
    ///
    /// - Throws: `LoginRefusal` (a wrong name reads as a wrong password), or a store error.
    public func logIn(name: String, password: String, code: String = "", from address: String) async throws
        -> ConsoleSession
    {
        let typed = name.trimmingWhitespace().lowercased()
        let now = clock.now()
        let found = try await read { db in try Self.accountRow(db, name: typed) }
        // bcrypt runs outside the write, so a quarter of a second of hashing holds no lock; an unknown name is
        // checked against a decoy hash, so that the time taken does not tell which names exist.
        let matches = await Self.verify(password, hash: found?.1)
        let token = Self.randomToken()
        let csrf = Self.randomToken()
        let actor = AuditActor(uid: 0, user: typed.isEmpty ? nil : String(typed.prefix(32)), role: "console")
        let outcome: Result<ConsoleSession, LoginRefusal> = try await write { db in
            try AuditActor.$current.withValue(actor) {
                guard let (account, _) = try Self.accountRow(db, name: typed) else {
                    try self.audit(db, "console.login_failed", "user \(typed)", "no such user, from \(address)")
                    return .failure(.wrongNameOrPassword)
                }
                if AccountRules.isLocked(account, now: now), let until = account.lockedUntil {
                    try self.audit(db, "console.login_failed", "user \(account.name)", "locked, from \(address)")
                    return .failure(.locked(until: until))
                }
                if account.disabled {
                    try self.audit(db, "console.login_failed", "user \(account.name)", "disabled, from \(address)")
                    return .failure(.disabled)
                }
                /// A wrong password or code: counted, audited, and at the fifth in a row the account is locked.
                func failed(_ why: String, _ refusal: LoginRefusal) throws -> Result<ConsoleSession, LoginRefusal> {
                    let after = AccountRules.afterFailure(account, now: now)
                    try db.execute(
                        sql: "UPDATE console_user SET failed_logins = ?, locked_until = ? WHERE id = ?",
                        arguments: [after.failedLogins, after.lockedUntil?.epoch, account.id])
                    try self.audit(db, "console.login_failed", "user \(account.name)", "\(why), from \(address)")
                    if let until = after.lockedUntil, AccountRules.isLocked(after, now: now) {
                        try self.audit(
                            db, "console.lockout", "user \(account.name)",
                            "locked for \(Int(AccountRules.lockout / 60)) minutes after \(AccountRules.maxFailedLogins) wrong passwords or codes, from \(address)"
                        )
                        return .failure(.locked(until: until))
                    }
                    return .failure(refusal)
                }
                guard matches else { return try failed("wrong password", .wrongNameOrPassword) }
                // The second factor, for an account that has one: a code of this time step (or one either side),
                // newer than the last accepted, so that a code seen over a shoulder cannot be used again.
                if let secret = try String.fetchOne(
                    db, sql: "SELECT totp_secret FROM console_user WHERE id = ?", arguments: [account.id])
                {
                    guard let typed = Text.nonEmpty(code) else {
                        try self.audit(
                            db, "console.login_failed", "user \(account.name)",
                            "password right, authenticator code missing, from \(address)")
                        return .failure(.codeNeeded)
                    }
                    let last = try Int64.fetchOne(
                        db, sql: "SELECT totp_last_step FROM console_user WHERE id = ?", arguments: [account.id])
                    guard let step = TOTPCodes.accepted(typed, secret: secret, now: now, after: last) else {
                        return try failed("wrong authenticator code", .wrongCode)
                    }
                    try db.execute(
                        sql: "UPDATE console_user SET totp_last_step = ? WHERE id = ?", arguments: [step, account.id])
                }
                try db.execute(
                    sql: "UPDATE console_user SET failed_logins = 0, locked_until = NULL WHERE id = ?",
                    arguments: [account.id])
                try db.execute(
                    sql: """
                        INSERT INTO console_session (token_hash, user_id, csrf, created_at, last_seen_at)
                        VALUES (?, ?, ?, ?, ?)
                        """, arguments: [Self.tokenHash(token), account.id, csrf, now.epoch, now.epoch])
                try self.audit(db, "console.login", "user \(account.name)", "signed in from \(address)")
                var signedIn = account
                signedIn.failedLogins = 0
                signedIn.lockedUntil = nil
                return .success(
                    ConsoleSession(account: signedIn, token: token, csrf: csrf, createdAt: now, lastSeenAt: now))
            }
        }
        return try outcome.get()
    }

    /// The live session of a cookie's token, its last use moved to now; nil (and the session removed) when it has
    /// ended (30 minutes unused, 12 hours since sign-in), its account was disabled, or there is none.
    public func consoleSession(token: String) async throws -> ConsoleSession? {
        guard !token.isEmpty, token.count <= 128 else { return nil }
        let now = clock.now()
        let key = Self.tokenHash(token)
        let found: (ConsoleSession, lastSeen: Date)? = try await read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT s.csrf, s.created_at, s.last_seen_at, u.name FROM console_session s
                        JOIN console_user u ON u.id = s.user_id WHERE s.token_hash = ?
                        """, arguments: [key])
            else { return nil }
            let r = StoredRow(row, table: "console_session")
            let lastSeen = try r.date(Column("last_seen_at"))
            let session = ConsoleSession(
                account: try Self.account(db, name: try r.value(Column("name"))), token: token,
                csrf: try r.value(Column("csrf")), createdAt: try r.date(Column("created_at")), lastSeenAt: now)
            return (session, lastSeen)
        }
        guard let (session, lastSeen) = found else { return nil }
        if AccountRules.sessionExpired(createdAt: session.createdAt, lastSeen: lastSeen, now: now)
            || session.account.disabled
        {
            try await write { db in
                try db.execute(sql: "DELETE FROM console_session WHERE token_hash = ?", arguments: [key])
            }
            return nil
        }
        // A page read is a read: the last use is written at most once a minute (the idle limit is 30).
        if now.timeIntervalSince(lastSeen) >= 60 {
            try await write { db in
                try db.execute(
                    sql: "UPDATE console_session SET last_seen_at = ? WHERE token_hash = ?",
                    arguments: [now.epoch, key])
            }
        }
        return session
    }

    /// Ends a session (signing out), audited.
    public func logOut(_ session: ConsoleSession) async throws {
        let actor = AuditActor(uid: 0, user: session.account.name, role: "console")
        try await write { db in
            try AuditActor.$current.withValue(actor) {
                try db.execute(
                    sql: "DELETE FROM console_session WHERE token_hash = ?", arguments: [Self.tokenHash(session.token)])
                try self.audit(db, "console.logout", "user \(session.account.name)", "signed out")
            }
        }
    }

    /// Changes a signed-in account's own password: the current one must match, the new one pass the rules and
    /// differ. Other sessions of the account end.
    ///
    /// - Throws: `PasswordProblem` (nothing is written), or a store error.
    public func changePassword(_ session: ConsoleSession, current: String, new: String) async throws {
        let found = try await read { db in try Self.accountRow(db, name: session.account.name) }
        guard let (account, hash) = found, await Self.verify(current, hash: Optional(hash)) else {
            throw PasswordProblem.currentWrong
        }
        if let problem = AccountRules.passwordProblem(new, name: account.name) { throw problem }
        guard new != current else { throw PasswordProblem.sameAsCurrent }
        let newHash = await Self.hash(new)
        let actor = AuditActor(uid: 0, user: account.name, role: "console")
        try await write { db in
            try AuditActor.$current.withValue(actor) {
                try db.execute(
                    sql: "UPDATE console_user SET password_hash = ?, must_change = 0 WHERE id = ?",
                    arguments: [newHash, account.id])
                try db.execute(
                    sql: "DELETE FROM console_session WHERE user_id = ? AND token_hash != ?",
                    arguments: [account.id, Self.tokenHash(session.token)])
                try self.audit(db, "console.passwd", "user \(account.name)", "changed their password")
            }
        }
    }

    /// Turns on the second factor for a signed-in account: `secret` (from `TOTPCodes.newSecret`, shown to its owner
    /// once) is kept when `code` is the authenticator's code for it now, so that the phone is known to agree.
    ///
    /// - Throws: `invalidInput` with the field `code` (in both languages) when the code does not match; nothing is
    ///   written then.
    public func enableTOTP(_ session: ConsoleSession, secret: String, code: String) async throws {
        let now = clock.now()
        guard TOTPCodes.isSecret(secret), let step = TOTPCodes.accepted(code, secret: secret, now: now, after: nil)
        else {
            let en =
                "the code is not the authenticator's code for this key now; add the key again and type the code it shows"
            throw MediationError(
                .invalidInput, en,
                fields: [FieldProblem(field: "code", en: en, zh: "验证码不对：请确认已在手机验证器中添加了上面的密钥，再输入它此刻显示的 6 位数字")])
        }
        let actor = AuditActor(uid: 0, user: session.account.name, role: "console")
        try await write { db in
            try AuditActor.$current.withValue(actor) {
                try db.execute(
                    sql: "UPDATE console_user SET totp_secret = ?, totp_last_step = ? WHERE id = ?",
                    arguments: [secret, step, session.account.id])
                try self.audit(
                    db, "console.totp", "user \(session.account.name)", "turned on sign-in with an authenticator code")
            }
        }
    }

    // MARK: What a console account sees (OfficeScope, applied here for every page)

    /// A dispute as `account` may see it: one of another office is not found, exactly as one that does not exist.
    public func dispute(_ ref: String, seenBy account: Account) async throws -> DisputeDetail {
        let notFound = MediationError.said(
            .notFound, en: "no dispute '\(ref)'; give its number (JS-2026-0042) or id as the dispute list shows",
            zh: "没有纠纷“\(ref)”；请填写纠纷列表中的编号（如 JS-2026-0042）")
        let detail: DisputeDetail
        do { detail = try await dispute(ref) } catch let e as MediationError where e.kind == .notFound {
            throw notFound
        }
        guard OfficeScope.allows(account, office: detail.dispute.officeId) else { throw notFound }
        return detail
    }

    /// The offices `account` sees, in id order.
    public func offices(seenBy account: Account) async throws -> [Office] {
        try await offices().filter { OfficeScope.allows(account, office: $0.id) }
    }

    /// Disputes matching `filter` within the offices `account` sees.
    public func disputes(_ filter: DisputeFilter, seenBy account: Account) async throws -> [Dispute] {
        if let office = filter.office, !OfficeScope.allows(account, office: office) { return [] }
        return try await disputes(filter).filter { OfficeScope.allows(account, office: $0.officeId) }
    }

    // MARK: Helpers

    static func account(_ db: Database, name: String) throws -> Account {
        guard let (account, _) = try accountRow(db, name: name) else {
            let known = try String.fetchAll(db, sql: "SELECT name FROM console_user ORDER BY name")
            throw MediationError.said(
                .notFound, field: "name",
                en: "no user '\(name)'; "
                    + (known.isEmpty
                        ? "none exist yet: add one with 'user add NAME --role admin'"
                        : "known users: \(known.joined(separator: ", "))"),
                zh: "没有账号“\(name)”；"
                    + (known.isEmpty
                        ? "还没有任何账号，请先用 'user add NAME --role admin' 添加"
                        : "现有账号：\(known.joined(separator: "、"))"))
        }
        return account
    }

    static func accountRow(_ db: Database, name: String) throws -> (Account, String)? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM console_user WHERE name = ?", arguments: [name])
        else { return nil }
        let r = StoredRow(row, table: "console_user")
        let id: Int64 = try r.value(Column("id"))
        let offices = try String.fetchAll(
            db, sql: "SELECT office_id FROM console_user_office WHERE user_id = ? ORDER BY office_id", arguments: [id])
        let account = Account(
            id: id, name: try r.value(Column("name")), role: try r.value(Column("role")), offices: offices,
            mustChangePassword: try r.value(Column("must_change")), disabled: try r.value(Column("disabled")),
            failedLogins: try r.value(Column("failed_logins")), lockedUntil: try r.optionalDate(Column("locked_until")),
            createdAt: try r.date(Column("created_at")),
            hasTOTP: try (r.optional(Column("totp_secret")) as String?) != nil)
        return (account, try r.value(Column("password_hash")))
    }

    static func storeOffices(_ db: Database, userId: Int64, _ offices: [String]) throws {
        for office in offices {
            guard try OfficeRecord.fetchOne(db, key: office) != nil else { throw officeNotFound(office, db) }
            try db.execute(
                sql: "INSERT INTO console_user_office (user_id, office_id) VALUES (?, ?)", arguments: [userId, office])
        }
    }

    /// A hash of nothing anyone types, compared against when the name typed is unknown.
    static let decoyHash = Bcrypt.hash(randomToken(), cost: AccountRules.bcryptCost)

    /// bcrypt on a thread of its own: a quarter of a second of hashing must not hold one of the few threads that
    /// serve every request (the socket's included).
    static func hash(_ password: String) async -> String {
        await withCheckedContinuation { done in
            DispatchQueue.global().async {
                done.resume(returning: Bcrypt.hash(password, cost: AccountRules.bcryptCost))
            }
        }
    }

    /// Whether `password` matches `hash`; false for no hash, after as long as a real check takes.
    static func verify(_ password: String, hash: String?) async -> Bool {
        await withCheckedContinuation { done in
            DispatchQueue.global().async {
                done.resume(returning: Bcrypt.verify(password, hash: hash ?? decoyHash) && hash != nil)
            }
        }
    }

    /// 256 random bits, URL-safe base64: a session, a one-time password, a form key.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func tokenHash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// Time-based one-time codes (TOTP, RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) through HummingbirdOTP, as every
/// authenticator app (Microsoft Authenticator, Google Authenticator, FreeOTP, WeCom's and DingTalk's own) computes
/// them.
public enum TOTPCodes {
    /// The base32 alphabet: a secret made of it is typed by hand without ambiguity.
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    /// A new shared secret: 20 characters from the system's random source; its bytes are the HMAC key.
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    /// Whether `text` is a secret `newSecret` could have made.
    public static func isSecret(_ text: String) -> Bool { text.count == 20 && text.allSatisfy(alphabet.contains) }

    /// The `otpauth://` address an authenticator app reads (from a QR code or pasted) for `account`.
    public static func authenticatorURL(secret: String, account: String) -> String {
        TOTP(secret: secret).createAuthenticatorURL(label: "调解工作台:\(account)", issuer: "调解工作台")
    }

    /// The key as typed into an app by hand: the base32 of the secret's bytes, in groups of four.
    public static func typedKey(secret: String) -> String {
        let url = authenticatorURL(secret: secret, account: "x")
        let key = url.components(separatedBy: "secret=").last?.components(separatedBy: "&").first ?? ""
        return stride(from: 0, to: key.count, by: 4).map { i in
            String(key.dropFirst(i).prefix(4))
        }.joined(separator: " ")
    }

    /// The time step `code` belongs to, when it is the code of the step of `now` or one either side and that step
    /// is after `last` (a code is accepted once); nil otherwise.
    public static func accepted(_ code: String, secret: String, now: Date, after last: Int64?) -> Int64? {
        // Full-width digits (a Chinese input method's １２３) read as the digits they are.
        let digits = String(
            Text.halfWidth(code).unicodeScalars.filter { !$0.properties.isWhitespace }.map(Character.init))
        guard digits.count == AccountRules.totpDigits, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = Int(digits)
        else { return nil }
        let totp = TOTP(secret: secret, length: AccountRules.totpDigits, timeStep: Int(AccountRules.totpStep))
        let current = Int64((now.timeIntervalSince1970 / AccountRules.totpStep).rounded(.down))
        let drift = Int64(AccountRules.totpDrift)
        for step in (current - drift)...(current + drift) where step >= 0 && step > (last ?? -1) {
            let at = Date(timeIntervalSince1970: Double(step) * AccountRules.totpStep)
            if totp.compute(date: at) == value { return step }
        }
        return nil
    }
}
