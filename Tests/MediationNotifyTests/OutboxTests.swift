import Foundation
import MediationCore
import MediationStore
import Synchronization
import Testing

@testable import MediationNotify

/// A channel that records what it was given and answers as told.
final class RecordingChannel: NotificationChannel, @unchecked Sendable {
    let name: String
    let reach: ChannelReach
    let keepsQuietHours: Bool
    private let lock = NSLock()
    private var answers: [DeliveryResult]
    private(set) var delivered: [PreparedMessage] = []

    /// Mail (`maildir`, `smtp`) reaches one person; any other name is a group chat unless `reach` says otherwise.
    init(
        name: String = "maildir", quiet: Bool = false, answers: [DeliveryResult] = [], reach: ChannelReach? = nil
    ) {
        self.name = name
        self.keepsQuietHours = quiet
        self.answers = answers
        self.reach = reach ?? (["maildir", "smtp"].contains(name) ? .personal : .shared)
    }

    func accepts(_ message: PreparedMessage) -> Bool { name == "maildir" ? message.mail != nil : true }

    func deliver(_ batch: [PreparedMessage], taken: @escaping @Sendable (String) -> Void) async -> [DeliveryResult] {
        let results: [DeliveryResult] = lock.withLock {
            delivered += batch
            return batch.map { _ in answers.isEmpty ? .sent(detail: "ok") : answers.removeFirst() }
        }
        // As the real channels do: each message taken is noted at once.
        for (m, r) in zip(batch, results) {
            if case .sent = r { taken(m.notice.messageID) }
        }
        afterDelivery?()
        return results
    }

    /// Runs after each batch, before the dispatcher stores its outcomes.
    var afterDelivery: (() -> Void)?

    var count: Int { lock.withLock { delivered.count } }
}

/// The outbox with a store, a hand-moved clock and recording channels: no sleeping, no network.
struct OutboxTests {
    let actor = Actor(uid: 0, user: "test", isAdmin: true)
    // Tuesday 1 December 2026, 10:00 in Shanghai.
    let start = Date(timeIntervalSince1970: 1_796_090_400)

    func fixture(_ clock: FixedWallClock) async throws -> (AppDatabase, Session) {
        let db = try AppDatabase.inMemory(clock: clock)
        let allDay = try WeeklyWindow.parseList("mon-sun 00:00-24:00", field: "hours")
        _ = try await db.createOffice(Office(id: "hq", name: "金山警务室", phone: "021-1", workingHours: allDay))
        var ids: [Int64] = []
        for (name, role, email) in [
            ("王建国", ExpertRole.legalOfficer, "w@example.org"), ("Anna", .lawyer, "a@example.de"),
            ("周敏", .communityStaff, "z@example.org"),
        ] {
            ids.append(
                try await db.createExpert(
                    Expert(name: name, role: role, offices: ["hq"], email: email, weeklyHours: allDay)
                ).id)
        }
        let detail = try await db.openDispute(
            Dispute(officeId: "hq", title: "漏水", category: "neighbour"),
            parties: [Party(name: "李强", side: .applicant, email: "l@example.cn")], categories: ["neighbour"],
            actor: actor)
        let session = try await db.book(
            dispute: detail.dispute.number, start: start.addingTimeInterval(3 * 86400), durationMinutes: 90,
            panel: ids, policy: nil, rules: SchedulingRules(), room: "room1", actor: actor)
        return (db, session)
    }

    func dispatcher(
        _ db: AppDatabase, _ clock: FixedWallClock, _ channel: RecordingChannel, retry: RetryPolicy = .init(),
        journal: HandOverJournal? = nil,
        settle: (quiet: Duration, atMost: Duration) = (.milliseconds(500), .seconds(10))
    )
        throws -> OutboxDispatcher
    {
        OutboxDispatcher(
            db: db,
            renderer: NoticeRenderer(settings: NoticeSettings(), templates: try NoticeTemplates.load(directory: nil)),
            channels: ChannelSet(mail: channel), retry: retry, clock: clock, journal: journal, settle: settle)
    }

