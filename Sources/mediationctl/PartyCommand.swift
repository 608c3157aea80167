import ArgumentParser
import Foundation
import MediationAPI

struct PartyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "party",
        abstract: "The parties of a dispute: add, update, remove. 'dispute show' lists them.",
        subcommands: [Add.self, Update.self, Remove.self])

    struct Fields: ParsableArguments {
        @Option(help: "Full name.") var name: String?
        @Option(help: "applicant, respondent or other (申请人, 被申请人, 其他).") var side: String?
        @Option(help: "Mobile number.") var mobile: String?
        @Option(help: "Email address.") var email: String?
        @Option(name: .customLong("id-card"), help: "Resident ID-card number (shown masked).") var idCard: String?
        @Option(help: "Employer or organisation (for conflicts of interest).") var organisation: String?
        @Option(help: "Language or dialect.") var language: String?
        @Option(name: .customLong("time-zone"), help: "IANA zone (default: the office's).") var timeZone: String?
        @Option(help: "When they can attend each week, e.g. 'sat-sun 09:00-12:00; mon 19:00-21:00'.") var hours: String?
        @Option(
            name: .customLong("available"),
            help: "A dated window they can attend, FROM..TO (repeat), e.g. '2026-12-12 09:00..2026-12-12 12:00'.")
        var available: [String] = []
        @Option(
            help: ArgumentHelp(
                "How they want to be told: sms, mail or none (短信, 邮件, 不通知); none: staff tell them, nothing is sent.",
                valueName: "sms|mail|none"))
        var channel: String?

        func dated() throws -> [Components.Schemas.DatedWindow]? {
            guard !available.isEmpty else { return nil }
            return try available.map { text in
                let ends = text.components(separatedBy: "..")
                guard ends.count == 2 else {
                    throw CLIFailure.input(
                        "--available '\(text)' is not FROM..TO, e.g. '2026-12-12 09:00..2026-12-12 12:00'")
                }
                return .init(
                    from: ends[0].trimmingCharacters(in: .whitespaces), to: ends[1].trimmingCharacters(in: .whitespaces)
                )
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a party to a dispute (staff).",
            discussion: """
                The same name and mobile twice in one dispute is refused, naming the party already there. When no
                personal channel of this daemon reaches the party (no email, and no SMS gateway for a mobile; or
                --channel none), the party is added and a warning says so: tell them by phone.

                Examples:
                  mediationctl party add JS-2026-0001 --name 张伟 --side other \\
                      --mobile 13700000009
                  mediationctl party add JS-2026-0001 --name 刘芳 --side 申请人 \\
                      --hours 'mon-fri 18:00-21:00'
                  mediationctl party add JS-2026-0001 --name 赵敏 --side other \\
                      --mobile 13700000010 --channel sms
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The dispute's number or id.") var dispute: String
        @OptionGroup var fields: Fields

        func validate() throws {
            guard fields.name != nil else { throw ValidationError("give the party's name with --name") }
            guard fields.side != nil else { throw ValidationError("give --side applicant, respondent or other") }
        }

        func run() async throws {
            let body = Components.Schemas.PartyInput(
                name: fields.name ?? "", side: fields.side ?? "", mobile: fields.mobile, email: fields.email,
                idCard: fields.idCard, organisation: fields.organisation, language: fields.language,
                timeZone: fields.timeZone,
                hours: try fields.hours.map { try Hours.checked($0) },
                datedWindows: try fields.dated(), channel: fields.channel)
            switch try await global.client().call({
                try await $0.addParty(path: .init(dispute: dispute), body: .json(body))
            }) {
            case .created(let c): try PartyCommand.show(try c.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change some fields of a party (staff).",
            discussion: """
                Examples:
                  mediationctl party update JS-2026-0001 李明 --email li.ming@example.org
                  mediationctl party update JS-2026-0001 2 --mobile 13700000002
                  mediationctl party update JS-2026-0001 2 --channel none
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The dispute's number or id.") var dispute: String
        @Argument(help: "The party's id, as 'dispute show' lists it, or exact name.") var party: String
        @OptionGroup var fields: Fields

        func validate() throws {
            let f = fields
            let given: [String?] = [
                f.name, f.side, f.mobile, f.email, f.idCard, f.organisation, f.language, f.timeZone, f.hours,
                f.channel,
            ]
            if given.allSatisfy({ $0 == nil }) && f.available.isEmpty {
                throw ValidationError("nothing to change: give the fields to change, such as --mobile or --hours")
            }
        }

        func run() async throws {
            let body = Components.Schemas.PartyUpdate(
                name: fields.name, side: fields.side, mobile: fields.mobile, email: fields.email, idCard: fields.idCard,
                organisation: fields.organisation, language: fields.language, timeZone: fields.timeZone,
                hours: try fields.hours.map { try Hours.checked($0) },
                datedWindows: try fields.dated(), channel: fields.channel)
            switch try await global.client().call({
                try await $0.updateParty(path: .init(dispute: dispute, party: party), body: .json(body))
            }) {
            case .ok(let ok): try PartyCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a party (staff).",
            discussion: """
                Example:
                  mediationctl party remove JS-2026-0001 王强
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The dispute's number or id.") var dispute: String
        @Argument(help: "The party's id, as 'dispute show' lists it, or exact name.") var party: String

        func run() async throws {
            switch try await global.client().call({
                try await $0.removeParty(path: .init(dispute: dispute, party: party))
            }) {
            case .noContent:
                let who = Int64(party).map { "#\($0)" } ?? party
                print(global.json ? "{}" : Say.t("removed party \(who)", "已移除当事人 \(who)"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    static func show(_ p: Components.Schemas.Party, json: Bool) throws {
        printWarnings(p.unreachable.map { [$0] })
        if json { return try printJSON(p) }
        print(
            Say.t(
                "#\(p.id) \(p.name) (\(p.side.rawValue)) mobile \(p.mobile ?? "-"), ID card \(p.idCard ?? "-")",
                "#\(p.id) \(p.name)（\(Say.word("side", p.side.rawValue))）手机号 \(p.mobile ?? "-")，身份证号 \(p.idCard ?? "-")"
            ))
        if let channel = p.channel { Say.line("channel", "通知方式", Say.word("partychannel", channel.rawValue), width: 9) }
        if !p.weeklyWindows.isEmpty { Say.line("weekly", "每周空闲", p.hoursText ?? "-", width: 9) }
        for w in p.datedWindows { Say.line("dated", "指定日期", "\(w.from) → \(w.to)", width: 9) }
    }
}

struct ConflictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflict",
        abstract: "Conflicts of interest: an expert related to a party or an organisation is never proposed.",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a conflict of interest (staff).",
            discussion: """
                PARTY is the party's id, as 'dispute show' lists it.

                Examples:
                  mediationctl conflict add 王建国 --party 1 --reason 亲属
                  mediationctl conflict add 13900000025 --organisation 金山物业 \\
                      --reason 曾任法律顾问
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The expert: id, mobile, email or name.") var expert: String
        @Option(help: "A party's id (from 'dispute show').") var party: Int64?
        @Option(help: "An organisation, matched against every party's organisation.") var organisation: String?
        @Option(help: "Why (kept with the record).") var reason: String?

        func validate() throws {
            guard (party == nil) != (organisation == nil) else {
                throw ValidationError("give either --party ID or --organisation NAME")
            }
        }

        func run() async throws {
            let body = Components.Schemas.ConflictInput(
                expert: expert, party: party, organisation: organisation, reason: reason)
            switch try await global.client().call({ try await $0.addConflict(body: .json(body)) }) {
            case .created(let c):
                let v = try c.body.json
                if global.json { return try printJSON(v) }
                let with = v.party.map { Say.t("party #\($0)", "当事人 #\($0)") } ?? v.organisation ?? ""
                print(
                    Say.t("conflict #\(v.id): expert #\(v.expert) — \(with)", "利害关系 #\(v.id)：专家 #\(v.expert) — \(with)")
                )
                printWarnings(v.warnings)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a conflict recorded by mistake (staff); the removal and its reason are audited.",
            discussion: """
                Example:
                  mediationctl conflict remove 1 --reason '录入错误，应为另一位专家'
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The conflict's id, as 'conflict list' shows it.") var conflict: Int64
        @Option(help: "Why it is removed (kept in the audit trail).") var reason: String

        func run() async throws {
            switch try await global.client().call({
                try await $0.removeConflict(path: .init(conflict: conflict), query: .init(reason: reason))
            }) {
            case .noContent: print(Say.t("conflict #\(conflict) removed", "已撤销利害关系 #\(conflict)"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List conflicts, of an expert or for a dispute.",
            discussion: """
                Examples:
                  mediationctl conflict list --expert 陈志远
                  mediationctl conflict list --dispute JS-2026-0001
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this expert's.") var expert: String?
        @Option(help: "Only those concerning this dispute's parties.") var dispute: String?

        func run() async throws {
            switch try await global.client().call({
                try await $0.listConflicts(query: .init(expert: expert, dispute: dispute))
            }) {
            case .ok(let ok):
                let list = try ok.body.json
                if global.json { return try printJSON(list) }
                var table = Say.table(
                    ("ID", "编号"), ("EXPERT", "专家"), ("PARTY", "当事人"), ("ORGANISATION", "单位"), ("REASON", "原因"))
                for c in list.conflicts {
                    table.add(
                        String(c.id), c.expertName.map { "\($0) (#\(c.expert))" } ?? String(c.expert),
                        c.party.map(String.init) ?? "-", c.organisation ?? "-",
                        c.reason ?? "-")
                }
                if list.conflicts.isEmpty { print(Say.t("(none)", "（无）")) } else { table.print() }
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }
}

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Panel policies: named sets of required roles (admin sets them).",
        subcommands: [List.self, Show.self, Set.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List panel policies.",
            discussion: """
                Example:
                  mediationctl policy list
                """)
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            switch try await global.client().call({ try await $0.listPolicies() }) {
            case .ok(let ok):
                let list = try ok.body.json
                if global.json { return try printJSON(list) }
                var table = Say.table(("NAME", "名称"), ("REQUIREMENTS", "席位"), ("DESCRIPTION", "说明"))
                for p in list.policies {
                    table.add(
                        p.name, p.requirements.map(Say.requirement).joined(separator: Say.t(", ", "、")),
                        p.description ?? "-")
                }
                table.print()
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one panel policy.",
            discussion: """
                Example:
                  mediationctl policy show standard
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The policy's name.") var name: String

        func run() async throws {
            switch try await global.client().call({ try await $0.getPolicy(path: .init(policy: name)) }) {
            case .ok(let ok): try PolicyCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or replace a panel policy (admin).",
            discussion: """
                A requirement is role[:specialty][@language], optionally with N* in front.

                Examples:
                  mediationctl policy set property --require legal_officer \\
                      --require lawyer:property --require community_staff \\
                      --description '物业纠纷'
                  mediationctl policy set elders --require 2*retiree@上海话 \\
                      --require community_staff
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The policy's name.") var name: String
        @Option(name: .customLong("require"), help: "A requirement (repeat).") var requirements: [String] = []
        @Option(help: "What the policy is for.") var description: String?

        func validate() throws {
            guard !requirements.isEmpty else {
                throw ValidationError("give at least one --require, e.g. --require lawyer")
            }
        }

        func run() async throws {
            let body = Components.Schemas.PolicyInput(description: description, requirements: requirements)
            switch try await global.client().call({
                try await $0.setPolicy(path: .init(policy: name), body: .json(body))
            }) {
            case .ok(let ok): try PolicyCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    static func show(_ p: Components.Schemas.PanelPolicy, json: Bool) throws {
        if json { return try printJSON(p) }
        let seats = p.requirements.map(Say.requirement).joined(separator: Say.t(", ", "、"))
        print("\(p.name)\(Say.t(": ", "："))\(seats)\(p.description.map { " — \($0)" } ?? "")")
    }
}
