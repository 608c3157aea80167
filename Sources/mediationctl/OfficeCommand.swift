import ArgumentParser
import Foundation
import MediationAPI

struct OfficeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "office",
        abstract: "Community police offices: add, list, show, update.",
        subcommands: [Add.self, List.self, Show.self, Update.self])

    /// Fields shared by add and update.
    struct Fields: ParsableArguments {
        @Option(help: "The office's name, for example 金山警务室.") var name: String?
        @Option(name: .customLong("time-zone"), help: "IANA time zone (default Asia/Shanghai).") var timeZone: String?
        @Option(help: "Street address.") var address: String?
        @Option(help: "Phone number of the office.") var phone: String?
        @Option(
            help: ArgumentHelp(
                "Working hours, for example 'mon-fri 09:00-12:00 14:00-18:00; sat 09:00-12:00'.",
                discussion: "Default Monday to Friday 09:00–12:00 and 14:00–18:00."))
        var hours: String?
        @Option(
            name: .customLong("session-minutes"), parsing: .unconditional,
            help: "Default session length in minutes (default 90).")
        var sessionMinutes: Int?
        @Option(help: "Letters before dispute numbers, e.g. JS for JS-2026-0042 (default: the id's first two).")
        var prefix: String?

        func hoursText() throws -> String? { try hours.map { try Hours.checked($0) } }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an office (admin).",
            discussion: """
                Example:
                  mediationctl office add pudong --name 浦东警务室 --prefix PD \\
                      --address '浦东大道 100 号' --phone 021-5555-0102
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Short id: 2–32 characters a–z, 0–9, '-', for example jinshan.") var id: String
        @OptionGroup var fields: Fields

        func validate() throws {
            guard fields.name != nil else { throw ValidationError("give the office's name with --name") }
        }

        func run() async throws {
            let body = Components.Schemas.OfficeCreate(
                id: id, name: fields.name ?? "", timeZone: fields.timeZone, address: fields.address,
                phone: fields.phone, hours: try fields.hoursText(), defaultSessionMinutes: fields.sessionMinutes,
                disputePrefix: fields.prefix)
            let out = try await global.client().call { try await $0.createOffice(body: .json(body)) }
            switch out {
            case .created(let c): try OfficeCommand.show(try c.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every office.",
            discussion: """
                Example:
                  mediationctl office list
                """)
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let out = try await global.client().call { try await $0.listOffices() }
            switch out {
            case .ok(let ok):
                let list = try ok.body.json
                if global.json { return try printJSON(list) }
                var table = Say.table(
                    ("ID", "编号"), ("NAME", "名称"), ("TIME ZONE", "时区"), ("PHONE", "电话"), ("SESSION", "每场时长"))
                for o in list.offices {
                    table.add(
                        o.id, o.name, o.timeZone, o.phone ?? "-", "\(o.defaultSessionMinutes)" + Say.t(" min", " 分钟"))
                }
                table.print()
                if list.offices.isEmpty {
                    print(
                        Say.t("(no offices yet: add one with ", "（还没有调解室：用 ")
                            + "'mediationctl office add jinshan --name 金山警务室'" + Say.t(")", " 添加）"))
                }
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one office.",
            discussion: """
                Example:
                  mediationctl office show jinshan
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The office id.") var id: String

        func run() async throws {
            let out = try await global.client().call { try await $0.getOffice(path: .init(office: id)) }
            switch out {
            case .ok(let ok): try OfficeCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change some fields of an office (admin).",
            discussion: """
                Example:
                  mediationctl office update jinshan --hours 'mon-fri 08:30-17:30' \\
                      --session-minutes 120
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The office id.") var id: String
        @OptionGroup var fields: Fields

        func run() async throws {
            let body = Components.Schemas.OfficeUpdate(
                name: fields.name, timeZone: fields.timeZone, address: fields.address, phone: fields.phone,
                hours: try fields.hoursText(), defaultSessionMinutes: fields.sessionMinutes,
                disputePrefix: fields.prefix)
            let out = try await global.client().call {
                try await $0.updateOffice(path: .init(office: id), body: .json(body))
            }
            switch out {
            case .ok(let ok): try OfficeCommand.show(try ok.body.json, json: global.json)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    static func show(_ o: Components.Schemas.Office, json: Bool) throws {
        if json { return try printJSON(o) }
        Say.line("id", "编号", o.id, width: 11)
        Say.line("name", "名称", o.name, width: 11)
        Say.line("time zone", "时区", o.timeZone, width: 11)
        Say.line("address", "地址", o.address ?? "-", width: 11)
        Say.line("phone", "电话", o.phone ?? "-", width: 11)
        Say.line("hours", "办公时间", o.hoursText ?? "-", width: 11)
        Say.line("session", "每场时长", "\(o.defaultSessionMinutes)" + Say.t(" min", " 分钟"), width: 11)
        Say.line("numbers", "纠纷编号", "\(o.disputePrefix ?? "-")-YYYY-NNNN", width: 11)
    }
}

/// Weekly hours typed on the command line go to the daemon as text (`hours`), read there by the one parser the
/// roster and the console use; only an empty value is caught here, because it names a flag.
enum Hours {
    static func checked(_ text: String, field: String = "--hours") throws -> String {
        // An empty value (often an unset shell variable) must not silently erase every hour.
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CLIFailure.input(
                "\(field) is empty; give hours such as 'mon 09:00-12:00'"
                    + (field == "--hours" ? ", or use --clear-hours to remove them all" : ""))
        }
        return text
    }
}