    @Test func theBuiltInTemplatesAreTheFilesInConfig() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        for (key, text) in embeddedTemplates {
            let file = root.appendingPathComponent("Config/templates/\(key).mustache")
            #expect(try String(contentsOf: file, encoding: .utf8) == text, "run scripts/embed-templates.sh: \(key)")
        }
        // And every file is built in: ten notices in each language, the agreement and the record (zh only).
        var files: [String] = []
        for language in ["zh", "en"] {
            let folder = root.appendingPathComponent("Config/templates/\(language)")
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path)
            where file.hasSuffix(".mustache") {
                files.append("\(language)/\(file.dropLast(".mustache".count))")
            }
        }
        #expect(files.sorted() == embeddedTemplates.keys.sorted())
        #expect(embeddedTemplates.count == 22 && embeddedTemplates["zh/agreement"] != nil)
        #expect(embeddedTemplates["zh/record"] != nil)
    }

    @Test func notices_goOut_remindersWaitForTheirTime_andLateOnesAreSkipped() async throws {
        let clock = FixedWallClock(start)
        let (db, session) = try await fixture(clock)
        let channel = RecordingChannel()
        let d = try dispatcher(db, clock, channel)
        try await d.deliverDue()
        #expect(channel.count == 4)  // three experts and one party
        #expect(Set(channel.delivered.compactMap { $0.mail?.to.first?.address }).count == 4)
        #expect(channel.delivered.allSatisfy { $0.mail?.calendar?.method == "REQUEST" })
        // 24 h before: four reminders, no invite.
        clock.set(session.start.addingTimeInterval(-86400 + 1))
        try await d.deliverDue()
        #expect(channel.count == 8)
        #expect(channel.delivered.suffix(4).allSatisfy { $0.mail?.calendar == nil })
        // The daemon was down through the 1 h reminder and the session has begun: the late reminders are skipped.
        clock.set(session.start.addingTimeInterval(60))
        try await d.deliverDue()
        #expect(channel.count == 8)
        let skipped = try await db.outbox(OutboxFilter(status: .skipped))
        #expect(skipped.count == 4 && skipped.allSatisfy { $0.kind == .reminder })
        #expect(skipped.allSatisfy { ($0.lastError ?? "").contains("has begun") })
    }

    @Test func transientFailuresBackOffThenDie_andAPermanentOneDiesAtOnce() async throws {
        let clock = FixedWallClock(start)
        let (db, _) = try await fixture(clock)
        let failing = RecordingChannel(
            answers: [.permanent("550 no such mailbox")] + Array(repeating: .transient("451 try later"), count: 20))
        let d = try dispatcher(db, clock, failing, retry: RetryPolicy(maxAttempts: 3, baseSeconds: 10, maxSeconds: 40))
        try await d.deliverDue()
        var dead = try await db.outbox(OutboxFilter(status: .dead))
        #expect(dead.count == 1)
        #expect(dead.first?.lastError == "550 no such mailbox")
        var failed = try await db.outbox(OutboxFilter(status: .failed))
        #expect(failed.count == 3)
        // Not before the backoff: nothing is due a second later.
        clock.advance(by: 1)
        #expect(try await d.deliverDue() == 0)
        // Each wait lies in [base·2^(n-1)/2, base·2^(n-1)], capped.
        for m in failed {
            let wait = m.nextAttemptAt.timeIntervalSince(start)
            #expect(wait >= 5 && wait <= 10, "\(wait)")
        }
        clock.advance(by: 10)
        try await d.deliverDue()
        failed = try await db.outbox(OutboxFilter(status: .failed))
        #expect(failed.count == 3 && failed.allSatisfy { $0.attempts == 2 })
        clock.advance(by: 40)
        try await d.deliverDue()
        dead = try await db.outbox(OutboxFilter(status: .dead))
        #expect(dead.count == 4)
        let (_, attempts) = try await db.outboxMessage(try #require(dead.last).id)
        #expect(attempts.count == 3 || attempts.count == 1)
        // Retried by staff: pending again, with a fresh count.
        #expect(try await db.retryDead() == 4)
        #expect(try await db.outbox(OutboxFilter(status: .pending)).count >= 4)
    }

    @Test func aCancelledSessionSendsOnlyToThoseWhoHeard() async throws {
        let clock = FixedWallClock(start)
        let (db, session) = try await fixture(clock)
        // Cancelled before the dispatcher ran: nobody heard of it, so nobody hears of the cancellation.
        _ = try await db.cancel(session: session.id, reason: "重复登记", actor: actor)
        let channel = RecordingChannel()
        let d = try dispatcher(db, clock, channel)
        try await d.deliverDue()
        #expect(channel.count == 0)
        let all = try await db.outbox(OutboxFilter(session: session.id))
        #expect(!all.isEmpty && all.allSatisfy { $0.status == .skipped })
    }

    @Test func aCancellationReachesEveryoneWhoHadTheNotice() async throws {
        let clock = FixedWallClock(start)
        let (db, session) = try await fixture(clock)
        let channel = RecordingChannel()
        let d = try dispatcher(db, clock, channel)
        try await d.deliverDue()
        _ = try await db.cancel(session: session.id, reason: "当事人和解", actor: actor)
        try await d.deliverDue()
        #expect(channel.count == 8)
        let cancels = channel.delivered.suffix(4)
        #expect(cancels.allSatisfy { $0.mail?.calendar?.method == "CANCEL" })
        #expect(cancels.allSatisfy { $0.mail?.calendar?.ics.contains("STATUS:CANCELLED") == true })
        #expect(cancels.allSatisfy { $0.notice.text.contains("当事人和解") || $0.notice.text.contains("当事人和解") })
    }

    @Test func chatChannelsKeepQuietHoursUnlessTheSessionIsClose() async throws {
        // 23:30 in Shanghai.
        let late = Date(timeIntervalSince1970: 1_796_139_000)
        let settings = NoticeSettings()
        let zone = try Zone("Asia/Shanghai")
        let until = try #require(settings.quietUntil(late, zone: zone))
        #expect(NoticeRenderer.when(until, zone: zone, en: true).hasSuffix("07:00"))
        #expect(until.timeIntervalSince(late) == 7.5 * 3600)
        #expect(settings.quietUntil(late.addingTimeInterval(9 * 3600), zone: zone) == nil)
        // Across midnight: 06:59 is still quiet, 07:00 is not.
        let (date, _) = zone.wallClock(until)
        #expect(settings.quietUntil(zone.instant(date, try #require(TimeOfDay(minutes: 419))), zone: zone) == until)
        #expect(settings.quietUntil(until, zone: zone) == nil)
        #expect(NoticeSettings(quietStartMinutes: nil, quietEndMinutes: nil).quietUntil(late, zone: zone) == nil)
    }

    @Test func languagesAndZonesFollowTheRecipient() async throws {
        let clock = FixedWallClock(start)
        let (db, session) = try await fixture(clock)
        let renderer = NoticeRenderer(settings: NoticeSettings(), templates: try NoticeTemplates.load(directory: nil))
        let previews = try await db.previewContexts(session: session.id)
        #expect(previews.count == 4)
        let texts = try previews.map { try renderer.render($0) }
        #expect(texts.allSatisfy { $0.language == "zh" })
        #expect(texts.first { $0.recipientName == "王建国" }?.subject.hasPrefix("【联合调解议程】") == true)
        #expect(texts.first { $0.recipientName == "李强" }?.subject.hasPrefix("【调解通知】") == true)
        #expect(texts.allSatisfy { $0.text.contains("2026年12月4日 周五 10:00") })
        #expect(texts.allSatisfy { !$0.text.contains("{{") && !$0.text.contains("nil") })
        // The office has no address: the clause about it is left out, not filled with "nil".
        #expect(texts.first { $0.recipientName == "李强" }?.text.contains("地址") == false)
        // A webhook payload is JSON even for a recipient without a mobile.
        let d = OutboxDispatcher(
            db: db, renderer: renderer,
            channels: ChannelSet(mail: RecordingChannel(), webhook: RecordingChannel(name: "webhook")),
            retry: RetryPolicy(), clock: clock)
        let prepared = try d.prepare(previews[3], renderer: renderer, now: start)
        let json = try #require(try JSONSerialization.jsonObject(with: prepared.json) as? [String: Any])
        #expect((json["recipient"] as? [String: Any])?["email"] as? String == "l@example.cn")
        #expect((json["recipient"] as? [String: Any])?["mobile"] == nil)
    }
}

