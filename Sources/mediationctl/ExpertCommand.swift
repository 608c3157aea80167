import ArgumentParser
import Foundation
import MediationAPI

struct ExpertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expert",
        abstract:
            "The expert pool: add, list, show, update, deactivate, reactivate, availability, leave, import, export, "
            + "feed.",
        discussion: """
            EXPERT is an id (12 or #12), a mobile, an email, or the exact full name. Roles: legal_officer (法制民警), \
            lawyer (律师), retiree (退休干部), community_staff (综治专干).
            """,
        subcommands: [
            Add.self, List.self, Show.self, Update.self, Deactivate.self, Reactivate.self, Availability.self,
            Leave.self, Extra.self, Import.self, Export.self, Feed.self,
        ])

    /// Fields shared by add and update.
    struct Fields: ParsableArguments {
        @Option(help: "Full name.") var name: String?
        @Option(help: "legal_officer, lawyer, retiree or community_staff (or 法制民警, 律师, 退休干部, 综治专干).")
        var role: String?
        @Option(name: .customLong("office"), help: "An office served (repeat, or 'all').") var offices: [String] = []
        @Option(name: .customLong("specialty"), help: "A specialty tag such as property (repeat or comma-separate).")
        var specialties: [String] = []
        @Option(name: .customLong("language"), help: "A language or dialect such as 上海话 (repeat).")
        var languages: [String] = []
        @Option(help: "Email address.") var email: String?
        @Option(help: "Mobile number (11 digits, or +country code).") var mobile: String?
        @Option(help: "WeCom user id.") var wecom: String?
        @Option(name: .customLong("dingtalk"), help: "DingTalk mobile.") var dingtalk: String?
        @Option(help: "Preferred channel: email, sms, wecom or dingtalk.") var channel: String?
        @Option(name: .customLong("time-zone"), help: "IANA time zone (default Asia/Shanghai).") var timeZone: String?
        @Option(name: .customLong("max-per-day"), parsing: .unconditional, help: "Most sessions a day (default 2).")
        var maxPerDay: Int?
        @Option(name: .customLong("max-per-week"), parsing: .unconditional, help: "Most sessions a week (default 5).")
        var maxPerWeek: Int?
        @Option(help: "Free-text notes.") var notes: String?
        @Option(help: "Weekly hours, for example 'mon 09:00-12:00 14:00-17:00; wed 19:00-21:00'.") var hours: String?

        // Lists as typed (`a, b`, `甲、乙`): the daemon splits them.
        var specialtyList: [String]? { specialties.isEmpty ? nil : specialties }
        var languageList: [String]? { languages.isEmpty ? nil : languages }
        var officeList: [String]? { offices.isEmpty ? nil : offices }
        @Flag(
            name: .customLong("clear-hours"),
            help: "Remove every weekly hour (the expert is then free only by extra availability).")
        var clearHours = false

        /// `--clear-hours` sends an empty list; `--hours` sends the text for the daemon to read.
        func windows() throws -> (list: [Components.Schemas.WeeklyWindow]?, text: String?) {
            if clearHours {
                guard hours == nil else { throw CLIFailure.input("give --hours or --clear-hours, not both") }
                return ([], nil)
            }
            return (nil, try hours.map { try Hours.checked($0) })
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an expert (staff).",
            discussion: """
                Example:
                  mediationctl expert add --name 王芳 --role lawyer --office jinshan \\
                      --specialty property --mobile 13800138000 \\
                      --hours 'mon 09:00-12:00; wed 19:00-21:00'
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var fields: Fields

        func validate() throws {
            guard fields.name != nil else { throw ValidationError("give the expert's name with --name") }
            guard fields.role != nil else {
                throw ValidationError(
                    "give the role with --role (legal_officer (法制民警), lawyer (律师), retiree (退休干部), "
                        + "community_staff (综治专干))")
            }
            guard !fields.offices.isEmpty else {
                throw ValidationError("give at least one --office (an office id, or 'all')")
            }
        }

        func run() async throws {
            let hours = try fields.windows()
            let body = Components.Schemas.ExpertCreate(
                name: fields.name ?? "", role: fields.role ?? "", specialties: fields.specialtyList,
                languages: fields.languageList, offices: fields.officeList ?? [], email: fields.email,
                mobile: fields.mobile, wecomUserId: fields.wecom, dingtalkMobile: fields.dingtalk,
                preferredChannel: fields.channel, timeZone: fields.timeZone, maxSessionsPerDay: fields.maxPerDay,
                maxSessionsPerWeek: fields.maxPerWeek, notes: fields.notes, weeklyHours: hours.list,
                hours: hours.text)
            let out = try await global.client().call { try await $0.createExpert(body: .json(body)) }
            switch out {
            case .created(let c): try ExpertCommand.show(try c.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List experts, filtered.",
            discussion: """
                Examples:
                  mediationctl expert list --role lawyer --office jinshan --active
                  mediationctl expert list --role 律师 --specialty property
                  mediationctl expert list --inactive
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this role.") var role: String?
        @Option(help: "Only experts serving this office (including those serving all).") var office: String?
        @Option(help: "Only experts with this specialty.") var specialty: String?
        @Flag(help: "Only active experts.") var active = false
        @Flag(help: "Only deactivated experts.") var inactive = false
        @Flag(help: "Show full mobiles (roles in privacy.reveal_roles, default admin; audited).") var reveal = false

        func validate() throws {
            if active && inactive { throw ValidationError("give --active or --inactive, not both") }
        }

        func run() async throws {
            let query = Operations.ListExperts.Input.Query(
                role: role, office: office, specialty: specialty, active: active ? true : (inactive ? false : nil),
                reveal: reveal)
            let out = try await global.client().call { try await $0.listExperts(query: query) }
            switch out {
            case .ok(let ok):
                let list = try ok.body.json
                if global.json { return try printJSON(list) }
                var table = Say.table(
                    ("ID", "编号"), ("NAME", "姓名"), ("ROLE", "角色"), ("OFFICES", "调解室"), ("SPECIALTIES", "专长"),
                    ("MOBILE", "手机号"), ("HOURS/WEEK", "每周小时"), ("STATUS", "状态"))
                for e in list.experts {
                    table.add(
                        String(e.id), e.name, ExpertCommand.roleLabel(e.role.rawValue, e.roleName),
                        ExpertCommand.offices(e.servesAllOffices, e.offices),
                        ExpertCommand.specialties(e.specialties), e.mobile ?? "-",
                        String(format: "%.1f", Double(e.weeklyMinutes) / 60), ExpertCommand.state(e.active))
                }
                table.print()
                print(Say.count(list.experts.count, "expert", "experts", "名专家"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one expert (mobiles masked unless --reveal).",
            discussion: """
                Examples:
                  mediationctl expert show 陈志远
                  mediationctl expert show 13900000001 --reveal
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Id, mobile, email or full name.") var expert: String
        @Flag(help: "Show full mobiles (roles in privacy.reveal_roles, default admin; audited).") var reveal = false

        func run() async throws {
            let out = try await global.client().call {
                try await $0.getExpert(path: .init(expert: expert), query: .init(reveal: reveal))
            }
            switch out {
            case .ok(let ok): try ExpertCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change some fields of an expert (staff); lists given replace the old ones.",
            discussion: """
                Examples:
                  mediationctl expert update 陈志远 --max-per-week 3 --specialty property,family
                  mediationctl expert update 13900000003 --email wang.jianguo@example.org
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Id, mobile, email or full name.") var expert: String
        @OptionGroup var fields: Fields

        func run() async throws {
            let hours = try fields.windows()
            let body = Components.Schemas.ExpertUpdate(
                name: fields.name, role: fields.role, specialties: fields.specialtyList, languages: fields.languageList,
                offices: fields.officeList, email: fields.email, mobile: fields.mobile, wecomUserId: fields.wecom,
                dingtalkMobile: fields.dingtalk, preferredChannel: fields.channel, timeZone: fields.timeZone,
                maxSessionsPerDay: fields.maxPerDay, maxSessionsPerWeek: fields.maxPerWeek, notes: fields.notes,
                weeklyHours: hours.list, hours: hours.text)
            let out = try await global.client().call {
                try await $0.updateExpert(path: .init(expert: expert), body: .json(body))
            }
            switch out {
            case .ok(let ok): try ExpertCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take an expert out of the pool; their record and history stay (staff).",
            discussion: """
                An expert still seated on a booked session stays on its panel until replaced; the answer names each \
                such session with the command that replaces the expert.

                Examples:
                  mediationctl expert deactivate 林晓雯
                  mediationctl expert deactivate 袁伟民
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Id, mobile, email or full name.") var expert: String

        func run() async throws {
            let out = try await global.client().call { try await $0.deactivateExpert(path: .init(expert: expert)) }
            switch out {
            case .ok(let ok):
                let shown = try ok.body.json
                try ExpertCommand.show(shown, json: global.json)
                if !global.json { printWarnings(shown.warnings) }
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Reactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put a deactivated expert back in the pool (staff).",
            discussion: """
                Example:
                  mediationctl expert reactivate 蒋德华
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Id, mobile, email or full name.") var expert: String

        func run() async throws {
            let out = try await global.client().call { try await $0.reactivateExpert(path: .init(expert: expert)) }
            switch out {
            case .ok(let ok): try ExpertCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Availability: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an expert's free time in a range, in the expert's time zone.",
            discussion: """
                Weekly hours plus extra availability, minus time off. --from and --to take 2026-12-07, \
                '2026-12-07 09:30' (the expert's wall clock) or 2026-12-07T09:30+08:00; a date alone in --to means \
                the end of that day.

                Example:
                  mediationctl expert availability 陈志远 --from 2026-12-07 --to 2026-12-13
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Id, mobile, email or full name.") var expert: String
        @Option(help: "Start of the range.") var from: String
        @Option(help: "End of the range.") var to: String

        func run() async throws {
            let out = try await global.client().call {
                try await $0.getAvailability(path: .init(expert: expert), query: .init(from: from, to: to))
            }
            switch out {
            case .ok(let ok):
                let a = try ok.body.json
                if global.json { return try printJSON(a) }
                print(
                    Say.t(
                        "\(a.name) (#\(a.expertId)) free from \(a.from) to \(a.to), times in \(a.timeZone)",
                        "\(a.name)（#\(a.expertId)）\(a.from) 至 \(a.to) 的空闲时间（\(a.timeZone) 时间）"))
                var table = Say.table(("DATE", "日期"), ("DAY", "星期"), ("FROM", "开始"), ("TO", "结束"), ("HOURS", "小时"))
                for i in a.intervals {
                    table.add(
                        i.date, Say.word("weekday", i.weekday), i.startLocal, i.endLocal,
                        String(format: "%.1f", Double(i.minutes) / 60))
                }
                if a.intervals.isEmpty {
                    print(Say.t("(no free time in this range)", "（这段时间没有空闲）"))
                } else {
                    table.print()
                }
                print(
                    Say.t("total: ", "合计：") + String(format: "%.1f", Double(a.totalMinutes) / 60) + Say.t(" h", " 小时"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    // MARK: Roster

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update experts from a roster CSV (staff).",
            discussion: """
                UTF-8 with or without a BOM; headers in English or Chinese (see the README); every row is checked \
                first and nothing is written unless all rows are valid. Rows match stored experts on mobile, else \
                email, so importing the same file again changes nothing.

                Examples:
                  mediationctl expert import Config/examples/experts.csv --dry-run
                  mediationctl expert import Config/examples/experts.csv
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The roster file.") var file: String
        @Flag(name: .customLong("dry-run"), help: "Check and report without writing anything.") var dryRun = false

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CLIFailure.input("cannot read \(file): no such file, or not readable")
            }
            let out = try await global.client().call {
                try await $0.importRoster(query: .init(dryRun: dryRun), body: .csv(.init(data)))
            }
            switch out {
            case .ok(let ok):
                let r = try ok.body.json
                if global.json { return try printJSON(r) }
                if Say.zh {
                    print(
                        "\(r.dryRun ? "将" : "已")新增 \(r.created) 名，\(r.dryRun ? "将" : "已")更新 \(r.updated) 名，"
                            + "不变 \(r.unchanged) 名" + (r.dryRun ? "（试运行：未写入任何内容）" : ""))
                } else {
                    let verb = r.dryRun ? "would create" : "created"
                    print(
                        "\(verb) \(r.created), \(r.dryRun ? "would update" : "updated") \(r.updated), "
                            + "unchanged \(r.unchanged)" + (r.dryRun ? " (dry run: nothing written)" : ""))
                }
                let out = r.deactivatedLines ?? []
                if !out.isEmpty {
                    let lines = out.map(String.init).joined(separator: Say.t(", ", "、"))
                    print(
                        Say.t(
                            "\(r.dryRun ? "would take" : "took") \(out.count) out of the pool (active no): line(s) "
                                + lines,
                            "\(r.dryRun ? "将" : "已")停用 \(out.count) 名专家（不再参加调解）：第 \(lines) 行"))
                }
                printWarnings(r.warnings)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every expert as a roster CSV; with --reveal, one that 'expert import' reads back.",
            discussion: """
                Mobiles are masked unless --reveal (roles in privacy.reveal_roles, default admin; audited).
                Examples:
                  mediationctl expert export --reveal --output roster.csv
                  mediationctl expert export > roster.csv
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .long], help: "Write to this file instead of standard output.") var output: String?
        @Flag(help: "Full mobiles, so that import reads the roster back (audited).") var reveal = false

        func run() async throws {
            let out = try await global.client().call { try await $0.exportRoster(query: .init(reveal: reveal)) }
            switch out {
            case .ok(let ok):
                guard case .csv(let body) = ok.body else { return }
                let data = try await Data(collecting: body, upTo: 64 << 20)
                if let output {
                    guard FileManager.default.createFile(atPath: output, contents: data) else {
                        throw CLIFailure(message: "cannot write \(output)", exitCode: 1)
                    }
                } else {
                    print(String(decoding: data, as: UTF8.self), terminator: "")
                }
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    // MARK: Display

    static func roleLabel(_ role: String, _ name: String?) -> String {
        if Say.zh { return Say.word("role", role) }
        return name.map { "\(role) \($0)" } ?? role
    }

    static func offices(_ all: Bool, _ offices: [String]) -> String {
        all ? Say.t("all", "全部") : offices.joined(separator: Say.t(", ", "、"))
    }

    static func specialties(_ tags: [String]) -> String {
        tags.isEmpty ? "-" : tags.map { Say.word("specialty", $0.lowercased()) }.joined(separator: Say.t(", ", "、"))
    }

    static func state(_ active: Bool) -> String {
        active ? Say.t("active", "在册") : Say.t("inactive", "已停用")
    }

    static func show(_ e: Components.Schemas.Expert, json: Bool) throws {
        printWarnings(e.unreachable.map { [$0] })
        if json { return try printJSON(e) }
        Say.line("id", "编号", String(e.id))
        Say.line("name", "姓名", e.name)
        Say.line("role", "角色", roleLabel(e.role.rawValue, e.roleName))
        Say.line("status", "状态", state(e.active))
        Say.line("offices", "调解室", offices(e.servesAllOffices, e.offices))
        Say.line("specialties", "专长", specialties(e.specialties))
        Say.line("languages", "语言", e.languages.isEmpty ? "-" : e.languages.joined(separator: Say.t(", ", "、")))
        Say.line("mobile", "手机号", e.mobile ?? "-")
        Say.line("email", "邮箱", e.email ?? "-")
        Say.line("wecom", "企业微信", e.wecomUserId ?? "-")
        Say.line("dingtalk", "钉钉", e.dingtalkMobile ?? "-")
        Say.line("channel", "通知方式", e.preferredChannel.map { Say.word("channel", $0.rawValue) } ?? "-")
        Say.line("time zone", "时区", e.timeZone)
        Say.line(
            "caps", "上限",
            Say.t(
                "\(e.maxSessionsPerDay) a day, \(e.maxSessionsPerWeek) a week",
                "每天 \(e.maxSessionsPerDay) 场，每周 \(e.maxSessionsPerWeek) 场"))
        Say.line("hours", "可调解时间", e.hoursText ?? "-")
        Say.line("notes", "备注", e.notes ?? "-")
    }
}

extension ExpertCommand {
    /// 日历订阅: the expert's personal calendar feed, served by the web listener.
    struct Feed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An expert's personal calendar feed (webcal://…/feeds/TOKEN.ics), or a new address (reset).",
            discussion: """
                The expert subscribes to the webcal:// address in Outlook, Thunderbird or a phone's calendar and sees \
                every session they sit on (from 30 days ago), moved when a session moves and gone when it is \
                cancelled. The address is the key: send it to the expert personally, never to a group. If it has \
                reached someone else, 'reset' gives a new one and the old answers 404. 'expert feed EXPERT' is \
                'expert feed show EXPERT'.
                """,
            subcommands: [Show.self, Reset.self], defaultSubcommand: Show.self)

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Print the feed's address (made on first asking) (staff).",
                discussion: """
                    Example:
                      mediationctl expert feed show 陈志远
                    """)
            @OptionGroup var global: GlobalOptions
            @Argument(help: "Id, mobile, email or full name.") var expert: String

            func run() async throws {
                switch try await global.client().call({ try await $0.getExpertFeed(path: .init(expert: expert)) }) {
                case .ok(let ok): try Feed.print(try ok.body.json, json: global.json)
                case .default(let s, let p): throw apiFailure(s, p)
                }
            }
        }

        struct Reset: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Give the feed a new address; the old one answers 404 from now on (staff, audited).",
                discussion: """
                    Example:
                      mediationctl expert feed reset 陈志远
                    """)
            @OptionGroup var global: GlobalOptions
            @Argument(help: "Id, mobile, email or full name.") var expert: String

            func run() async throws {
                switch try await global.client().call({ try await $0.resetExpertFeed(path: .init(expert: expert)) }) {
                case .ok(let ok): try Feed.print(try ok.body.json, json: global.json)
                case .default(let s, let p): throw apiFailure(s, p)
                }
            }
        }

        static func print(_ feed: Components.Schemas.ExpertFeed, json: Bool) throws {
            if json { return try printJSON(feed) }
            Swift.print(
                Say.t("calendar feed of \(feed.name) (#\(feed.expert)):", "\(feed.name)（#\(feed.expert)）的日历订阅："))
            Swift.print("  \(feed.webcal)")
            Swift.print(
                "  \(feed.url)   " + Say.t("(the same over http, to check it in a browser)", "（同一地址的 http 形式，可在浏览器中查看）")
            )
            Swift.print(
                Say.t(
                    "send it to \(feed.name) personally; 'mediationctl expert feed reset \(feed.expert)' replaces it",
                    "请单独发给\(feed.name)本人，不要发到群里；'mediationctl expert feed reset \(feed.expert)' 可换一个新地址"))
        }
    }
}
