import ArgumentParser
import Foundation

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show whether mediationd is serving, its version and uptime, and who you are to it.",
        discussion: """
            Example:
              mediationctl health
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let client = try global.client()
        let output = try await client.call { try await $0.getHealth() }
        switch output {
        case .ok(let ok):
            let h = try ok.body.json
            if global.json { return try printJSON(h) }
            Say.line("status", "状态", h.status == .ok ? Say.t("ok", "正常") : h.status.rawValue, width: 13)
            Say.line("version", "版本", h.version, width: 13)
            Say.line("uptime", "已运行", duration(h.uptimeSeconds), width: 13)
            Say.line("schema", "数据库版本", String(h.schemaVersion), width: 13)
            Say.line("database", "数据库", h.databasePath, width: 13)
            Say.line("socket", "套接字", client.socketPath, width: 13)
            Say.line(
                "you", "当前用户",
                "uid \(h.caller.uid)\(h.caller.user.map { " (\($0))" } ?? "")"
                    + Say.t(", role ", "，权限 ") + Say.word("account", h.caller.role.rawValue), width: 13)
        case .default(let status, let problem):
            throw apiFailure(status, problem)
        }
    }
}