/// The hand-over journal: what a channel took is not sent again after a crash that came before the outcomes were
/// stored.
struct HandOverJournalTests {
    let outbox = OutboxTests()

    func journal() throws -> HandOverJournal {
        try HandOverJournal(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("handover-\(UUID().uuidString)").path)
    }

    @Test func eachMessageTakenIsNotedBeforeTheOutcomesAreStored_thenTheJournalIsEmptied() async throws {
        let clock = FixedWallClock(outbox.start)
        let (db, _) = try await outbox.fixture(clock)
        let channel = RecordingChannel()
        let journal = try journal()
        defer { unlink(journal.path) }
        let seen = Mutex<[(id: Int64, channel: String)]>([])
        channel.afterDelivery = { seen.withLock { $0 = journal.taken() } }
        let d = try outbox.dispatcher(db, clock, channel, journal: journal)
        #expect(try await d.deliverDue() == 4)
        let noted = seen.withLock { $0 }
        let sent = try await db.outbox(OutboxFilter(status: .sent))
        #expect(Set(noted.map(\.id)) == Set(sent.map(\.id)) && noted.count == 4)
        #expect(noted.allSatisfy { $0.channel == "maildir" })
        #expect(journal.taken().isEmpty)
    }

    @Test func messagesTakenBeforeACrashAreMarkedSentAndNotSentAgain() async throws {
        let clock = FixedWallClock(outbox.start)
        let (db, _) = try await outbox.fixture(clock)
        let pending = try await db.outbox(OutboxFilter(status: .pending)).filter { $0.kind == .notice }
        #expect(pending.count == 4)
        // A daemon killed after the server took two notices, before it stored their outcomes.
        let journal = try journal()
        defer { unlink(journal.path) }
        journal.append(pending[0].id, channel: "smtp")
        journal.append(pending[1].id, channel: "smtp")
        // A torn line is ignored.
        let fd = open(journal.path, O_WRONLY | O_APPEND)
        _ = write(fd, "12", 2)
        close(fd)
        let channel = RecordingChannel()
        let d = try outbox.dispatcher(db, clock, channel, journal: journal)
        #expect(try await d.deliverDue() == 2)
        #expect(Set(channel.delivered.map(\.outboxId)) == [pending[2].id, pending[3].id])
        let (recovered, attempts) = try await db.outboxMessage(pending[0].id)
        #expect(recovered.status == .sent && recovered.channel == "smtp")
        #expect(attempts.last?.detail.contains("hand-over journal") == true)
        #expect(try await db.outbox(OutboxFilter(status: .sent)).filter { $0.kind == .notice }.count == 4)
        #expect(journal.taken().isEmpty)
        // Nothing more goes out, whatever the journal said before.
        #expect(try await d.deliverDue() == 0)
        #expect(channel.count == 2)
    }
}

