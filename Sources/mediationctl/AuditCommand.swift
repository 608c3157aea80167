import ArgumentParser
import Foundation
import MediationAPI

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The audit trail: who changed what, and when (staff and admins).",
        discussion: """
            Every change made through mediationd is recorded in the same transaction as the change, and no one \
            can alter or remove a record. Reveals of full mobiles and ID-card numbers are recorded too.
            """,
        subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Audit records, newest first.",
            discussion: """
                Examples:
                  mediationctl audit list --since 2026-11-30 --target JS-2026-0001
                  mediationctl audit list --actor root --limit 20
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "From this day or time on: 2026-12-01, '2026-12-01 09:00' or 2026-12-01T09:00+08:00.")
        var since: String?
        @Option(help: "Only this user name or uid.") var actor: String?
        @Option(help: "Only targets containing this text: JS-2026-0042, 'session 12', 'expert 3'.") var target: String?
        @Option(parsing: .unconditional, help: "At most this many (default 100).") var limit: Int?

        func validate() throws {
            if let limit, !(1...10_000).contains(limit) { throw ValidationError("--limit must be 1 to 10000") }
        }

        func run() async throws {
            switch try await global.client().call({
                try await $0.listAudit(query: .init(since: since, actor: actor, target: target, limit: limit))
            }) {
            case .ok(let ok):
                let list = try ok.body.json
                if global.json { return try printJSON(list) }
                var table = Say.table(
                    ("ID", "编号"), ("WHEN", "时间"), ("WHO", "操作人"), ("ROLE", "权限"), ("ACTION", "操作"),
                    ("TARGET", "对象"), ("SUMMARY", "摘要"))
                for e in list.entries {
                    table.add(
                        String(e.id), String(e.at.prefix(19)), "\(e.user ?? "-") (\(e.uid))",
                        Say.word("account", e.role),
                        Say.word("audit", e.action),
                        e.target.split(separator: " ").map { Say.word("target", String($0)) }.joined(separator: " "),
                        e.summary)
                }
                table.print()
                print(Say.t("\(list.entries.count) shown", "共显示 \(list.entries.count) 条"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }
}

struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "The retention policy for parties' personal data (admin).",
        subcommands: [Run.self])

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove parties' contact details and ID numbers from disputes closed long ago, now.",
            discussion: """
                Removes the mobile, email and ID-card number of every party of a dispute closed more than \
                privacy.retention_months months ago (default 24). Names, counts, outcomes and reports stay. The \
                daemon also does this daily; each run is recorded in the audit trail.

                Examples:
                  mediationctl retention run --dry-run
                  mediationctl retention run
                """)
        @OptionGroup var global: GlobalOptions
        @Flag(name: .customLong("dry-run"), help: "Only count what would be removed.") var dryRun = false

        func run() async throws {
            switch try await global.client().call({
                try await $0.runRetention(query: .init(dryRun: dryRun))
            }) {
            case .ok(let ok):
                let report = try ok.body.json
                if global.json { return try printJSON(report) }
                let verb = report.dryRun ? "would remove" : "removed"
                print(
                    Say.t(
                        "\(verb) the contact details and ID numbers of \(report.parties) parties of \(report.disputes) "
                            + "disputes closed before \(report.cutoff.prefix(10)) (\(report.months) months)",
                        "\(report.dryRun ? "将" : "已")删除 \(report.cutoff.prefix(10)) 前（\(report.months) 个月以上）结案的 "
                            + "\(report.disputes) 件纠纷中 \(report.parties) 名当事人的联系方式和身份证号"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }
}
