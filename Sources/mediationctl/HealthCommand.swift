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
            let uptime = Int(h.uptimeSeconds)
            print("status:    \(h.status.rawValue)")
            print("version:   \(h.version)")
            print("uptime:    \(uptime / 3600)h \(uptime % 3600 / 60)m \(uptime % 60)s")
            print("schema:    \(h.schemaVersion)")
            print("database:  \(h.databasePath)")
            print("socket:    \(client.socketPath)")
            print(
                "you:       uid \(h.caller.uid)\(h.caller.user.map { " (\($0))" } ?? ""), role \(h.caller.role.rawValue)"
            )
        case .default(let status, let problem):
            throw apiFailure(status, problem)
        }
    }
}