/// The loop holds its notices while bookings are in flight, so a burst is booked first; never longer than `atMost`.
/// The loop sleeps on the test's clock: the test moves the time, once the loop is asleep, and never waits for it.
struct SettleTests {
    let outbox = OutboxTests()

    @Test func noticesWaitWhileAChangeIsInFlight_andGoOutOnceItEnds() async throws {
        let clock = FixedWallClock(outbox.start)
        let (db, _) = try await outbox.fixture(clock)
        let channel = RecordingChannel()
        // Steps of powers of two, which the clock's Date adds exactly.
        let d = try outbox.dispatcher(db, clock, channel, settle: (.milliseconds(125), .seconds(30)))
        d.changeStarted()
        d.wake()
        let loop = Task { await d.run(poll: .milliseconds(50)) }
        defer { loop.cancel() }
        // Four notices are due, but a change is in flight: 29 s by the clock and nothing goes out.
        for _ in 0..<29 {
            await clock.sleeping()
            clock.advance(by: 1)
        }
        await clock.sleeping()
        #expect(channel.count == 0)
        // The change ends: the notices go once the quiet time (125 ms) has passed, not before.
        d.changeEnded()
        clock.advance(by: 0.0625)
        await clock.sleeping()
        clock.advance(by: 0.03125)
        await clock.sleeping()
        #expect(channel.count == 0, "94 ms after the change ended is not yet quiet")
        clock.advance(by: 0.03125)
        await clock.sleeping()
        #expect(channel.count == 4)
    }

