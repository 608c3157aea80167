import ArgumentParser
import Foundation
import MediationAPI

struct SessionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session",
        abstract: "Mediation sessions: find times, book, and follow them through.",
        discussion: """
            'session find DISPUTE --from DATE --to DATE' prints numbered options (a time and a full panel for which \
            the experts and the parties are all free); 'session book DISPUTE --option N' books one. SESSION is the \
            session's id.
            """,
        subcommands: [
            Find.self, Book.self, List.self, Show.self, Reschedule.self, Cancel.self, Replace.self, Rsvp.self,
            Start.self, End.self, NoShow.self, Week.self, Links.self, Minutes.self,
        ])

    struct Find: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Propose times with a full, fair panel (staff).",
            discussion: """
                Options are spread: on one half-day (before or after 12:00, office time) the same panel is offered \
                once. --every lists every start instead.

                With --outside-hours --reason, the office's hours do not apply (evenings and weekends, when the \
                parties can come only then); its holidays still do, and so do the experts' and the parties' own \
                times. An option of such a search is booked outside office hours, with the reason.

                Examples:
                  mediationctl session find JS-2026-0001 --from 2026-12-14 --to 2026-12-18
                  mediationctl session find JS-2026-0001 --from 2026-12-14 --to 2026-12-18 \\
                      --pin 王建国 --options 3
                  mediationctl session find JS-2026-0001 --from 2026-12-14 --to 2026-12-20 \\
                      --outside-hours --reason '当事人白天上班'
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The dispute's number or id.") var dispute: String
        @Option(help: "Window start (a date, or 'date HH:MM' in office time).") var from: String
        @Option(help: "Window end (a date means the end of that day).") var to: String
        @Option(help: "Panel policy (default: by category, else 'standard').") var policy: String?
        @Option(name: .customLong("minutes"), parsing: .unconditional, help: "Session length (default: the office's).")
        var minutes: Int?
        @Option(help: "An expert who must be on the panel (repeat).") var pin: [String] = []
        @Option(help: "An expert not to propose (repeat).") var exclude: [String] = []
        @Option(parsing: .unconditional, help: "How many options, 1–20 (default 5).") var options: Int?
        @Flag(help: "Every start at which a panel fits (default: at most one per half-day with the same panel).")
        var every = false
        @OptionGroup var outside: OutsideHoursOptions

        func validate() throws { try outside.validate() }

        func run() async throws {
            let body = Components.Schemas.SlotRequest(
                from: from, to: to, policy: policy, durationMinutes: minutes, pin: pin.isEmpty ? nil : pin,
                exclude: exclude.isEmpty ? nil : exclude, options: options, every: every ? true : nil,
                outsideHours: outside.flag, outsideHoursReason: outside.reason)
            switch try await global.client().call({
                try await $0.findSlots(path: .init(dispute: dispute), body: .json(body))
            }) {
            case .ok(let ok):
                let r = try ok.body.json
                if global.json { return try printJSON(r) }
                let seats = r.requirements.map(Say.requirement).joined(separator: Say.t(", ", "、"))
                print(
                    Say.t(
                        "\(r.dispute): \(r.durationMinutes) min, policy \(r.policy) (\(seats))"
                            + (outside.outsideHours ? ", outside office hours" : ""),
                        "\(r.dispute)：\(r.durationMinutes) 分钟，专家组 \(Say.word("policy", r.policy))（\(seats)）"
                            + (outside.outsideHours ? "，办公时间外" : "")))
                for o in r.options { SessionCommand.printOption(o) }
                if r.options.isEmpty {
                    // The reasons come in the reader's language (the daemon reads Accept-Language); so do these lines.
                    let chinese = ReaderLanguage.tag != nil
                    print(chinese ? "这段时间找不到专家和当事人都有空的时间：" : "nothing fits in the window:")
                    for reason in r.reasons { print("  - \(reason)") }
                    if let n = r.nearest {
                        print(chinese ? "这段时间之外最近的可选时间：" : "nearest option outside the window:")
                        SessionCommand.printOption(n)
                    }
                } else {
                    print(
                        Say.t("book one with: ", "预约其中一个（N 为序号，例如 1）：")
                            + "mediationctl session book \(r.dispute) --option N")
                }
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    static func printOption(_ o: Components.Schemas.SlotOptionView) {
        let label = o.number > 0 ? "[\(o.number)]" : "[-]"
        print("\(label) \(o.start) → \(String(o.end.dropFirst(11).prefix(5)))")
        for seat in o.panel {
            print(
                "      " + padded(Say.requirement(seat.requirement), 22) + "\(seat.name) (#\(seat.expert))"
            )
        }
        print("      \(o.explanation)")
    }

    struct Book: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Book an option of the last search, or an explicit time and panel (staff).",
            discussion: """
                An option of a search made with --outside-hours is booked outside office hours by itself; --at with \
                --outside-hours --reason books a time outside them. Each panel member named with --panel must serve \
                the dispute's office.

                Examples:
                  mediationctl session book JS-2026-0001 --option 1
                  mediationctl session book JS-2026-0001 --at '2026-12-16 14:00' \\
                      --panel 王建国 --panel 艾力·买买提 --panel 高淑芬
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The dispute's number or id.") var dispute: String
        @Option(parsing: .unconditional, help: "The option number 'session find' printed.") var option: Int?
        @Option(help: "An explicit start.") var at: String?
        @Option(help: "A panel member for --at (repeat).") var panel: [String] = []
        @Option(name: .customLong("minutes"), parsing: .unconditional, help: "Session length.") var minutes: Int?
        @Option(help: "Panel policy for --at.") var policy: String?
        @OptionGroup var outside: OutsideHoursOptions

        func validate() throws {
            try outside.validate()
            if option == nil && at == nil { throw ValidationError("give --option N, or --at TIME with --panel") }
            if option != nil && at != nil { throw ValidationError("give --option or --at, not both") }
            if at != nil && panel.isEmpty {
                throw ValidationError("--at needs the panel: --panel EXPERT for each seat")
            }
            if option != nil && (minutes != nil || policy != nil) {
                throw ValidationError(
                    "--option keeps the length and policy of its search; search again with --minutes or --policy")
            }
        }

        func run() async throws {
            let body = Components.Schemas.BookRequest(
                dispute: dispute, option: option, start: at, panel: panel.isEmpty ? nil : panel,
                durationMinutes: minutes, policy: policy, outsideHours: outside.flag,
                outsideHoursReason: outside.reason)
            switch try await global.client().call({ try await $0.bookSession(body: .json(body)) }) {
            case .created(let c): try SessionCommand.show(try c.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List sessions by start.",
            discussion: """
                Examples:
                  mediationctl session list --office jinshan --from 2026-12-07 --to 2026-12-13
                  mediationctl session list --dispute JS-2026-0002 --status booked
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this dispute's.") var dispute: String?
        @Option(help: "Only this office's.") var office: String?
        @Option(help: "From (a date).") var from: String?
        @Option(help: "To (a date: its end).") var to: String?
        @Option(help: "Only this status.") var status: String?

        func run() async throws {
            switch try await global.client().call({
                try await $0.listSessions(
                    query: .init(dispute: dispute, office: office, from: from, to: to, status: status))
            }) {
            case .ok(let ok):
                let list = try ok.body.json
                if global.json { return try printJSON(list) }
                var table = Say.table(
                    ("ID", "编号"), ("DISPUTE", "纠纷"), ("START", "开始"), ("END", "结束"), ("STATUS", "状态"),
                    ("PANEL", "专家组"))
                for s in list.sessions {
                    table.add(
                        String(s.id), s.dispute, s.start, String(s.end.dropFirst(11).prefix(5)),
                        Say.word("session", s.status.rawValue)
                            + (s.outsideHours == true ? Say.t(" (outside hours)", "（办公时间外）") : ""),
                        s.panel.map(\.name).joined(separator: Say.t(", ", "、")))
                }
                table.print()
                print(Say.count(list.sessions.count, "session", "sessions", "场调解"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a session and its panel.",
            discussion: """
                Example:
                  mediationctl session show 1
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: Int64

        func run() async throws {
            switch try await global.client().call({ try await $0.getSession(path: .init(session: session)) }) {
            case .ok(let ok): try SessionCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Reschedule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a booked session; the panel stays (staff).",
            discussion: """
                Everyone told of the session is told of the move, and calendars update.

                Example:
                  mediationctl session reschedule 1 --to '2026-12-16 14:00'
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: Int64
        @Option(help: "The new start.") var to: String

        func run() async throws {
            switch try await global.client().call({
                try await $0.rescheduleSession(path: .init(session: session), body: .json(.init(start: to)))
            }) {
            case .ok(let ok): try SessionCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a booked session with a reason (staff).",
            discussion: """
                Example:
                  mediationctl session cancel 1 --reason '申请人撤回调解申请'
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: Int64
        @Option(help: "Why.") var reason: String

        func run() async throws {
            switch try await global.client().call({
                try await $0.cancelSession(path: .init(session: session), body: .json(.init(reason: reason)))
            }) {
            case .ok(let ok): try SessionCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Replace: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a panel member (staff); without --with, list ranked substitutes.",
            discussion: """
                Examples:
                  mediationctl session replace 1 袁伟民
                  mediationctl session replace 1 袁伟民 --with 王建国
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: Int64
        @Argument(help: "The member to replace.") var expert: String
        @Option(name: .customLong("with"), help: "The substitute.") var substitute: String?

        func run() async throws {
            let client = try global.client()
            guard let substitute else {
                switch try await client.call({
                    try await $0.listSubstitutes(path: .init(session: session), query: .init(expert: expert))
                }) {
                case .ok(let ok):
                    let list = try ok.body.json
                    if global.json { return try printJSON(list) }
                    SessionCommand.printSubstitutes(list.substitutes, session: session)
                case .default(let s, let p): throw apiFailure(s, p)
                }
                return
            }
            switch try await client.call({
                try await $0.replaceMember(
                    path: .init(session: session), body: .json(.init(expert: expert, with: substitute)))
            }) {
            case .ok(let ok): try SessionCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    static func printSubstitutes(_ list: [Components.Schemas.SubstituteView], session: Int64) {
        if list.isEmpty {
            return print(
                Say.t(
                    "no substitute of that seat is free at that time; reschedule the session "
                        + "('mediationctl session reschedule \(session) --to \"12月21日 14:00\"') or add experts of that role to the pool",
                    "这个时间没有可替换该席位的专家：请改期（例如 'mediationctl session reschedule \(session) --to \"12月21日 14:00\"'），"
                        + "或在专家库中增加该角色的专家"))
        }
        print(Say.t("substitutes, fairest first:", "可替换的专家（按近期工作量，少者在前）："))
        for (i, s) in list.enumerated() {
            print(
                "  \(i + 1). \(s.name) (#\(s.expert)), "
                    + Say.t(
                        "\(s.sessionsLast30Days) session(s) in the last 30 days",
                        "近 30 天 \(s.sessionsLast30Days) 场"))
        }
    }

    struct Rsvp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a panel member's answer: accepted, declined or pending (staff).",
            discussion: """
                An answer is taken only while the session is booked; a decline lists the substitutes for the seat.

                Examples:
                  mediationctl session rsvp 1 艾力·买买提 accepted
                  mediationctl session rsvp 1 袁伟民 declined
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: Int64
        @Argument(help: "The member.") var expert: String
        @Argument(help: "accepted, declined or pending.") var answer: String

        func run() async throws {
            switch try await global.client().call({
                try await $0.rsvpSession(
                    path: .init(session: session), body: .json(.init(expert: expert, answer: answer)))
            }) {
            case .ok(let ok):
                let r = try ok.body.json
                if global.json { return try printJSON(r) }
                try SessionCommand.show(r.session, json: false)
                if answer.lowercased().hasPrefix("decl") || answer == "拒绝" {
                    SessionCommand.printSubstitutes(r.substitutes, session: session)
                }
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Links: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Each panel member's own room link (staff); Jitsi links carry a personal token: do not share them.",
            discussion: """
                Given out only while the session is booked or in session.

                Example:
                  mediationctl session links 1
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: Int64

        func run() async throws {
            switch try await global.client().call({ try await $0.getSessionLinks(path: .init(session: session)) }) {
            case .ok(let ok):
                let list = try ok.body.json
                if global.json { return try printJSON(list) }
                for l in list.links {
                    let room = l.link ?? Say.t("(no room: rooms.provider is none)", "（没有会议室：rooms.provider 为 none）")
                    print(
                        "\(l.name) (#\(l.expert))\(l.moderator ? Say.t(", moderator", "，主持人") : "")\(Say.t(": ", "："))\(room)"
                    )
                    if let page = l.page { print(Say.t("  personal page: ", "  个人页面：") + page) }
                }
                for p in list.parties ?? [] {
                    print(
                        Say.t("\(p.name) (party #\(p.party)): personal page ", "\(p.name)（当事人 #\(p.party)）个人页面：")
                            + p.page)
                }
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    /// `--outside-hours --reason …`, shared by find and book.
    struct OutsideHoursOptions: ParsableArguments {
        @Flag(
            name: .customLong("outside-hours"), help: "Ignore the office's hours (evenings, weekends); needs --reason.")
        var outsideHours = false
        @Option(help: "Why the session is outside office hours (audited, shown on the session).") var reason: String?

        func validate() throws {
            if outsideHours && reason == nil {
                throw ValidationError("--outside-hours needs --reason: say why the session is outside office hours")
            }
            if !outsideHours && reason != nil {
                throw ValidationError("--reason goes with --outside-hours; add it, or leave --reason out")
            }
        }

        var flag: Bool? { outsideHours ? true : nil }
    }

    static func mark(_ global: GlobalOptions, _ session: Int64, _ status: String) async throws {
        switch try await global.client().call({
            try await $0.markSession(path: .init(session: session), body: .json(.init(status: status)))
        }) {
        case .ok(let ok): try SessionCommand.show(try ok.body.json, json: global.json)
        case .default(let s, let p): throw apiFailure(s, p)
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a session started (staff).",
            discussion: """
                From scheduling.start_margin_minutes (default 30) before the session's start.

                Example:
                  mediationctl session start 2
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: Int64
        func run() async throws { try await SessionCommand.mark(global, session, "in_session") }
    }

    struct End: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a session ended (staff).",
            discussion: """
                A session in session, from its start. Its outcome is recorded next ('outcome record').

                Example:
                  mediationctl session end 3
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: Int64
        func run() async throws { try await SessionCommand.mark(global, session, "ended") }
    }

    struct NoShow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "no-show", abstract: "Mark a no-show (staff).",
            discussion: """
                A booked session whose start has passed without the parties.

                Example:
                  mediationctl session no-show 4
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: Int64
        func run() async throws { try await SessionCommand.mark(global, session, "no_show") }
    }

    struct Week: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "A week at a glance: one column per day, the sessions under it; then each session's title, office "
                + "and panel.",
            discussion: """
                Examples:
                  mediationctl session week --office jinshan --week 2026-W50
                  mediationctl session week
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this office's sessions.") var office: String?
        @Option(help: "ISO week such as 2026-W49 (default: this week).") var week: String?

        func run() async throws {
            // The daemon reads the week (this one, in the office's zone, when none is given) and names its days.
            switch try await global.client().call({
                try await $0.listSessions(query: .init(office: office, week: week ?? "this"))
            }) {
            case .ok(let ok):
                let list = try ok.body.json
                if global.json { return try printJSON(list) }
                let days = list.days ?? []
                var columns: [[String]] = days.map { _ in [] }
                for s in list.sessions where s.status != .cancelled {
                    guard let i = days.firstIndex(where: { s.start.hasPrefix($0) }) else { continue }
                    columns[i].append("\(s.start.dropFirst(11).prefix(5)) \(s.dispute)")
                }
                var table = Table()
                let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map { Say.word("weekday", $0) }
                table.header = days.enumerated().map { "\(names[$0.offset % 7]) \($0.element.dropFirst(5))" }
                for row in 0..<max(columns.map(\.count).max() ?? 0, 1) {
                    table.add(row: columns.map { row < $0.count ? $0[row] : (row == 0 ? "·" : "") })
                }
                print(Say.t("week ", "周 ") + "\(list.week ?? week ?? "-")\(office.map { Say.t(", ", "，") + $0 } ?? "")")
                table.print()
                // Each session in full: what it is about, where, and who sits on it.
                let shown = list.sessions.filter { $0.status != .cancelled }
                guard !shown.isEmpty else { return }
                var detail = Say.table(
                    ("SESSION", "场次"), ("WHEN", "时间"), ("DISPUTE", "纠纷"), ("TITLE", "名称"), ("OFFICE", "调解室"),
                    ("STATUS", "状态"), ("PANEL", "专家组"))
                for s in shown {
                    detail.add(
                        "#\(s.id)",
                        "\(s.start.prefix(16).replacingOccurrences(of: "T", with: " "))–"
                            + String(s.end.dropFirst(11).prefix(5)), s.dispute, s.title ?? "-", s.office,
                        Say.word("session", s.status.rawValue), s.panel.map(\.name).joined(separator: Say.t(", ", "、")))
                }
                print("")
                detail.print()
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    static func show(_ s: Components.Schemas.Session, json: Bool) throws {
        let notTold = s.unreached?.map {
            // The reason names the person already: a Chinese reader gets it once.
            Say.zh
                ? "无法通知\(Say.word("recipient", $0.kind.rawValue))：\($0.why)"
                : "not told: \($0.kind.rawValue) \($0.name): \($0.why)"
        }
        if json {
            printWarnings(notTold)
            return try printJSON(s)
        }
        let t = Say.t
        let end = String(s.end.dropFirst(11).prefix(5))
        print(
            Say.zh
                ? "场次 #\(s.id)（\(s.dispute)）：\(s.start) → \(end)  [\(Say.word("session", s.status.rawValue))，第 \(s.sequence + 1) 版]"
                : "session #\(s.id) for \(s.dispute): \(s.start) → \(end)  [\(s.status.rawValue), sequence \(s.sequence)]"
        )
        if let room = s.room { print(t("room:   ", "会议室：") + room) }
        if let reason = s.cancelReason { print(t("cancelled: ", "已取消：") + reason) }
        if let reason = s.outsideHoursReason { print(t("outside office hours: ", "办公时间外：") + reason) }
        var table =
            Say.zh ? Table("席位", "专家", "答复", "主持") : Table("SEAT", "EXPERT", "INVITATION", "LEAD")
        for m in s.panel {
            table.add(
                Say.requirement(m.requirement), "\(m.name) (#\(m.expert))",
                m.invitation.map { Say.zh ? Say.word("invitation", $0.rawValue) : $0.rawValue } ?? "-",
                m.lead == true ? t("lead", "主持人") : "")
        }
        table.print()
        // Who its notices cannot reach personally: said on stderr, so a script reading the answer is undisturbed.
        printWarnings(notTold)
    }
}

extension SessionCommand {
    struct Minutes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the session record (调解笔录) for the mediator to fill in by hand.",
            discussion: """
                One HTML page for A4 from the office's template (zh/record.mustache in notices.templates): the case, \
                time and place, who presides, the mediators and parties, and lines for the statements, the course \
                and the result, with a signature line for everyone. Open it in a browser and print it.

                Example:
                  mediationctl session minutes 6 -o record.html
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: Int64
        @Option(name: [.short, .long], help: "Write to this file instead of standard output.") var output: String?

        func run() async throws {
            switch try await global.client().call({ try await $0.getSessionRecord(path: .init(session: session)) }) {
            case .ok(let ok):
                try await writeDocument(
                    try ok.body.html, to: output, what: ("record of session \(session)", "调解场次 #\(session) 的调解笔录"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }
}
