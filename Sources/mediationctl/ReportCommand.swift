import ArgumentParser
import Foundation
import MediationAPI
import OpenAPIRuntime

/// How a report is printed: tables (default), the API's JSON, CSV, or one HTML file. The daemon lays out each form
/// (`Accept: text/plain`, `text/csv`, `text/html`); the CLI only writes what it is sent.
struct ReportFormat: ParsableArguments {
    @Flag(help: "Print CSV (UTF-8 with a BOM, for Excel) instead of tables.") var csv = false
    @Flag(help: "Print one self-contained HTML page (inline SVG charts, A4) instead of tables.") var html = false
    @Option(name: [.short, .long], help: "Write to this file instead of standard output.") var output: String?

    func validate() throws {
        if csv && html { throw ValidationError("give --csv or --html, not both") }
    }

    /// The form to ask the daemon for: its media type, which each report operation's generated type reads.
    func accept<T: AcceptableProtocol>(json: Bool) -> [AcceptHeaderContentType<T>] {
        let type = json ? "application/json" : csv ? "text/csv" : html ? "text/html" : "text/plain"
        return T(rawValue: type).map { [.init(contentType: $0)] } ?? []
    }

    /// Writes a report the daemon laid out, to the file or to standard output.
    func write(_ body: HTTPBody) async throws {
        try write(try await String(collecting: body, upTo: 64 << 20))
    }