    @Test func aChangeThatNeverEndsHoldsNoticesNoLongerThanAtMost() async throws {
        let clock = FixedWallClock(outbox.start)
        let (db, _) = try await outbox.fixture(clock)
        let channel = RecordingChannel()
        let d = try outbox.dispatcher(db, clock, channel, settle: (.milliseconds(125), .milliseconds(500)))
        d.changeStarted()
        d.wake()
        let loop = Task { await d.run(poll: .milliseconds(50)) }
        defer { loop.cancel() }
        for _ in 0..<3 {
            await clock.sleeping()
            clock.advance(by: 0.125)
        }
        await clock.sleeping()
        #expect(channel.count == 0, "375 ms: still held")
        clock.advance(by: 0.125)
        await clock.sleeping()
        #expect(channel.count == 4, "500 ms: sent, though the change never ended")
    }

    /// The loop sleeps until the next message falls due by the clock: reminders go when the clock reaches them.
    @Test func theLoopSendsRemindersWhenTheClockReachesThem() async throws {
        let clock = FixedWallClock(outbox.start)
        let (db, session) = try await outbox.fixture(clock)
        let channel = RecordingChannel()
        let d = try outbox.dispatcher(db, clock, channel, settle: (.milliseconds(125), .seconds(1)))
        d.wake()
        let loop = Task { await d.run() }
        defer { loop.cancel() }
        await clock.sleeping()
        clock.advance(by: 0.125)
        await clock.sleeping()
        #expect(channel.count == 4, "the notices")
        // A second before the 24-hour reminders: the loop sleeps on; at their time, they go.
        clock.set(session.start.addingTimeInterval(-86400 - 1))
        await clock.sleeping()
        #expect(channel.count == 4)
        clock.set(session.start.addingTimeInterval(-86400 + 1))
        await clock.sleeping()
        #expect(channel.count == 8, "the reminders")
    }
}

/// Panel changes, answers and the choice of channel.
struct OutboxPanelTests {
    let base = OutboxTests()

