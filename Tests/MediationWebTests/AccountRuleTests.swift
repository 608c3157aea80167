import Foundation
import MediationCore
import Testing

/// The rules of accounts in Core: passwords, lock-outs, session expiry, office scope, the reader's language.
@Suite struct AccountRuleTests {
    @Test func passwordsShorterThanTenCommonOrHoldingTheNameAreRefused() {
        #expect(AccountRules.passwordProblem("short1!", name: "wang.li") == .tooShort)
        #expect(AccountRules.passwordProblem("123456789", name: "wang.li") == .tooShort)
        #expect(AccountRules.passwordProblem("Password123", name: "wang.li") == .common)
        #expect(AccountRules.passwordProblem("1234567890", name: "wang.li") == .common)
        #expect(AccountRules.passwordProblem("woaini1314", name: "wang.li") == .common)
        #expect(AccountRules.passwordProblem("xx-Wang.Li-2026", name: "wang.li") == .containsName)
        #expect(AccountRules.passwordProblem(String(repeating: "好", count: 25), name: "wang.li") == .tooLong)
        #expect(AccountRules.passwordProblem("青松 river lamp 42", name: "wang.li") == nil)
        #expect(throws: MediationError.self) { try AccountRules.checkPassword("abc", name: "wang.li") }
    }

    @Test func aOneTimePasswordPassesTheRulesAndIsNotRepeated() {
        let a = AccountRules.oneTimePassword()
        let b = AccountRules.oneTimePassword()
        #expect(a.count == 16 && a != b)
        #expect(AccountRules.passwordProblem(a, name: "wang.li") == nil)
        #expect(!a.contains { "0O1lI".contains($0) })
    }

    @Test func theFifthWrongPasswordLocksForFifteenMinutes() {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        var account = Account(name: "wang.li", role: .staff, offices: ["jinshan"])
        for i in 1...4 {
            account = AccountRules.afterFailure(account, now: t0.addingTimeInterval(Double(i)))
            #expect(account.failedLogins == i)
            #expect(!AccountRules.isLocked(account, now: t0.addingTimeInterval(Double(i))))
        }
        account = AccountRules.afterFailure(account, now: t0.addingTimeInterval(5))
        #expect(AccountRules.isLocked(account, now: t0.addingTimeInterval(5)))
        #expect(AccountRules.isLocked(account, now: t0.addingTimeInterval(5 + 15 * 60 - 1)))
        #expect(!AccountRules.isLocked(account, now: t0.addingTimeInterval(5 + 15 * 60)))
        // After the lock-out a wrong password counts from one again.
        account = AccountRules.afterFailure(account, now: t0.addingTimeInterval(5 + 15 * 60 + 1))
        #expect(account.failedLogins == 1 && account.lockedUntil == nil)
    }

    @Test func aSessionEndsAfterThirtyIdleMinutesOrTwelveHours() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(!AccountRules.sessionExpired(createdAt: start, lastSeen: start, now: start.addingTimeInterval(29 * 60)))
        #expect(AccountRules.sessionExpired(createdAt: start, lastSeen: start, now: start.addingTimeInterval(30 * 60)))
        let late = start.addingTimeInterval(12 * 3600 - 60)
        #expect(!AccountRules.sessionExpired(createdAt: start, lastSeen: late, now: late.addingTimeInterval(30)))
        #expect(AccountRules.sessionExpired(createdAt: start, lastSeen: late, now: late.addingTimeInterval(60)))
        #expect(AccountRules.sessionExpired(createdAt: start, lastSeen: start, now: start.addingTimeInterval(-1)))
    }

    @Test func staffSeeTheirOfficesAndAdminsAll() {
        let staff = Account(name: "wang.li", role: .staff, offices: ["jinshan"])
        let admin = Account(name: "zhao", role: .admin, offices: [])
        #expect(OfficeScope.allows(staff, office: "jinshan"))
        #expect(OfficeScope.allows(staff, office: "JINSHAN"))
        #expect(!OfficeScope.allows(staff, office: "fengxian"))
        #expect(OfficeScope.allows(admin, office: "fengxian"))
        #expect(OfficeScope.offices(staff, among: ["fengxian", "jinshan"]) == ["jinshan"])
    }

    @Test func theLanguageIsChineseUnlessEnglishIsPreferred() {
        #expect(Language(acceptLanguage: nil) == .zh)
        #expect(Language(acceptLanguage: "en-GB,en;q=0.8") == .en)
        #expect(Language(acceptLanguage: "zh-CN,zh;q=0.9,en;q=0.8") == .zh)
        #expect(Language(acceptLanguage: "fr-FR,en;q=0.5,zh;q=0.4") == .en)
        #expect(Language(acceptLanguage: "de-DE") == .zh)
        #expect(Language(acceptLanguage: "en;q=0,zh;q=0.1") == .zh)
    }

    @Test func everyWordThePagesShowHasAChineseNameWithoutLatinLetters() {
        let latin = { (s: String) in s.unicodeScalars.contains { ("a"..."z").contains($0) || ("A"..."Z").contains($0) }
        }
        for role in Role.allCases { #expect(!latin(Words.role(role, .zh)), "\(role)") }
        for risk in RiskLevel.allCases { #expect(!latin(Words.risk(risk, .zh)), "\(risk)") }
        for role in ExpertRole.allCases {
            #expect(!latin(Words.expertRole(role, .zh)), "\(role)")
            #expect(Words.expertRole(role, .en) != role.rawValue || !role.rawValue.contains("_"), "\(role)")
        }
        for status in SessionStatus.allCases { #expect(!latin(Words.sessionStatus(status, .zh)), "\(status)") }
        for status in DisputeStatus.allCases { #expect(!latin(Words.disputeStatus(status, .zh)), "\(status)") }
        for rule in WarningRule.allCases { #expect(!latin(Words.warningRule(rule, .zh)), "\(rule)") }
        for kind in RecipientKind.allCases { #expect(!latin(Words.recipient(kind, .zh)), "\(kind)") }
        for problem in PasswordProblem.allCases { #expect(!latin(Words.passwordProblem(problem, .zh)), "\(problem)") }
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        for account in [
            Account(name: "a", role: .staff, offices: []),
            Account(name: "b", role: .staff, offices: [], disabled: true),
            Account(name: "c", role: .staff, offices: [], mustChangePassword: false),
            Account(name: "d", role: .staff, offices: [], lockedUntil: now.addingTimeInterval(60)),
        ] {
            #expect(!latin(Words.accountState(account, now: now, .zh)), "\(account.name)")
        }
        for category in Dispute.defaultCategories { #expect(!latin(Words.category(category, .zh)), "\(category)") }
    }
}
