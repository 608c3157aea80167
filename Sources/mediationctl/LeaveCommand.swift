import ArgumentParser
import Foundation
import MediationAPI

/// Time off and extra availability share their verbs; `Kind` picks the API calls.
enum SpanKind {
    case leave, extra
}

/// Shared verbs for dated spans.
enum SpanVerbs {
    static func add(_ kind: SpanKind, _ global: GlobalOptions, expert: String, from: String, to: String, note: String?)
        async throws
    {
        let body = Components.Schemas.SpanCreate(from: from, to: to, note: note)
        let client = try global.client()
        let span: Components.Schemas.Span
        switch kind {
        case .leave:
            switch try await client.call({ try await $0.addTimeOff(path: .init(expert: expert), body: .json(body)) }) {
            case .created(let c): span = try c.body.json
            case .default(let s, let p): throw apiFailure(s, p)
            }
        case .extra:
            switch try await client.call({
                try await $0.addExtraAvailability(path: .init(expert: expert), body: .json(body))
            }) {
            case .created(let c): span = try c.body.json
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
        if global.json { return try printJSON(span) }
        print("#\(span.id): \(span.start) → \(span.end)\(span.note.map { "  (\($0))" } ?? "")")
        printWarnings(span.warnings)
    }

    static func list(_ kind: SpanKind, _ global: GlobalOptions, expert: String, from: String?, to: String?) async throws
    {
        let client = try global.client()
        let list: Components.Schemas.SpanList
        switch kind {
        case .leave:
            switch try await client.call({
                try await $0.listTimeOff(path: .init(expert: expert), query: .init(from: from, to: to))
            }) {
            case .ok(let ok): list = try ok.body.json
            case .default(let s, let p): throw apiFailure(s, p)
            }
        case .extra:
            switch try await client.call({
                try await $0.listExtraAvailability(path: .init(expert: expert), query: .init(from: from, to: to))
            }) {
            case .ok(let ok): list = try ok.body.json
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
        if global.json { return try printJSON(list) }
        var table = Say.table(("ID", "编号"), ("FROM", "开始"), ("TO", "结束"), ("REASON", "原因"))
        for s in list.spans { table.add(String(s.id), s.start, s.end, s.note ?? "-") }
        if list.spans.isEmpty { print(Say.t("(none)", "（无）")) } else { table.print() }
    }

    static func remove(_ kind: SpanKind, _ global: GlobalOptions, expert: String, id: Int64) async throws {
        let client = try global.client()
        switch kind {
        case .leave:
            switch try await client.call({ try await $0.removeTimeOff(path: .init(expert: expert, span: id)) }) {
            case .noContent: break
            case .default(let s, let p): throw apiFailure(s, p)
            }
        case .extra:
            switch try await client.call({ try await $0.removeExtraAvailability(path: .init(expert: expert, span: id)) }
            ) {
            case .noContent: break
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
        if !global.json { print(Say.t("removed #\(id)", "已删除 #\(id)")) } else { print("{}") }
    }
}

extension ExpertCommand {
    struct Leave: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time off: put an expert on leave, list leave, cancel a leave.",
            subcommands: [LeaveAdd.self, LeaveList.self, LeaveRemove.self], defaultSubcommand: LeaveAdd.self)
    }

    struct LeaveAdd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Put an expert on leave (staff).",
            discussion: """
                A date alone in --to means the end of that day. Leave over a session the expert sits on is taken, \
                and the answer names the session with the command that replaces the expert.

                Examples:
                  mediationctl expert leave add 陈志远 --from 2026-12-28 --to 2026-12-30 \\
                      --reason 出差
                  mediationctl expert leave add 高淑芬 --from '2026-12-09 13:00' \\
                      --to '2026-12-09 17:00'
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Id, mobile, email or full name.") var expert: String
        @Option(help: "First day or time of the leave.") var from: String
        @Option(help: "Last day, or the time the leave ends.") var to: String
        @Option(help: "Why (kept with the leave).") var reason: String?

        func run() async throws {
            try await SpanVerbs.add(.leave, global, expert: expert, from: from, to: to, note: reason)
        }
    }

    struct LeaveList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List an expert's leave.",
            discussion: """
                Example:
                  mediationctl expert leave list 陈志远 --from 2026-12-01
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Id, mobile, email or full name.") var expert: String
        @Option(help: "Only leave that ends after this.") var from: String?
        @Option(help: "Only leave that starts before this.") var to: String?

        func run() async throws { try await SpanVerbs.list(.leave, global, expert: expert, from: from, to: to) }
    }

    struct LeaveRemove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove", abstract: "Cancel a leave (staff).",
            discussion: """
                Example:
                  mediationctl expert leave remove 陈志远 1
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Id, mobile, email or full name.") var expert: String
        @Argument(help: "The leave's id, as 'expert leave list' shows it.") var id: Int64

        func run() async throws { try await SpanVerbs.remove(.leave, global, expert: expert, id: id) }
    }

    struct Extra: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Extra availability: dated spans when an expert is free beyond the weekly hours.",
            subcommands: [ExtraAdd.self, ExtraList.self, ExtraRemove.self])
    }

    struct ExtraAdd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Add extra availability (staff).",
            discussion: """
                Example:
                  mediationctl expert extra add 陈志远 --from '2026-12-19 09:00' \\
                      --to '2026-12-19 12:00' --reason 周六加班
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Id, mobile, email or full name.") var expert: String
        @Option(help: "Start.") var from: String
        @Option(help: "End.") var to: String
        // --reason as for leave; --note, its first name, still works for old scripts.
        @Option(
            name: [.customLong("reason"), .customLong("note")], help: "Why (kept with the span); --note is the same.")
        var reason: String?

        func run() async throws {
            try await SpanVerbs.add(.extra, global, expert: expert, from: from, to: to, note: reason)
        }
    }

    struct ExtraList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List extra availability.",
            discussion: """
                Example:
                  mediationctl expert extra list 陈志远
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Id, mobile, email or full name.") var expert: String
        @Option(help: "Only spans that end after this.") var from: String?
        @Option(help: "Only spans that start before this.") var to: String?

        func run() async throws { try await SpanVerbs.list(.extra, global, expert: expert, from: from, to: to) }
    }

    struct ExtraRemove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove", abstract: "Remove extra availability (staff).",
            discussion: """
                Example:
                  mediationctl expert extra remove 陈志远 1
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Id, mobile, email or full name.") var expert: String
        @Argument(help: "The span's id.") var id: Int64

        func run() async throws { try await SpanVerbs.remove(.extra, global, expert: expert, id: id) }
    }
}
