import ArgumentParser
import Foundation

/// Runs the command and maps failures to exit codes: 2 for usage and input errors, 1 for everything else.
@main
enum Main {
    static func main() async {
        // `mediationctl … | head` must end quietly, not crash on a closed pipe.
        signal(SIGPIPE, SIG_IGN)
        // A file-size limit (ulimit -f) must end a backup with a message, not kill the process.
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try MediationCtl.parseAsRoot(hoistGlobalOptions(Array(CommandLine.arguments.dropFirst())))
            // Test seam: with MEDIATIONCTL_PARSE_ONLY=1 a command line is parsed and validated, and nothing runs. The
            // end-to-end tests check this way that every command the product prints parses, without a daemon.
            if ProcessInfo.processInfo.environment["MEDIATIONCTL_PARSE_ONLY"] == "1" { exit(0) }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CLIFailure {
            FileHandle.standardError.write(Data("mediationctl: \(failure.message)\n".utf8))
            exit(failure.exitCode)
        } catch {
            if MediationCtl.exitCode(for: error) == .validationFailure {
                let message = MediationCtl.fullMessage(for: error)
                FileHandle.standardError.write(Data(((Say.zh ? Say.parser(message) : message) + "\n").utf8))
                exit(2)
            }
            MediationCtl.exit(withError: error)
        }
    }
}

/// `mediationctl [--socket PATH] [--json] NOUN VERB …`: global options may come before the noun; every verb
/// declares them, so they are moved behind the verb for the parser.
func hoistGlobalOptions(_ arguments: [String]) -> [String] {
    var leading: [String] = []
    var rest = arguments[...]
    while let first = rest.first, first.hasPrefix("--") {
        if first == "--json" || first.hasPrefix("--socket=") {
            leading.append(first)
            rest = rest.dropFirst()
        } else if first == "--socket", rest.count >= 2 {
            leading += rest.prefix(2)
            rest = rest.dropFirst(2)
        } else {
            break
        }
    }
    // With no noun left (for example `mediationctl --json`), leave them where they were.
    guard !leading.isEmpty, !rest.isEmpty, !(rest.first ?? "").hasPrefix("-") else { return arguments }
    if let separator = rest.firstIndex(of: "--") {
        return Array(rest[..<separator]) + leading + Array(rest[separator...])
    }
    return Array(rest) + leading
}

struct MediationCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mediationctl",
        abstract:
            "Administer mediationd: offices, experts, disputes, sessions, outcomes, follow-ups, escalations and reports.",
        discussion: """
            Talks to mediationd over its Unix socket. The socket is --socket, else $MEDIATION_SOCKET,
            else ./var/api.sock if it exists, else /run/mediationd/api.sock.
            Exit status: 0 on success, 2 for usage and input errors, 1 for everything else.
            """,
        version: "0.1.0",
        subcommands: [
            Health.self, OfficeCommand.self, ExpertCommand.self, DisputeCommand.self, PartyCommand.self,
            ConflictCommand.self, PolicyCommand.self, SessionCommand.self, OutboxCommand.self, ChannelCommand.self,
            OutcomeCommand.self, FollowUpCommand.self, EscalationCommand.self, WarningCommand.self,
            ReportCommand.self, ExportCommand.self, Status.self, Backup.self, AuditCommand.self, RetentionCommand.self,
            UserCommand.self,
        ])
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Path of mediationd's Unix socket.")
    var socket: String?

    @Flag(name: .long, help: "Print the API's JSON instead of a table.")
    var json = false

    /// The socket to use, by the documented order.
    var socketPath: String {
        if let socket, !socket.isEmpty { return socket }
        if let env = ProcessInfo.processInfo.environment["MEDIATION_SOCKET"], !env.isEmpty { return env }
        if FileManager.default.fileExists(atPath: "./var/api.sock") { return "./var/api.sock" }
        return "/run/mediationd/api.sock"
    }

    func client() throws -> APIClient { try APIClient(socketPath: socketPath) }
}

/// A failure the CLI reports in one line.
struct CLIFailure: Error {
    var message: String
    var exitCode: Int32
    static func input(_ message: String) -> CLIFailure { CLIFailure(message: message, exitCode: 2) }
}
