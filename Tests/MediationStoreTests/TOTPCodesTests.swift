import Foundation
import MediationCore
import MediationStore
import Testing

/// The authenticator codes the console accepts: RFC 6238's own test vectors (SHA-1, key "12345678901234567890"),
/// a step either side for a phone's drifting clock, never two steps, never a step already used, never a code that
/// is not six digits; and the login throttle's count by address.
struct TOTPCodesTests {
    let rfcKey = "12345678901234567890"

    @Test func theRFC6238VectorsAreAcceptedAtTheirTimes() {
        // RFC 6238 appendix B gives 8 digits; an authenticator shows the last 6.
        for (time, code) in [
            (59.0, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037"),
        ] {
            let step = Int64(time / 30)
            #expect(
                TOTPCodes.accepted(code, secret: rfcKey, now: Date(timeIntervalSince1970: time), after: nil) == step,
                "\(time)")
        }
        // Typed with a space in the middle, as apps show it.
        #expect(TOTPCodes.accepted("287 082", secret: rfcKey, now: Date(timeIntervalSince1970: 59), after: nil) == 1)
    }

    @Test func oneStepEitherSideIsAcceptedTwoAreNotAndAStepOnlyOnce() {
        let at = Date(timeIntervalSince1970: 59)
        #expect(TOTPCodes.accepted("287082", secret: rfcKey, now: at.addingTimeInterval(30), after: nil) == 1)
        #expect(TOTPCodes.accepted("287082", secret: rfcKey, now: at.addingTimeInterval(-30), after: nil) == 1)
        #expect(TOTPCodes.accepted("287082", secret: rfcKey, now: at.addingTimeInterval(90), after: nil) == nil)
        #expect(TOTPCodes.accepted("287082", secret: rfcKey, now: at, after: 1) == nil, "used once already")
        // Full-width digits, as a Chinese input method types them, are the same code.
        #expect(TOTPCodes.accepted("２８７０８２", secret: rfcKey, now: at, after: nil) == 1)
        for typed in ["", "28708", "2870822", "28708a", "-87082"] {
            #expect(TOTPCodes.accepted(typed, secret: rfcKey, now: at, after: nil) == nil, "\(typed)")
        }
    }

    @Test func aNewSecretIsBase32AndItsKeyAndAddressAgree() {
        let secret = TOTPCodes.newSecret()
        #expect(TOTPCodes.isSecret(secret) && secret != TOTPCodes.newSecret())
        #expect(!TOTPCodes.isSecret("short") && !TOTPCodes.isSecret(rfcKey))
        let key = TOTPCodes.typedKey(secret: secret).replacingOccurrences(of: " ", with: "")
        #expect(key.count == 32, "20 bytes are 32 base32 characters")
        let url = TOTPCodes.authenticatorURL(secret: secret, account: "wang.li")
        #expect(url.hasPrefix("otpauth://totp/") && url.contains("secret=\(key)") && url.contains("wang.li"), "\(url)")
    }

    @Test func anAddressIsRefusedAfterTwentyFailuresForAQuarterOfAnHour() {
        let throttle = LoginThrottle()
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        for n in 0..<(LoginThrottle.limit - 1) { throttle.failed("10.0.0.9", now: t0.addingTimeInterval(Double(n))) }
        #expect(throttle.refusedUntil("10.0.0.9", now: t0.addingTimeInterval(30)) == nil)
        throttle.failed("10.0.0.9", now: t0.addingTimeInterval(30))
        #expect(throttle.refusedUntil("10.0.0.9", now: t0.addingTimeInterval(31)) == t0.addingTimeInterval(15 * 60))
        #expect(throttle.refusedUntil("10.0.0.8", now: t0.addingTimeInterval(31)) == nil, "another address")
        #expect(throttle.refusedUntil("10.0.0.9", now: t0.addingTimeInterval(15 * 60)) == nil, "the oldest has aged")
    }
}
