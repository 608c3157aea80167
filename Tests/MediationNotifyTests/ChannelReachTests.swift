import Foundation
import MediationCore
import MediationStore
import Testing

@testable import MediationNotify

/// Personal and shared channels: a person's notice, link or token goes on a channel that reaches that one person; a
/// group chat carries the office's one line per change to a session, and nothing personal.
struct ChannelReachTests {
    let base = OutboxTests()

    func prepared(email: String?, mobile: String?, preferred: ContactChannel?, personal: Bool = true)
        -> PreparedMessage
    {
        let notice = RenderedNotice(
            language: "zh", subject: "s", text: "t", recipientName: "n", recipientEmail: email,
            recipientMobile: mobile, preferredChannel: preferred, timeZone: "Asia/Shanghai", messageID: "<x@y>")
        return PreparedMessage(
            outboxId: 1, notice: notice,
            mail: email.map {
                OutgoingMail(
                    from: MailAddress("a@b"), to: [MailAddress($0)], subject: "s", text: "t", messageID: "<x@y>",
                    date: Date())
            }, chat: ChatMessage(title: "s", markdown: "t", text: "t"), json: Data(), isPersonal: personal)
    }

    @Test func aPersonalMessageGoesOnPersonalChannelsOnly_andAnOfficeLineOnSharedOnes() {
        // The real channels (nothing is sent: only their rules are asked).
        let mail = RecordingChannel(name: "maildir")
        let sender = ChannelSender()
        let wecom = RobotChannel(target: RobotTarget(kind: .wecom, url: "http://127.0.0.1:9/wecom"), sender: sender)
        let dingtalk = RobotChannel(
            target: RobotTarget(kind: .dingtalk, url: "http://127.0.0.1:9/dingtalk"), sender: sender)
        let target = WebhookTarget(url: "http://127.0.0.1:9/hook", secret: "s")
        let shared = ChannelSet(
            mail: mail, webhook: WebhookChannel(target: target, sender: sender), wecom: wecom, dingtalk: dingtalk)
        func names(_ set: ChannelSet, _ m: PreparedMessage) -> [String] { set.candidates(for: m).map(\.name) }
        // A preference for a group robot falls back to mail; without mail, nothing is left.
        #expect(names(shared, prepared(email: "e@x", mobile: "1", preferred: .wecom)) == ["maildir"])
        #expect(names(shared, prepared(email: "e@x", mobile: "1", preferred: nil)) == ["maildir"])
        #expect(names(shared, prepared(email: nil, mobile: "1", preferred: .wecom)) == [])
        #expect(names(shared, prepared(email: nil, mobile: "1", preferred: .sms)) == [], "the webhook is shared")
        #expect(names(shared, prepared(email: nil, mobile: nil, preferred: nil)) == [])
        // The office's line: the group chats and the shared webhook, never mail; an office message with an address
        // goes by mail first.
        #expect(
            names(shared, prepared(email: nil, mobile: nil, preferred: nil, personal: false)) == [
                "wecom", "dingtalk", "webhook",
            ])
        #expect(
            names(shared, prepared(email: "office@x", mobile: nil, preferred: .email, personal: false)) == [
                "maildir", "wecom", "dingtalk", "webhook",
            ])
        #expect(shared.shared.map(\.name) == ["wecom", "dingtalk", "webhook"])

        // A webhook that delivers to each recipient's own number (an SMS gateway) is personal: it takes a person
        // with a mobile, preferred or not, and nothing without a mobile.
        let gateway = ChannelSet(
            mail: mail, webhook: WebhookChannel(target: target, sender: sender, reach: .personal), wecom: wecom)
        #expect(names(gateway, prepared(email: nil, mobile: "1", preferred: .sms)) == ["webhook"])
        #expect(names(gateway, prepared(email: nil, mobile: "1", preferred: .wecom)) == ["webhook"])
        #expect(names(gateway, prepared(email: "e@x", mobile: "1", preferred: .sms)) == ["webhook", "maildir"])
        #expect(names(gateway, prepared(email: nil, mobile: nil, preferred: nil, personal: false)) == ["wecom"])
        #expect(gateway.shared.map(\.name) == ["wecom"])

        let personal = prepared(email: nil, mobile: "1", preferred: nil)
        #expect(ChannelReach.personal.mayCarry(personal))
        #expect(!ChannelReach.shared.mayCarry(personal))
        #expect(ChannelReach.shared.mayCarry(prepared(email: nil, mobile: nil, preferred: nil, personal: false)))
    }

    @Test func theRealGroupChannelsRefuseAPersonalMessageEvenWhenHandedOne() async {
        // Nothing listens on port 9: a request would fail as transient, so a permanent refusal was never sent.
        let sender = ChannelSender()
        let robot = RobotChannel(target: RobotTarget(kind: .wecom, url: "http://127.0.0.1:9/wecom"), sender: sender)
        let hook = WebhookChannel(target: WebhookTarget(url: "http://127.0.0.1:9/hook", secret: "s"), sender: sender)
        let personal = prepared(email: nil, mobile: "13900000003", preferred: .wecom)
        #expect(robot.reach == .shared && hook.reach == .shared, "the default for a webhook is the safe one")
        #expect(!robot.accepts(personal) && !hook.accepts(personal))
        for channel in [robot, hook] as [any NotificationChannel] {
            let result = await channel.deliver([personal]).first
            guard case .permanent(let why) = result else {
                Issue.record("\(channel.name) answered \(String(describing: result))")
                continue
            }
            #expect(why.contains("never carries a personal message"), "\(why)")
        }
        let gateway = WebhookChannel(
            target: WebhookTarget(url: "http://127.0.0.1:9/hook", secret: "s"), sender: sender, reach: .personal)
        #expect(gateway.accepts(personal))
        #expect(!gateway.accepts(prepared(email: "e@x", mobile: nil, preferred: nil)), "an SMS gateway needs a mobile")
        #expect(SMTPChannel(settings: SMTPSettings(host: "localhost")).reach == .personal)
        #expect(MaildirChannel(directory: "/nonexistent").reach == .personal)
    }

    /// An office; a panel whose lead has only a mobile and prefers WeCom, a lawyer who prefers WeCom but has mail, a
    /// community staff member with mail; a party with only a mobile and one with mail; booked with a room.
    func fixture(_ clock: FixedWallClock) async throws -> (AppDatabase, Session, [Int64], String) {
        let db = try AppDatabase.inMemory(clock: clock)
        let allDay = try WeeklyWindow.parseList("mon-sun 00:00-24:00", field: "hours")
        _ = try await db.createOffice(Office(id: "hq", name: "金山警务室", phone: "021-1", workingHours: allDay))
        var ids: [Int64] = []
        for (name, role, email, mobile, preferred) in [
            ("王建国", ExpertRole.legalOfficer, nil, "13900000003", ContactChannel.wecom),
            ("Anna", .lawyer, "a@example.de", "13900000011", .wecom),
            ("周敏", .communityStaff, "z@example.org", "13900000005", nil),
        ] as [(String, ExpertRole, String?, String, ContactChannel?)] {
            ids.append(
                try await db.createExpert(
                    Expert(
                        name: name, role: role, offices: ["hq"], email: email, mobile: mobile,
                        wecomUserId: preferred == .wecom ? "wecom-\(mobile)" : nil, preferredChannel: preferred,
                        weeklyHours: allDay)
                ).id)
        }
        let detail = try await db.openDispute(
            Dispute(officeId: "hq", title: "楼上漏水", category: "neighbour"),
            parties: [
                Party(name: "李强", side: .applicant, mobile: "13812345678"),
                Party(name: "Tom", side: .respondent, email: "t@example.com"),
            ], categories: ["neighbour"], actor: base.actor)
        let session = try await db.book(
            dispute: detail.dispute.number, start: base.start.addingTimeInterval(3 * 86400), durationMinutes: 90,
            panel: ids, policy: nil, rules: SchedulingRules(), room: "room1", actor: base.actor)
        return (db, session, ids, detail.dispute.number)
    }

    func dispatcher(_ db: AppDatabase, _ clock: FixedWallClock, mail: RecordingChannel, robot: RecordingChannel?)
        throws -> OutboxDispatcher
    {
        let renderer = NoticeRenderer(
            settings: NoticeSettings(), templates: try NoticeTemplates.load(directory: nil),
            link: { room, participant, _, _, moderator, _, _ in
                "https://meet.example.org/\(room)?jwt=eyJtoken.\(participant).\(moderator)"
            })
        return OutboxDispatcher(
            db: db, renderer: renderer, channels: ChannelSet(mail: mail, wecom: robot), retry: RetryPolicy(),
            clock: clock)
    }

    /// Delivers until nothing is due.
    func drain(_ d: OutboxDispatcher) async throws {
        while try await d.deliverDue() > 0 {}
    }

    @Test func aPersonWithOnlyAGroupRobotIsDeadWithWhatToDo_andTheGroupHearsOneLinePerChange() async throws {
        let clock = FixedWallClock(base.start)
        let (db, session, panel, number) = try await fixture(clock)
        let mail = RecordingChannel()
        let robot = RecordingChannel(name: "wecom", quiet: true)
        let d = try dispatcher(db, clock, mail: mail, robot: robot)
        try await drain(d)
        // Anna (WeCom preferred, but she has mail), 周敏 and Tom by mail, each with their own link.
        #expect(
            Set(mail.delivered.compactMap { $0.mail?.to.first?.address }) == [
                "a@example.de", "z@example.org", "t@example.com",
            ])
        #expect(mail.delivered.allSatisfy { $0.isPersonal && $0.notice.text.contains("jwt=") })
        // The group hears of the booking once, mentioning the panel, with nothing personal in it.
        #expect(robot.count == 1)
        let line = try #require(robot.delivered.first)
        #expect(!line.isPersonal)
        #expect(line.chat.mentionMobiles == ["13900000003", "13900000011", "13900000005"])
        #expect(line.notice.subject.contains("【调解安排】\(number)"), "\(line.notice.subject)")
        for text in [line.notice.text, line.chat.text, line.chat.markdown, String(decoding: line.json, as: UTF8.self)] {
            for forbidden in ["jwt", "meet.example.org", "room1", "李强", "Tom", "138", "楼上漏水", "您好"] {
                #expect(!text.contains(forbidden), "'\(forbidden)' in the group's line: \(text)")
            }
        }
        #expect(line.notice.text.contains("2026年12月4日 周五 10:00（Asia/Shanghai）"), "\(line.notice.text)")
        #expect(line.mail == nil, "the line has no mail form: no personal channel takes it")

        // The lead and 李强 are dead, and the reason says what to do.
        let all = try await db.outbox(OutboxFilter(session: session.id))
        let dead = all.filter { $0.status == .dead }
        #expect(Set(dead.map { "\($0.recipientKind.rawValue)\($0.recipientId)" }).count == 2)
        let lead = try #require(dead.first { $0.recipientKind == .expert })
        #expect(lead.recipientId == panel[0])
        let leadWhy = lead.lastError ?? ""
        #expect(leadWhy.contains("no channel reaches 王建国 on their own (wecom is a group chat"), "\(leadWhy)")
        #expect(leadWhy.contains("'mediationctl expert update \(panel[0]) --email ADDRESS'"), "\(leadWhy)")
        #expect(leadWhy.contains("configure an SMS gateway (sms.provider)"), "\(leadWhy)")
        #expect(leadWhy.contains("'mediationctl outbox retry \(lead.id)'"), "\(leadWhy)")
        let party = try #require(dead.first { $0.recipientKind == .party })
        #expect(
            (party.lastError ?? "").contains(
                "'mediationctl party update \(number) \(party.recipientId) --email ADDRESS'"),
            "\(party.lastError ?? "")")
        #expect(!all.contains { $0.isPersonal && ["wecom", "dingtalk", "webhook"].contains($0.channel ?? "") })
        let lines = all.filter(\.isGroupLine)
        #expect(lines.count == 1 && lines.first?.status == .sent && lines.first?.channel == "wecom")

        // Moved, a member replaced, cancelled: one line each, never one per recipient.
        _ = try await db.reschedule(
            session: session.id, to: session.start.addingTimeInterval(86400), rules: SchedulingRules(),
            actor: base.actor)
        try await drain(d)
        #expect(robot.count == 2)
        #expect(robot.delivered.last?.notice.subject.contains("【调解改期】") == true)
        let allDay = try WeeklyWindow.parseList("mon-sun 00:00-24:00", field: "hours")
        let substitute = try await db.createExpert(
            Expert(
                name: "陈律师", role: .lawyer, offices: ["hq"], email: "c@example.org", mobile: "13900000012",
                weeklyHours: allDay))
        _ = try await db.replace(
            session: session.id, expert: String(panel[1]), with: String(substitute.id), rules: SchedulingRules(),
            actor: base.actor)
        try await drain(d)
        #expect(robot.count == 3)
        let changed = try #require(robot.delivered.last)
        #expect(changed.notice.subject.contains("【调解专家调整】"), "\(changed.notice.subject)")
        #expect(changed.chat.mentionMobiles == ["13900000003", "13900000012", "13900000005"])
        _ = try await db.cancel(session: session.id, reason: "李强撤回申请", actor: base.actor)
        try await drain(d)
        #expect(robot.count == 4)
        let cancelled = try #require(robot.delivered.last)
        #expect(cancelled.notice.subject.contains("【调解取消】"))
        #expect(!cancelled.notice.text.contains("李强") && !cancelled.notice.text.contains("撤回"))
        #expect(robot.delivered.allSatisfy { !$0.isPersonal })
        #expect(try await db.outbox(OutboxFilter(session: session.id)).filter(\.isGroupLine).count == 4)
    }

    @Test func withoutAGroupChatNoLineIsQueued_andOneWaitingWhenTheSessionChangesAgainIsSkipped() async throws {
        let clock = FixedWallClock(base.start)
        let (db, session, _, _) = try await fixture(clock)
        let mail = RecordingChannel()
        try await drain(try dispatcher(db, clock, mail: mail, robot: nil))
        #expect(try await db.outbox(OutboxFilter(session: session.id)).filter { $0.recipientKind == .office }.isEmpty)

        // With a robot: the booking's line is queued once the notices went out; the session moves before it is
        // sent, so it is skipped and the group hears of the session once, as booked at its new time.
        let (db2, session2, _, _) = try await fixture(clock)
        let robot = RecordingChannel(name: "wecom", quiet: true)
        let d = try dispatcher(db2, clock, mail: RecordingChannel(), robot: robot)
        #expect(try await d.deliverDue() > 0)
        #expect(robot.count == 0)
        let moved = try await db2.reschedule(
            session: session2.id, to: session2.start.addingTimeInterval(86400), rules: SchedulingRules(),
            actor: base.actor)
        try await drain(d)
        #expect(robot.count == 1)
        #expect(robot.delivered.first?.notice.subject.contains("【调解安排】") == true)
        #expect(
            robot.delivered.first?.notice.text.contains(
                NoticeRenderer.when(moved.start, zone: try Zone("Asia/Shanghai"), en: false)) == true)
        let lines = try await db2.outbox(OutboxFilter(session: session2.id)).filter(\.isGroupLine)
        #expect(lines.map(\.status).sorted { $0.rawValue < $1.rawValue } == [.sent, .skipped])
    }
}