    func write(_ text: String) throws {
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: Data(text.utf8)) else {
                throw CLIFailure(message: "cannot write \(output)", exitCode: 1)
            }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The weekly review (每周研判), outcomes and experts: as tables, --json, --csv or --html.",
        discussion: """
            Each report prints a table; --json prints the API's JSON, --csv a spreadsheet (UTF-8 with a BOM, for \
            Excel) and --html one printable page; -o FILE writes it to FILE.
            """,
        subcommands: [Weekly.self, Outcomes.self, Experts.self])

    struct Weekly: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "每周研判: open disputes by risk, sessions, outcomes, follow-ups, warnings, escalations.",
            discussion: """
                The number of days since the last escalation is shown first. Without --week: this week.

                Examples:
                  mediationctl report weekly --office jinshan --week 2026-W49
                  mediationctl report weekly --week 2026-W49 --html -o 2026-W49.html
                  mediationctl report weekly --csv -o weekly.csv
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var format: ReportFormat
        @Option(help: "Only this office.") var office: String?
        @Option(help: "ISO week such as 2026-W49 (default: this week).") var week: String?

        func run() async throws {
            let accept: [AcceptHeaderContentType<Operations.WeeklyReport.AcceptableContentType>] = format.accept(
                json: global.json)
            switch try await global.client().call({
                try await $0.weeklyReport(query: .init(week: week, office: office), headers: .init(accept: accept))
            }) {
            case .ok(let ok):
                switch ok.body {
                case .json(let report): try printJSON(report)
                case .plainText(let text), .csv(let text), .html(let text): try await format.write(text)
                }
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Outcomes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Settlement rate, days from intake to agreement, referrals and escalations.",
            discussion: """
                Examples:
                  mediationctl report outcomes --from 2026-10-01 --to 2026-12-31 --by category
                  mediationctl report outcomes --from 2026-10-01 --to 2026-12-31 --by office \\
                      --csv -o outcomes.csv
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var format: ReportFormat
        @Option(help: "First day, 2026-10-01.") var from: String
        @Option(help: "Last day, 2026-12-31.") var to: String
        @Option(help: "Group by office, category or expert.") var by: String?
        @Option(help: "Only this office.") var office: String?

        func validate() throws {
            if let by, Operations.OutcomesReport.Input.Query.ByPayload(rawValue: by.lowercased()) == nil {
                let choices = Operations.OutcomesReport.Input.Query.ByPayload.allCases.map(\.rawValue)
                throw ValidationError("--by '\(by)' is unknown; use \(choices.joined(separator: ", "))")
            }
        }

        func run() async throws {
            let group = by.flatMap { Operations.OutcomesReport.Input.Query.ByPayload(rawValue: $0.lowercased()) }
            let accept: [AcceptHeaderContentType<Operations.OutcomesReport.AcceptableContentType>] = format.accept(
                json: global.json)
            switch try await global.client().call({
                try await $0.outcomesReport(
                    query: .init(from: from, to: to, by: group, office: office), headers: .init(accept: accept))
            }) {
            case .ok(let ok):
                switch ok.body {
                case .json(let report): try printJSON(report)
                case .plainText(let text), .csv(let text), .html(let text): try await format.write(text)
                }
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Experts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sessions per expert, acceptance rate, and the spread of the load (max/mean, Gini).",
            discussion: """
                Examples:
                  mediationctl report experts --from 2026-10-01 --to 2026-12-31
                  mediationctl report experts --from 2026-10-01 --to 2026-12-31 \\
                      --html -o experts.html
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var format: ReportFormat
        @Option(help: "First day, 2026-10-01.") var from: String
        @Option(help: "Last day, 2026-12-31.") var to: String

        func run() async throws {
            let accept: [AcceptHeaderContentType<Operations.ExpertsReport.AcceptableContentType>] = format.accept(
                json: global.json)
            switch try await global.client().call({
                try await $0.expertsReport(query: .init(from: from, to: to), headers: .init(accept: accept))
            }) {
            case .ok(let ok):
                switch ok.body {
                case .json(let report): try printJSON(report)
                case .plainText(let text), .csv(let text), .html(let text): try await format.write(text)
                }
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Disputes, sessions or outcomes of a range of days as CSV for the bureau's spreadsheets.",
        discussion: """
            UTF-8 with a byte-order mark so that Excel opens Chinese text correctly; RFC 4180 quoting.
            """,
        subcommands: [Disputes.self, Sessions.self, Outcomes.self])

    struct Options: ParsableArguments {
        @Option(help: "First day, 2026-10-01.") var from: String
        @Option(help: "Last day, 2026-12-31.") var to: String
        @Option(help: "Only this office.") var office: String?
        @Flag(help: "CSV (the only form; accepted for clarity).") var csv = false
        @Option(name: [.short, .long], help: "Write to this file instead of standard output.") var output: String?
    }

    static func run(_ kind: Operations.ExportRecords.Input.Path.KindPayload, _ global: GlobalOptions, _ o: Options)
        async throws
    {
        switch try await global.client().call({
            try await $0.exportRecords(path: .init(kind: kind), query: .init(from: o.from, to: o.to, office: o.office))
        }) {
        case .ok(let ok):
            guard case .csv(let body) = ok.body else { return }
            let data = try await Data(collecting: body, upTo: 512 << 20)
            if let output = o.output {
                guard FileManager.default.createFile(atPath: output, contents: data) else {
                    throw CLIFailure(message: "cannot write \(output)", exitCode: 1)
                }
            } else {
                FileHandle.standardOutput.write(data)
            }
        case .default(let s, let p): throw apiFailure(s, p)
        }
    }

    struct Disputes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disputes opened in the range.",
            discussion: """
                Example:
                  mediationctl export disputes --from 2026-10-01 --to 2026-12-31 \\
                      --csv -o disputes.csv
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var options: Options
        func run() async throws { try await ExportCommand.run(.disputes, global, options) }
    }

    struct Sessions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sessions starting in the range.",
            discussion: """
                Example:
                  mediationctl export sessions --from 2026-12-01 --to 2026-12-31 \\
                      --office jinshan --csv -o sessions.csv
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var options: Options
        func run() async throws { try await ExportCommand.run(.sessions, global, options) }
    }

    struct Outcomes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Outcomes of sessions held in the range.",
            discussion: """
                Example:
                  mediationctl export outcomes --from 2026-10-01 --to 2026-12-31 \\
                      --csv -o outcomes.csv
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var options: Options
        func run() async throws { try await ExportCommand.run(.outcomes, global, options) }
    }
}

/// Writes a printable page the daemon laid out (an agreement, a session record) to `output`, saying so, or to
/// standard output.
func writeDocument(_ body: HTTPBody, to output: String?, what: (en: String, zh: String)) async throws {
    let html = try await String(collecting: body, upTo: 16 << 20)
    guard let output else { return FileHandle.standardOutput.write(Data(html.utf8)) }
    guard FileManager.default.createFile(atPath: output, contents: Data(html.utf8)) else {
        throw CLIFailure(message: "cannot write \(output)", exitCode: 1)
    }
    print(
        Say.t(
            "\(what.en) written to \(output); open it in a browser to print it",
            "\(what.zh)已写入 \(output)，请用浏览器打开并打印"))
}
