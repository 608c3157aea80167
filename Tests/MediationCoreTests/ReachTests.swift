import Foundation
import Testing

@testable import MediationCore

/// Core's one rule for whether a person can be told personally, and in what order the channels are tried.
@Suite struct ReachTests {
    let mailOnly = PersonalChannels.mailOnly
    let withSMS = PersonalChannels(mail: true, sms: true)

    @Test func thePreferenceComesFirstThenMailThenSMS() {
        #expect(
            Reach.route(
                email: "a@example.org", mobile: "13700000001", wecomUser: nil, dingtalkMobile: nil, preference: .sms,
                available: withSMS) == [.sms, .email])
        #expect(
            Reach.route(
                email: "a@example.org", mobile: "13700000001", wecomUser: nil, dingtalkMobile: nil, preference: nil,
                available: withSMS) == [.email, .sms])
        // A channel the configuration lacks, or an address the person lacks, is never tried.
        #expect(
            Reach.route(
                email: nil, mobile: "13700000001", wecomUser: "zhangwei", dingtalkMobile: nil, preference: .wecom,
                available: mailOnly
            ).isEmpty)
        #expect(
            Reach.route(
                email: " ", mobile: nil, wecomUser: nil, dingtalkMobile: nil, preference: nil, available: withSMS
            ).isEmpty)
    }

    @Test func whyAPartyCannotBeToldSaysWhatToDo() throws {
        let mobileOnly = Party(name: "张伟", side: .applicant, mobile: "13700000001")
        let noSMS = try #require(Reach.unreachable(mobileOnly, mailOnly))
        #expect(noSMS.zh.contains("只能用短信通知") && noSMS.en.contains("no SMS gateway"))
        #expect(Reach.unreachable(mobileOnly, withSMS) == nil)
        // A citizen is not a member of the office's DingTalk: its application does not reach a party by mobile,
        // while it reaches an expert through their mobile.
        let dingOnly = PersonalChannels(mail: true, sms: false, wecom: false, dingtalk: true)
        #expect(Reach.unreachable(mobileOnly, dingOnly) != nil)
        #expect(
            Reach.unreachableExpert(
                name: "王建国", email: nil, mobile: "13900000003", wecomUser: nil, dingtalkMobile: nil,
                preference: nil, available: dingOnly) == nil)
        let byStaff = Party(name: "王芳", side: .other, email: "w@example.org", channel: .byStaff)
        #expect(try #require(Reach.unreachable(byStaff, withSMS)).zh.contains("选择不接收系统通知"))
        let smsNoMobile = Party(name: "李强", side: .respondent, email: "l@example.org", channel: .sms)
        #expect(try #require(Reach.unreachable(smsNoMobile, withSMS)).en.contains("chose SMS but has no mobile"))
        let nothing = Party(name: "赵六", side: .other)
        #expect(try #require(Reach.unreachable(nothing, withSMS)).zh.contains("没有邮箱"))
        #expect(Reach.unreachable(Party(name: "孙七", side: .other, email: "s@example.org"), mailOnly) == nil)
    }

    @Test func aChannelIsReadAsAClerkTypesIt() throws {
        for (typed, channel) in [
            ("sms", PartyChannel.sms), ("短信", .sms), ("mail", .email), ("邮件", .email), ("none", .byStaff),
            ("不通知", .byStaff), (" SMS ", .sms),
        ] {
            #expect(try Intake.partyChannel(typed) == channel, "\(typed)")
        }
        #expect(try Intake.partyChannel("") == nil)
        let refused = #expect(throws: MediationError.self) { try Intake.partyChannel("传真") }
        #expect(refused?.fields.first?.field == "channel")
    }
}

/// What a Chinese input method types in full width reads as the plain characters.
@Suite struct FullWidthTests {
    @Test func fullWidthDigitsReadAsDigits() throws {
        #expect(Text.halfWidth("１３７ ００００　０００１") == "137 0000 0001")
        #expect(Contact.normalizeMobile("１３７０００００００１") == "13700000001")
        #expect(Contact.normalizeMobile("＋８６ １３７－００００－０００１") == "13700000001")
        #expect(try Money.parseFen("１２００．５０元") == 120_050)
        #expect(Text.halfWidth("张伟") == "张伟", "Chinese stays as it is")
    }
}