    @Test func aSubstituteIsInvitedAndTheExpertTakenOffGetsACancel() async throws {
        let clock = FixedWallClock(base.start)
        let (db, session) = try await base.fixture(clock)
        let allDay = try WeeklyWindow.parseList("mon-sun 00:00-24:00", field: "hours")
        let substitute = try await db.createExpert(
            Expert(name: "陈律师", role: .lawyer, offices: ["hq"], email: "c@example.org", weeklyHours: allDay))
        let channel = RecordingChannel()
        let d = try base.dispatcher(db, clock, channel)
        try await d.deliverDue()
        #expect(channel.count == 4)
        let anna = try #require(session.panel.first { $0.requirement.role == .lawyer }).expertId
        _ = try await db.replace(
            session: session.id, expert: String(anna), with: String(substitute.id), rules: SchedulingRules(),
            actor: base.actor)
        try await d.deliverDue()
        let changes = Array(channel.delivered.dropFirst(4))
        #expect(changes.count == 2)
        let removed = try #require(changes.first { $0.mail?.to.first?.address == "a@example.de" })
        #expect(removed.mail?.calendar?.method == "CANCEL")
        #expect(removed.notice.subject.contains("无需参加"))
        let added = try #require(changes.first { $0.mail?.to.first?.address == "c@example.org" })
        #expect(added.mail?.calendar?.method == "REQUEST")
        #expect(added.mail?.calendar?.ics.contains("SEQUENCE:1") == true)
        // Anna's reminders are skipped; the substitute has reminders of their own.
        let all = try await db.outbox(OutboxFilter(session: session.id))
        #expect(
            all.filter { $0.recipientId == anna && $0.recipientKind == .expert && $0.kind == .reminder }
                .allSatisfy { $0.status == .skipped })
        #expect(
            all.filter { $0.recipientId == substitute.id && $0.kind == .reminder }.count == 2)
    }

    @Test func anAnswerGoesToTheOffice() async throws {
        let clock = FixedWallClock(base.start)
        let (db, session) = try await base.fixture(clock)
        let channel = RecordingChannel()
        let d = try base.dispatcher(db, clock, channel)
        try await d.deliverDue()
        let lead = try #require(session.panel.first { $0.lead }).expertId
        _ = try await db.rsvp(session: session.id, expert: String(lead), .declined, rules: SchedulingRules())
        // The same answer again is not news.
        _ = try await db.rsvp(session: session.id, expert: String(lead), .declined, rules: SchedulingRules())
        try await d.deliverDue()
        #expect(channel.count == 5)
        let answer = try #require(channel.delivered.last)
        #expect(answer.mail?.to.first?.address == NoticeSettings().from.address)
        #expect(answer.notice.subject.contains("王建国") && answer.notice.subject.contains("谢绝"))
        #expect(answer.mail?.calendar == nil)
        // A decline says how to replace that member, with commands the CLI takes (issue 14, item 11).
        #expect(
            answer.notice.text.contains("'mediationctl session replace \(session.id) \(lead)'"), "\(answer.notice.text)"
        )
        #expect(
            answer.notice.text.contains("'mediationctl session replace \(session.id) \(lead) --with EXPERT'"),
            "\(answer.notice.text)")
        #expect(!answer.notice.text.contains("--expert"))
    }

    /// Among the channels that reach the person (see `ChannelReachTests` for what a group chat may carry).
    @Test func aRecipientIsTriedOnTheirPreferredPersonalChannelFirst() throws {
        let mail = RecordingChannel(name: "maildir")
        let sender = ChannelSender()
        let robot = RobotChannel(target: RobotTarget(kind: .wecom, url: "http://127.0.0.1:9/wecom"), sender: sender)
        let hook = WebhookChannel(
            target: WebhookTarget(url: "http://127.0.0.1:9/hook", secret: "s"), sender: sender, reach: .personal)
        let set = ChannelSet(mail: mail, webhook: hook, wecom: robot)
        func prepared(email: String?, mobile: String?, preferred: ContactChannel?) -> PreparedMessage {
            let notice = RenderedNotice(
                language: "zh", subject: "s", text: "t", recipientName: "n", recipientEmail: email,
                recipientMobile: mobile, preferredChannel: preferred, timeZone: "Asia/Shanghai", messageID: "<x@y>")
            return PreparedMessage(
                outboxId: 1, notice: notice,
                mail: email.map {
                    OutgoingMail(
                        from: MailAddress("a@b"), to: [MailAddress($0)], subject: "s", text: "t", messageID: "<x@y>",
                        date: Date())
                }, chat: ChatMessage(title: "s", markdown: "t", text: "t"), json: Data())
        }
        #expect(
            set.candidates(for: prepared(email: "e@x", mobile: "1", preferred: .sms)).map(\.name) == [
                "webhook", "maildir",
            ])
        #expect(
            set.candidates(for: prepared(email: "e@x", mobile: "1", preferred: nil)).map(\.name) == [
                "maildir", "webhook",
            ])
        // The group robot is never a person's channel, preferred or not.
        #expect(
            set.candidates(for: prepared(email: "e@x", mobile: "1", preferred: .wecom)).map(\.name) == [
                "maildir", "webhook",
            ])
        #expect(set.candidates(for: prepared(email: nil, mobile: "1", preferred: .wecom)).map(\.name) == ["webhook"])
        #expect(set.candidates(for: prepared(email: nil, mobile: nil, preferred: nil)).map(\.name) == [])
    }
}
