import ArgumentParser
import Foundation
import MediationAPI

struct OutcomeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outcome",
        abstract: "Session outcomes: what a concluded session reached.",
        discussion: """
            One outcome per session, once it has ended. agreement and partial_agreement resolve the dispute and \
            plan the follow-up visits; no_agreement and adjourned leave it unresolved for the next session; \
            referred_court, referred_police and referred_other refer it. A mistake is corrected with 'outcome \
            amend', or undone with 'outcome void' (the session's outcome can then be recorded again); both are \
            audited with the old values.
            """,
        subcommands: [Record.self, Show.self, Agreement.self, Amend.self, VoidOutcome.self])

    struct Record: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a session's outcome (staff).",
            discussion: """
                RESULT is one of agreement, partial_agreement, no_agreement, adjourned, referred_court,
                referred_police, referred_other (or 达成协议, 部分达成, 未达成, 休会待续, 移送法院, 移交公安, 移交其他部门).
                Amounts are in yuan, kept exactly as fen.

                Examples:
                  mediationctl outcome record 5 agreement \\
                      --terms "王某赔偿医药费 1200.50 元，三日内付清" --amount 1200.50 --signed
                  mediationctl outcome record 4 adjourned --notes "双方同意下周再谈"
                  mediationctl outcome record 4 referred_other --to "区信访局"
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: Int64
        @Argument(help: "The result code.") var result: String
        @Option(help: "The terms of the agreement (required for agreement and partial_agreement).") var terms: String?
        @Option(help: "Compensation in yuan, such as 1200.50.") var amount: String?
        @Flag(help: "The parties signed the agreement.") var signed = false
        @Option(help: "Notes.") var notes: String?
        @Option(help: "For referrals: to whom (required for referred_other).") var to: String?

        func run() async throws {
            let body = Components.Schemas.OutcomeRequest(
                result: result, terms: terms, amount: amount, signed: signed, notes: notes, to: to)
            switch try await global.client().call({
                try await $0.recordOutcome(path: .init(session: session), body: .json(body))
            }) {
            case .created(let ok):
                let r = try ok.body.json
                if global.json { return try printJSON(r) }
                OutcomeCommand.print(r.outcome)
                Swift.print(
                    Say.t(
                        "dispute \(r.outcome.dispute) is now \(r.disputeStatus); \(r.next)",
                        "纠纷 \(r.outcome.dispute) 现为“\(Say.word("dispute", r.disputeStatus))”；\(r.next)"))
                if !r.followUps.isEmpty { FollowUpCommand.printTable(r.followUps) }
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a session's outcome.",
            discussion: """
                Example:
                  mediationctl outcome show 6
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: Int64

        func run() async throws {
            switch try await global.client().call({ try await $0.getOutcome(path: .init(session: session)) }) {
            case .ok(let ok):
                let o = try ok.body.json
                if global.json { return try printJSON(o) }
                OutcomeCommand.print(o)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Agreement: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the mediation agreement (人民调解协议书) of a session whose outcome is an agreement.",
            discussion: """
                One HTML page for A4, laid out by the office's template (zh/agreement.mustache in \
                notices.templates): the parties, the facts and matters in dispute, the agreed terms, the mediators, \
                signature and fingerprint lines, the seal area and its number (JS-2026-0042-XY1). Open it in a \
                browser and print it. ID and mobile numbers are in full only for the roles of \
                privacy.reveal_roles; every printing is in the audit trail.

                Examples:
                  mediationctl outcome agreement 6 -o agreement.html
                  mediationctl outcome agreement 6 > agreement.html
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: Int64
        @Option(name: [.short, .long], help: "Write to this file instead of standard output.") var output: String?

        func run() async throws {
            switch try await global.client().call({ try await $0.getAgreement(path: .init(session: session)) }) {
            case .ok(let ok):
                try await writeDocument(
                    try ok.body.html, to: output, what: ("agreement of session \(session)", "调解场次 #\(session) 的调解协议书"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Amend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct a recorded outcome (staff); what is given replaces what was recorded.",
            discussion: """
                Give the corrected RESULT, or only the fields to correct; an empty text clears one (--amount ''). \
                Reports read the corrected values. An agreement amended into another result cancels the follow-up \
                visits not yet made; another result amended into an agreement plans them. The old values go to the \
                audit trail. A closed dispute is reopened first.

                Examples:
                  mediationctl outcome amend 6 --amount 1200 --reason "金额录错"
                  mediationctl outcome amend 6 no_agreement --reason "双方并未签字"
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: Int64
        @Argument(help: "The corrected result code (default: as recorded).") var result: String?
        @Option(help: "The corrected terms.") var terms: String?
        @Option(help: "The corrected compensation in yuan, such as 1200.50 ('' clears it).") var amount: String?
        @Flag(inversion: .prefixedNo, help: "Whether the parties signed.") var signed: Bool?
        @Option(help: "The corrected notes.") var notes: String?
        @Option(help: "For referrals: to whom.") var to: String?
        @Option(help: "Why it is corrected (kept in the audit trail).") var reason: String?

        func validate() throws {
            if result == nil && terms == nil && amount == nil && signed == nil && notes == nil && to == nil {
                throw ValidationError(
                    "nothing to change; give the corrected RESULT, or --terms, --amount, --signed/--no-signed, "
                        + "--notes or --to")
            }
        }

        func run() async throws {
            let body = Components.Schemas.OutcomeAmendRequest(
                result: result, terms: terms, amount: amount, signed: signed, notes: notes, to: to, reason: reason)
            switch try await global.client().call({
                try await $0.amendOutcome(path: .init(session: session), body: .json(body))
            }) {
            case .ok(let ok): try OutcomeCommand.print(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct VoidOutcome: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "void",
            abstract: "Void a recorded outcome, with a reason (staff); the outcome can then be recorded again.",
            discussion: """
                The outcome stops counting in reports and exports, its follow-up visits not yet made are cancelled, \
                and the dispute goes back to waiting for the session's outcome. The voided outcome stays in the audit \
                trail.

                Example:
                  mediationctl outcome void 6 --reason "录入了别的案件的结果"
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: Int64
        @Option(help: "Why.") var reason: String

        func run() async throws {
            switch try await global.client().call({
                try await $0.voidOutcome(path: .init(session: session), body: .json(.init(reason: reason)))
            }) {
            case .ok(let ok): try OutcomeCommand.print(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    static func print(_ c: Components.Schemas.OutcomeCorrected, json: Bool) throws {
        if json { return try printJSON(c) }
        print(c.outcome)
        if !c.followUpsPlanned.isEmpty { FollowUpCommand.printTable(c.followUpsPlanned) }
        Swift.print(c.next)
    }

    static func print(_ o: Components.Schemas.Outcome) {
        Swift.print(
            Say.t(
                "outcome #\(o.id) of session #\(o.session) (\(o.dispute)): \(o.result)",
                "调解场次 #\(o.session)（\(o.dispute)）的结果 #\(o.id)：\(Say.word("result", o.result))"))
        func by(_ who: String?) -> String { who.map { Say.t(" by \($0)", "，经办人 \($0)") } ?? "" }
        if let t = o.terms { Say.line("terms", "协议内容", t, width: 14, indent: "  ") }
        if let a = o.amount { Say.line("amount", "金额", "¥\(a)", width: 14, indent: "  ") }
        Say.line("signed", "已签字", o.signed ? Say.t("yes", "是") : Say.t("no", "否"), width: 14, indent: "  ")
        if let r = o.referredTo { Say.line("referred", "移交", r, width: 14, indent: "  ") }
        if let n = o.notes { Say.line("notes", "备注", n, width: 14, indent: "  ") }
        Say.line("recorded", "记录时间", o.recordedAt + by(o.recordedBy), width: 14, indent: "  ")
        if let at = o.amendedAt { Say.line("amended", "更正时间", at + by(o.amendedBy), width: 14, indent: "  ") }
        if let at = o.voidedAt {
            Say.line(
                "VOIDED", "已作废", at + by(o.voidedBy) + (o.voidReason.map { Say.t(": ", "：") + $0 } ?? ""), width: 14,
                indent: "  ")
        }
    }
}

struct FollowUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "followup",
        abstract: "Follow-up visits (回访) after an agreement: due, overdue, and what they found.",
        discussion: """
            Visits are planned when an agreement is recorded (followups.* in the configuration); the panel's \
            community staff member and the office get a reminder on the day.
            """,
        subcommands: [List.self, Record.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Visits due by tomorrow (overdue included), or --overdue, --open, --all.",
            discussion: """
                Examples:
                  mediationctl followup list
                  mediationctl followup list --office xinhua --all
                  mediationctl followup list --overdue
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this office's visits.") var office: String?
        @Flag(help: "Only visits past their day without a result.") var overdue = false
        @Flag(help: "Every visit without a result.") var open = false
        @Flag(help: "Every visit, recorded or not.") var all = false

        func validate() throws {
            if [overdue, open, all].filter({ $0 }).count > 1 {
                throw ValidationError("give one of --overdue, --open, --all")
            }
        }

        func run() async throws {
            let scope: Operations.ListFollowUps.Input.Query.ScopePayload =
                overdue ? .overdue : open ? .open : all ? .all : .due
            switch try await global.client().call({
                try await $0.listFollowUps(query: .init(scope: scope, office: office))
            }) {
            case .ok(let ok):
                let list = try ok.body.json
                if global.json { return try printJSON(list) }
                FollowUpCommand.printTable(list.followUps)
                let overdue = list.followUps.filter(\.overdue).count
                Swift.print(
                    Say.t(
                        "\(list.followUps.count) visit(s); \(overdue) overdue",
                        "共 \(list.followUps.count) 次回访，其中 \(overdue) 次逾期"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Record: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record what a visit found (staff): stable, relapsed (reopens the dispute) or escalated.",
            discussion: """
                A visit may be recorded from the day before it is due. ID is the visit's number in 'followup list'.

                Examples:
                  mediationctl followup record 1 stable --notes "协议已履行"
                  mediationctl followup record 2 relapsed --notes "又因停车发生争吵"
                  mediationctl followup record 3 escalated --kind criminal \\
                      --case "沪公(金)立字2026-118" --date 2026-12-05
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The visit's id (from 'followup list').") var id: Int64
        @Argument(help: "stable, relapsed or escalated.") var result: String
        @Option(help: "What the visit found.") var notes: String?
        @Option(help: "For escalated: criminal, violence or petition.") var kind: String?
        @Option(name: .customLong("case"), help: "For escalated: the case reference.") var caseReference: String?
        @Option(help: "For escalated: the day it happened (default today).") var date: String?

        func run() async throws {
            let body = Components.Schemas.FollowUpResultRequest(
                result: result, notes: notes, kind: kind, _case: caseReference, date: date)
            switch try await global.client().call({
                try await $0.recordFollowUp(path: .init(followup: id), body: .json(body))
            }) {
            case .ok(let ok):
                let r = try ok.body.json
                if global.json { return try printJSON(r) }
                Swift.print(
                    Say.t(
                        "follow-up #\(r.followUp.id) of \(r.followUp.dispute): \(r.followUp.result ?? "-"); "
                            + "the dispute is \(r.disputeStatus), \(r.disputeRisk) risk",
                        "\(r.followUp.dispute) 的回访 #\(r.followUp.id)："
                            + (r.followUp.result.map { Say.word("followup", $0) } ?? "-")
                            + "；纠纷现为“\(Say.word("dispute", r.disputeStatus))”，风险“\(Say.word("risk", r.disputeRisk))”"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    static func printTable(_ list: [Components.Schemas.FollowUp]) {
        var table = Say.table(
            ("ID", "编号"), ("DISPUTE", "纠纷"), ("OFFICE", "调解室"), ("DUE", "应回访日"), ("DAY", "协议后天数"),
            ("ASSIGNEE", "回访人"), ("RESULT", "结果"), ("NOTES", "备注"))
        for f in list {
            table.add(
                String(f.id), f.dispute, f.office, f.dueOn + (f.overdue ? Say.t(" (overdue)", "（逾期）") : ""),
                "+\(f.offsetDays)", f.assigneeName ?? Say.t("office", "调解室"),
                f.result.map { Say.word("followup", $0) } ?? "-", String((f.notes ?? "").prefix(40)))
        }
        table.print()
    }
}

struct EscalationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "escalation",
        abstract: "Escalations: a dispute turned criminal (民转刑), violent, or petitioned upwards.",
        discussion: """
            Recording one raises the dispute to critical (kept in its risk history) and counts in every report.
            """,
        subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record an escalation of a dispute (staff).",
            discussion: """
                KIND is criminal (民转刑), violence or petition; a criminal case needs --case.

                Examples:
                  mediationctl escalation add JS-2026-0001 violence --date 2026-12-05 \\
                      --notes "双方推搡"
                  mediationctl escalation add JS-2026-0001 criminal \\
                      --case "沪公(金)立字2026-118" --date 2026-12-05
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The dispute's number or id.") var dispute: String
        @Argument(help: "criminal, violence or petition.") var kind: String
        @Option(name: .customLong("case"), help: "The police or court case reference.") var caseReference: String?
        @Option(help: "The day it happened, 2026-12-05 (default today).") var date: String?
        @Option(help: "Notes.") var notes: String?

        func run() async throws {
            let body = Components.Schemas.EscalationRequest(kind: kind, date: date, _case: caseReference, notes: notes)
            switch try await global.client().call({
                try await $0.addEscalation(path: .init(dispute: dispute), body: .json(body))
            }) {
            case .created(let ok):
                let e = try ok.body.json
                if global.json { return try printJSON(e) }
                Swift.print(
                    Say.t(
                        "escalation #\(e.id) recorded for \(e.dispute): \(e.kind) on \(e.occurredOn)"
                            + (e.caseReference.map { " (\($0))" } ?? "")
                            + "; the dispute is now \(e.disputeRisk ?? "critical") risk",
                        "已为 \(e.dispute) 登记升级 #\(e.id)：\(e.occurredOn) \(Say.word("escalation", e.kind))"
                            + (e.caseReference.map { "（\($0)）" } ?? "")
                            + "；纠纷风险现为“\(Say.word("risk", e.disputeRisk ?? "critical"))”"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Escalations of one dispute, or of all.",
            discussion: """
                Examples:
                  mediationctl escalation list HQ-2026-0001
                  mediationctl escalation list
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The dispute's number or id (default: every dispute).") var dispute: String?

        func run() async throws {
            let client = try global.client()
            let list: Components.Schemas.EscalationList
            if let dispute {
                switch try await client.call({ try await $0.listEscalations(path: .init(dispute: dispute)) }) {
                case .ok(let ok): list = try ok.body.json
                case .default(let s, let p): throw apiFailure(s, p)
                }
            } else {
                switch try await client.call({ try await $0.listAllEscalations() }) {
                case .ok(let ok): list = try ok.body.json
                case .default(let s, let p): throw apiFailure(s, p)
                }
            }
            if global.json { return try printJSON(list) }
            var table = Say.table(
                ("ID", "编号"), ("DISPUTE", "纠纷"), ("KIND", "类型"), ("DATE", "日期"), ("CASE", "案件编号"),
                ("RECORDED BY", "登记人"), ("NOTES", "备注"))
            for e in list.escalations {
                table.add(
                    String(e.id), e.dispute, Say.word("escalation", e.kind), e.occurredOn, e.caseReference ?? "-",
                    e.recordedBy ?? "-",
                    String((e.notes ?? "").prefix(40)))
            }
            table.print()
        }
    }
}

struct WarningCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warning",
        abstract: "Early warnings: stalled high-risk disputes, relapses, repeated no-shows, overdue visits.",
        discussion: """
            The daemon evaluates the rules (warnings.* in the configuration) on a timer; each warning is raised \
            once per rule and subject and sent to the office's duty channel once.
            """,
        subcommands: [List.self, Check.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Warnings raised, newest first.",
            discussion: """
                Example:
                  mediationctl warning list --office jinshan
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this office's warnings.") var office: String?

        func run() async throws {
            switch try await global.client().call({ try await $0.listWarnings(query: .init(office: office)) }) {
            case .ok(let ok):
                let list = try ok.body.json
                if global.json { return try printJSON(list) }
                WarningCommand.printTable(list.warnings)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate the rules now (staff); prints the warnings raised for the first time.",
            discussion: """
                Example:
                  mediationctl warning check
                """)
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            switch try await global.client().call({ try await $0.checkWarnings() }) {
            case .ok(let ok):
                let list = try ok.body.json
                if global.json { return try printJSON(list) }
                WarningCommand.printTable(list.warnings)
                Swift.print(Say.t("\(list.warnings.count) new warning(s)", "新预警 \(list.warnings.count) 条"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    static func printTable(_ list: [Components.Schemas.Warning]) {
        var table = Say.table(
            ("ID", "编号"), ("RULE", "规则"), ("DISPUTE", "纠纷"), ("OFFICE", "调解室"), ("RAISED", "发出预警"),
            ("SENT", "已通知"), ("MESSAGE", "内容"))
        for w in list {
            table.add(
                String(w.id), Say.word("rule", w.rule), w.dispute, w.office, String(w.raisedAt.prefix(16)),
                w.deliveredAt.map { "\($0.prefix(16)) \(w.channel ?? "")" } ?? "-", w.message)
        }
        table.print()
    }
}
