import ArgumentParser
import Foundation
import MediationAPI

struct DisputeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispute",
        abstract: "Disputes: open, list, show, update, risk, close, reopen.",
        discussion: """
            DISPUTE is its number (JS-2026-0042) or id. Categories (default): neighbour, pet, noise, property, \
            family, labour, debt, traffic, consumer, other. Risk: low, medium, high, critical.

            Status moves: open → scheduled → in_session → resolved / unresolved / referred → closed; reopen.
            """,
        subcommands: [Open.self, List.self, Show.self, Update.self, Risk.self, Close.self, Reopen.self])

    /// The seven elements of police practice, shared by open and update.
    struct Elements: ParsableArguments {
        @Option(help: "What set it off (诱因).") var cause: String?
        @Option(help: "When it happened: 2026-11-20, '2026-11-20 19:30' (office time) or RFC 3339.") var occurred:
            String?
        @Option(help: "Where (地点).") var location: String?
        @Option(help: "Its nature (性质).") var nature: String?
        @Option(parsing: .unconditional, help: "How many people are involved (规模).") var scale: Int?
        @Option(help: "Who is involved (人员构成).") var involved: String?
        @Option(help: "How it has developed (事态发展).") var development: String?

        var wire: Components.Schemas.DisputeElements? {
            let e = Components.Schemas.DisputeElements(
                cause: cause, occurredAt: occurred, location: location, nature: nature, scale: scale,
                involved: involved, development: development)
            return [cause, occurred, location, nature, involved, development].allSatisfy({ $0 == nil }) && scale == nil
                ? nil : e
        }
    }

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a dispute (staff); it gets a number such as JS-2026-0001.",
            discussion: """
                Example:
                  mediationctl dispute open --office jinshan --title '邻里噪音纠纷' \\
                      --category noise --risk medium --cause '夜间装修' \\
                      --location '金山路 12 弄' --scale 2
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "The office id.") var office: String
        @Option(help: "A few words on what it is about.") var title: String
        @Option(help: "The category.") var category: String
        @Option(help: "Risk level (default low).") var risk: String?
        @Option(name: .customLong("risk-reason"), help: "Why that risk level (kept in the risk history).")
        var riskReason: String?
        @OptionGroup var elements: Elements

        func run() async throws {
            let body = Components.Schemas.DisputeCreate(
                office: office, title: title, category: category, risk: risk, riskReason: riskReason,
                elements: elements.wire)
            switch try await global.client().call({ try await $0.openDispute(body: .json(body)) }) {
            case .created(let c):
                let detail = try c.body.json
                printWarnings(detail.parties.compactMap(\.unreachable))
                try DisputeCommand.show(detail, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List disputes, newest first.",
            discussion: """
                Examples:
                  mediationctl dispute list --office jinshan --status open
                  mediationctl dispute list --risk high --text 纠纷
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this office.") var office: String?
        @Option(help: "Only this status.") var status: String?
        @Option(help: "Only this risk level.") var risk: String?
        @Option(help: "Only this category.") var category: String?
        @Option(help: "Words in the number, title or elements.") var text: String?

        func run() async throws {
            let query = Operations.ListDisputes.Input.Query(
                office: office, status: status, risk: risk, category: category, q: text)
            switch try await global.client().call({ try await $0.listDisputes(query: query) }) {
            case .ok(let ok):
                let list = try ok.body.json
                if global.json { return try printJSON(list) }
                var table =
                    Say.zh
                    ? Table("编号", "调解室", "类别", "风险", "状态", "登记日期", "名称")
                    : Table("NUMBER", "OFFICE", "CATEGORY", "RISK", "STATUS", "OPENED", "TITLE")
                for d in list.disputes {
                    table.add(
                        d.number, d.office, Say.word("category", d.category), Say.word("risk", d.risk.rawValue),
                        Say.word("dispute", d.status.rawValue), String(d.openedAt.prefix(10)), d.title)
                }
                table.print()
                print(
                    Say.t(
                        "\(list.disputes.count) dispute\(list.disputes.count == 1 ? "" : "s")",
                        "共 \(list.disputes.count) 件纠纷"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Show a dispute's case file: parties, risk and status history, sessions with their panels, outcomes, "
                + "follow-up visits, escalations and conflicts of interest.",
            discussion: """
                Examples:
                  mediationctl dispute show JS-2026-0001
                  mediationctl dispute show XH-2026-0001 --reveal
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Number or id.") var dispute: String
        @Flag(
            help:
                "Show parties' full mobiles and ID-card numbers (roles in privacy.reveal_roles, default admin; audited)."
        )
        var reveal = false

        func run() async throws {
            switch try await global.client().call({
                try await $0.getDispute(path: .init(dispute: dispute), query: .init(reveal: reveal))
            }) {
            case .ok(let ok): try DisputeCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change the title, category or elements (staff).",
            discussion: """
                Example:
                  mediationctl dispute update JS-2026-0001 --nature '民事纠纷' \\
                      --involved '两户邻居' --development '已两次当面调解未果'
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Number or id.") var dispute: String
        @Option(help: "New title.") var title: String?
        @Option(help: "New category.") var category: String?
        @OptionGroup var elements: Elements

        func validate() throws {
            if title == nil && category == nil && elements.wire == nil {
                throw ValidationError("nothing to change: give --title, --category or an element such as --cause")
            }
        }

        func run() async throws {
            let body = Components.Schemas.DisputeUpdate(title: title, category: category, elements: elements.wire)
            switch try await global.client().call({
                try await $0.updateDispute(path: .init(dispute: dispute), body: .json(body))
            }) {
            case .ok(let ok): try DisputeCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Risk: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change the risk level (staff); who, when and why are kept.",
            discussion: """
                Example:
                  mediationctl dispute risk JS-2026-0001 high --reason '双方发生推搡'
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Number or id.") var dispute: String
        @Argument(help: "low, medium, high or critical.") var level: String
        @Option(help: "Why.") var reason: String

        func run() async throws {
            let body = Components.Schemas.RiskRequest(level: level, reason: reason)
            switch try await global.client().call({
                try await $0.setDisputeRisk(path: .init(dispute: dispute), body: .json(body))
            }) {
            case .ok(let ok): try DisputeCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a dispute, with a reason (staff).",
            discussion: """
                A closed dispute keeps its details, risk and parties until it is reopened.

                Example:
                  mediationctl dispute close JS-2026-0001 --reason '双方已自行和解'
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Number or id.") var dispute: String
        @Option(help: "Why.") var reason: String

        func run() async throws {
            switch try await global.client().call({
                try await $0.closeDispute(path: .init(dispute: dispute), body: .json(.init(reason: reason)))
            }) {
            case .ok(let ok): try DisputeCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Reopen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reopen a dispute, with a reason (staff).",
            discussion: """
                Example:
                  mediationctl dispute reopen JS-2026-0006 --reason '当事人要求再次调解'
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Number or id.") var dispute: String
        @Option(help: "Why.") var reason: String

        func run() async throws {
            switch try await global.client().call({
                try await $0.reopenDispute(path: .init(dispute: dispute), body: .json(.init(reason: reason)))
            }) {
            case .ok(let ok): try DisputeCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    static func show(_ detail: Components.Schemas.DisputeDetail, json: Bool) throws {
        if json { return try printJSON(detail) }
        let t = Say.t
        let d = detail.dispute
        func line(_ en: String, _ zh: String, _ value: String) {
            print(padded(t(en, zh) + (Say.zh ? "：" : ""), 13) + value)
        }
        print("\(d.number)  \(d.title)")
        line("office:", "调解室", d.office)
        line("category:", "类别", Say.word("category", d.category))
        line("risk:", "风险", Say.word("risk", d.risk.rawValue))
        line("status:", "状态", Say.word("dispute", d.status.rawValue))
        line("opened:", "登记时间", d.openedAt + (d.closedAt.map { t("   closed: ", "   结案：") + $0 } ?? ""))
        let e = d.elements
        for (en, zh, value) in [
            ("cause", "诱因", e.cause), ("occurred", "发生时间", e.occurredAt), ("location", "地点", e.location),
            ("nature", "性质", e.nature), ("scale", "涉及人数", e.scale.map { t("\($0) people", "\($0) 人") }),
            ("involved", "人员构成", e.involved), ("development", "事态发展", e.development),
        ] where value != nil {
            line(en, zh, value ?? "")
        }
        if !detail.parties.isEmpty {
            print(t("\nparties:", "\n当事人："))
            var table =
                Say.zh
                ? Table("编号", "身份", "姓名", "手机号", "身份证号", "单位")
                : Table("ID", "SIDE", "NAME", "MOBILE", "ID CARD", "ORGANISATION")
            for p in detail.parties {
                table.add(
                    String(p.id), Say.word("side", p.side.rawValue), p.name, p.mobile ?? "-", p.idCard ?? "-",
                    p.organisation ?? "-")
            }
            table.print()
        }
        func history(_ title: String) -> Table {
            print(title)
            return Say.zh ? Table("时间", "原为", "改为", "经办人", "原因") : Table("WHEN", "FROM", "TO", "BY", "WHY")
        }
        var risk = history(t("\nrisk history:", "\n风险变化："))
        for r in detail.riskHistory {
            risk.add(
                r.at, r.from.map { Say.word("risk", $0) } ?? "-", Say.word("risk", r.to), r.user ?? "uid \(r.uid)",
                r.reason)
        }
        risk.print()
        var status = history(t("\nstatus history:", "\n状态变化："))
        for s in detail.statusHistory {
            status.add(
                s.at, s.from.map { Say.word("dispute", $0) } ?? "-", Say.word("dispute", s.to),
                s.user ?? "uid \(s.uid)", s.reason)
        }
        status.print()
        if let file = detail.caseFile { showCaseFile(file) }
    }

    /// Sessions, outcomes, follow-up visits, escalations and conflicts, each a table (or "none").
    static func showCaseFile(_ file: Components.Schemas.CaseFile) {
        let t = Say.t
        let zh = Say.zh
        func section(_ title: String, _ table: Table, empty: Bool) {
            print("\n\(title)" + (zh ? "：" : ":") + (empty ? t(" none", "无") : ""))
            if !empty { table.print() }
        }
        var sessions =
            zh ? Table("场次", "开始", "结束", "状态", "专家组") : Table("SESSION", "START", "END", "STATUS", "PANEL")
        for s in file.sessions {
            sessions.add(
                "#\(s.id)", s.start, String(s.end.dropFirst(11).prefix(5)), Say.word("session", s.status.rawValue),
                s.panel.map { zh ? "\($0.name)（\(Say.requirement($0.requirement))）" : "\($0.name) (\($0.requirement))" }
                    .joined(separator: t(", ", "、")))
        }
        section(t("sessions", "调解场次"), sessions, empty: file.sessions.isEmpty)
        var outcomes =
            zh
            ? Table("场次", "结果", "金额", "已签字", "协议内容/移交单位", "记录时间")
            : Table("SESSION", "RESULT", "AMOUNT", "SIGNED", "TERMS / REFERRED TO", "RECORDED")
        for o in file.outcomes {
            outcomes.add(
                "#\(o.session)", Say.word("result", o.result), o.amount.map { "¥\($0)" } ?? "-",
                o.signed ? t("yes", "是") : t("no", "否"),
                o.terms ?? o.referredTo ?? "-", o.recordedAt)
        }
        section(t("outcomes", "调解结果"), outcomes, empty: file.outcomes.isEmpty)
        var visits =
            zh ? Table("回访", "应访日期", "回访人", "结果", "备注") : Table("VISIT", "DUE", "VISITOR", "RESULT", "NOTES")
        for f in file.followUps {
            visits.add(
                "#\(f.id)", f.dueOn + (f.overdue ? t(" (overdue)", "（逾期）") : ""), f.assigneeName ?? "-",
                f.result.map { Say.word("followup", $0) } ?? t("open", "待回访"), f.notes ?? "-")
        }
        section(t("follow-up visits", "回访"), visits, empty: file.followUps.isEmpty)
        var escalations =
            zh ? Table("编号", "日期", "类型", "案号", "备注") : Table("ID", "DAY", "KIND", "CASE", "NOTES")
        for e in file.escalations {
            escalations.add(
                "#\(e.id)", e.occurredOn, Say.word("escalation", e.kind), e.caseReference ?? "-", e.notes ?? "-")
        }
        section(t("escalations", "升级事件"), escalations, empty: file.escalations.isEmpty)
        var conflicts = zh ? Table("编号", "专家", "对象", "原因") : Table("ID", "EXPERT", "WITH", "REASON")
        for c in file.conflicts {
            conflicts.add(
                "#\(c.id)", "\(c.expertName ?? "-") (#\(c.expert))",
                c.party.map { t("party #\($0)", "当事人 #\($0)") } ?? c.organisation ?? "-", c.reason ?? "-")
        }
        section(t("conflicts of interest", "利害关系"), conflicts, empty: file.conflicts.isEmpty)
    }
}
