import Foundation

/// A person who signs in to the web console: a name, a role (the same roles as the socket's groups), and the offices
/// whose casework they see. Kept in the store; the password only as a bcrypt hash there.
public struct Account: Sendable, Hashable {
    public var id: Int64
    public var name: String
    public var role: Role
    /// Office ids, lower case. An admin sees every office whatever is listed here.
    public var offices: [String]
    /// Set for a one-time password: every page but the change-password page waits until it is changed.
    public var mustChangePassword: Bool
    public var disabled: Bool
    /// Wrong passwords since the last good one (reset by a good one and when a lock-out ends).
    public var failedLogins: Int
    public var lockedUntil: Date?
    public var createdAt: Date
    /// Whether signing in also needs a code from an authenticator app (TOTP).
    public var hasTOTP: Bool

    public init(
        id: Int64 = 0, name: String, role: Role, offices: [String], mustChangePassword: Bool = true,
        disabled: Bool = false, failedLogins: Int = 0, lockedUntil: Date? = nil,
        createdAt: Date = Date(timeIntervalSince1970: 0), hasTOTP: Bool = false
    ) {
        self.hasTOTP = hasTOTP
        self.id = id
        self.name = name
        self.role = role
        self.offices = offices
        self.mustChangePassword = mustChangePassword
        self.disabled = disabled
        self.failedLogins = failedLogins
        self.lockedUntil = lockedUntil
        self.createdAt = createdAt
    }
}

/// Why a new password is refused.
public enum PasswordProblem: String, Sendable, Error, CaseIterable {
    case tooShort, tooLong, containsName, common, sameAsCurrent, currentWrong, mismatch
}

/// The rules of accounts, passwords, lock-outs and console sessions: the one place the store, the API and the pages
/// read them from.
public enum AccountRules {
    /// bcrypt's cost (2^12 rounds): about a quarter of a second a hash.
    public static let bcryptCost: UInt8 = 12
    public static let minimumPasswordLength = 10
    /// bcrypt reads at most 72 bytes; a longer password would be cut without a word.
    public static let maximumPasswordBytes = 72
    /// Wrong passwords in a row that lock an account.
    public static let maxFailedLogins = 5
    public static let lockout: TimeInterval = 15 * 60
    /// A console session ends after this long without a request…
    public static let sessionIdle: TimeInterval = 30 * 60
    /// …and this long after sign-in, whatever happens.
    public static let sessionAbsolute: TimeInterval = 12 * 3600

    /// Checks an account name: 2 to 32 of a-z, 0-9, `.`, `_`, `-`, starting with a letter.
    ///
    /// - Throws: `invalidInput` saying what a name may hold.
    public static func checkName(_ name: String) throws -> String {
        let n = name.trimmingWhitespace().lowercased()
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        guard (2...32).contains(n.count), n.allSatisfy(allowed.contains), n.first?.isLetter == true else {
            throw MediationError.said(
                .invalidInput, field: "name",
                en: "user name '\(name)' is not allowed; "
                    + "use 2 to 32 letters a-z, digits, '.', '_' or '-', starting with a letter (for example wang.li)",
                zh: "用户名“\(name)”不可用：请用 2 到 32 个小写字母 a-z、数字、“.”、“_”或“-”，以字母开头（如 wang.li）")
        }
        return n
    }

    /// Checks the offices of an account: lower-cased, without repeats; staff and viewers need at least one (an
    /// admin sees every office whatever is listed).
    ///
    /// - Throws: `invalidInput` saying to give `--office`.
    public static func checkOffices(_ offices: [String], role: Role) throws -> [String] {
        var seen: [String] = []
        for office in offices.map({ $0.trimmingWhitespace().lowercased() }) where !office.isEmpty {
            if !seen.contains(office) { seen.append(office) }
        }
        guard !seen.isEmpty || role == .admin else {
            throw MediationError.said(
                .invalidInput, field: "offices",
                en: "a \(role.rawValue) account needs at least one office; "
                    + "give the offices whose casework it sees, for example --office jinshan",
                zh: "“\(Words.role(role, .zh))”账号至少要有一个调解室，请填写它能查看的调解室，如 --office jinshan")
        }
        return seen
    }

    /// What is wrong with a new password for `name`, or nil when it may be used.
    public static func passwordProblem(_ password: String, name: String) -> PasswordProblem? {
        if password.count < minimumPasswordLength { return .tooShort }
        if password.utf8.count > maximumPasswordBytes { return .tooLong }
        let folded = password.lowercased()
        if folded.contains(name.lowercased()) { return .containsName }
        if CommonPasswords.all.contains(folded) { return .common }
        return nil
    }

    /// Checks a new password for `name`.
    ///
    /// - Throws: `invalidInput` naming the rule broken: shorter than 10 characters, longer than bcrypt reads, the
    ///   user's name, or on the list of common passwords.
    public static func checkPassword(_ password: String, name: String) throws {
        guard let problem = passwordProblem(password, name: name) else { return }
        throw MediationError.said(
            .invalidInput, field: "password", en: "\(Words.passwordProblem(problem, .en)); choose another password",
            zh: Words.passwordProblem(problem, .zh))
    }

    /// A one-time password of 16 letters and digits without look-alikes (no 0/O, 1/l/I), from the system's random
    /// source.
    public static func oneTimePassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<16).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    /// Whether `account` must set up its authenticator before any page: an admin, when
    /// `web.require_totp_for_admins` is set, without one yet.
    public static func mustSetUpTOTP(_ account: Account, requiredForAdmins: Bool) -> Bool {
        requiredForAdmins && account.role == .admin && !account.hasTOTP
    }

    /// A TOTP code is 6 digits; one of the time step before or after is accepted too (a phone's clock drifts).
    public static let totpDigits = 6
    public static let totpStep: TimeInterval = 30
    public static let totpDrift = 1

    /// Whether the account is locked at `now`.
    public static func isLocked(_ account: Account, now: Date) -> Bool {
        guard let until = account.lockedUntil else { return false }
        return now < until
    }

    /// The account after one more wrong password at `now`: the count rises and, at the fifth, the account is locked
    /// for 15 minutes (and the count starts again).
    public static func afterFailure(_ account: Account, now: Date) -> Account {
        var a = account
        if let until = a.lockedUntil, now >= until {
            a.lockedUntil = nil
            a.failedLogins = 0
        }
        a.failedLogins += 1
        if a.failedLogins >= maxFailedLogins {
            a.lockedUntil = now.addingTimeInterval(lockout)
            a.failedLogins = 0
        }
        return a
    }

    /// Whether a console session that began at `createdAt` and was last used at `lastSeen` has ended at `now`.
    public static func sessionExpired(createdAt: Date, lastSeen: Date, now: Date) -> Bool {
        now.timeIntervalSince(lastSeen) >= sessionIdle || now.timeIntervalSince(createdAt) >= sessionAbsolute
            || now < createdAt
    }
}

/// Which offices' casework an account sees: the one rule, read by every page and store query that shows a dispute,
/// a session or a report to a console user.
///
/// For example:
/// ```swift
/// OfficeScope.allows(account, office: "jinshan")  // true for an admin, or staff of jinshan
/// ```
public enum OfficeScope {
    public static func allows(_ account: Account, office: String) -> Bool {
        account.role == .admin || account.offices.contains(office.lowercased())
    }

    /// The offices an account sees among `all`, in their order.
    public static func offices(_ account: Account, among all: [String]) -> [String] {
        all.filter { allows(account, office: $0) }
    }
}
