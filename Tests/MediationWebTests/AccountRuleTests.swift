import Foundation
import MediationCore
import Testing

@Suite struct AccountRuleTests {
    @Test func placeholder() { #expect(AccountRules.minimumPasswordLength == 10) }
}
