import Foundation
import Testing

/// Every command the product prints — in hints, errors, notices, templates, help examples and the README — parses
/// with the real mediationctl (issue 14, item 11).
@Suite(.serialized)
struct PrintedCommandsTests {
    /// mediationctl only parsing and validating a command line (its test seam), as (exit status, stderr).
    static func parse(_ arguments: [String]) throws -> Outcome {
        var environment = ProcessInfo.processInfo.environment
        environment["MEDIATIONCTL_PARSE_ONLY"] = "1"
        // A daemon is never asked: the socket named is one nobody listens on.
        environment["MEDIATION_SOCKET"] = "/nonexistent/api.sock"
        return try runProgram(Repo.ctl, arguments, environment: environment)
    }

    @Test func theDeclinedInvitationHintOfOldIsFoundAndRefused() throws {
        let finder = PrintedCommandFinder(tree: try CommandTree.load())
        // The notice as it was: the collector finds the command in it, and the real CLI refuses it.
        let old = PrintedCommandFinder.mustacheText(
            "{{#rsvp.declined}}Find a substitute with 'mediationctl session replace {{session}} --expert …'."
                + "{{/rsvp.declined}}")
        let found = finder.commands(in: old, origin: "old rsvp.mustache", line: 5)
        #expect(found.count == 1, "\(found)")
        let command = try #require(found.first)
        #expect(command.arguments == ["session", "replace", "1", "--expert", "1"], "\(command.arguments)")
        #expect(!command.isReference)
        let parsed = try Self.parse(command.arguments)
        #expect(parsed.status == 2 && parsed.stderr.contains("Unknown option '--expert'"), "\(parsed)")

        // Quoted hints, interpolations, placeholders, joined literals and prose that is not a command.
        let swift = #"""
            throw MediationError.conflict("session #\(id) is over; mark it with 'session end \(id)'")
            let hint = "add an email with 'mediationctl party update \(number) \(party) "
                + "--email ADDRESS', then retry"
            let prose = "serving mediationctl over a Unix socket; 'session 12' is a target; 'audit rows are kept'"
            let name = "see 'expert leave list' and 'mediationctl --json expert list', then 'session find'"
            """#
        let literals = SwiftLiterals.extract(swift)
        let commands = literals.flatMap { finder.commands(in: $0.text, origin: "x.swift", line: $0.line) }
        #expect(
            commands.map(\.arguments) == [
                ["session", "end", "1"], ["party", "update", "1", "1", "--email", "duty@example.org"],
                ["expert", "leave", "list"], ["--json", "expert", "list"], ["session", "find"],
            ], "\(commands)")
        #expect(commands.map(\.isReference) == [false, false, true, false, true])
        #expect(commands.map(\.origin) == ["x.swift:1", "x.swift:2", "x.swift:5", "x.swift:5", "x.swift:5"])
        // A pipe in a printed command would be a pipe when pasted.
        let piped = finder.commands(
            in: "record it: mediationctl followup record ID stable|relapsed --notes \"…\"\n", origin: "t", line: 1)
        #expect(piped.count == 1 && piped.first?.problem != nil, "\(piped)")
    }

    @Test func everyCommandTheProductPrintsParses() throws {
        let finder = PrintedCommandFinder(tree: try CommandTree.load())
        let found = try finder.collectAll()
        // The collector reaches every kind of place.
        for place in [
            "Sources/MediationStore/", "Sources/MediationServer/", "Sources/MediationCore/", "Sources/mediationctl/",
            "Sources/MediationNotify/", "Config/templates/en/rsvp.mustache", "Config/templates/zh/rsvp.mustache",
            "Config/templates/zh/followup.mustache", "Config/mediationd.yaml", "README.md", "docs/EXTENDING.md",
        ] {
            #expect(found.contains { $0.origin.hasPrefix(place) }, "no command found in \(place)")
        }
        // The declined invitation's notice names the member to replace, and that command parses (below).
        let declined = found.filter { $0.origin.hasPrefix("Config/templates/en/rsvp.mustache") }
        #expect(declined.contains { $0.arguments.starts(with: ["session", "replace", "1", "1"]) }, "\(declined)")

        var failures: [String] = []
        for command in found {
            if let problem = command.problem {
                failures.append("\(command)\n    \(problem)")
                continue
            }
            if command.isReference { continue }
            let parsed = try Self.parse(command.arguments)
            if parsed.status != 0 {
                failures.append(
                    "\(command)\n    parsed as \(command.arguments)\n    \(parsed.stderr.split(separator: "\n").first ?? "")"
                )
            }
        }
        #expect(
            failures.isEmpty,
            "\(failures.count) of \(found.count) printed commands fail:\n\(failures.joined(separator: "\n"))")
    }

    /// The README's shell blocks call mediationctl as `$ctl …`: each such line (also one shown in a comment)
    /// parses, its variables as the walkthrough sets them.
    @Test func everyCommandOfTheReadmesShellBlocksParses() throws {
        let readme = try String(contentsOf: Repo.root.appendingPathComponent("README.md"), encoding: .utf8)
        var lines: [String] = []
        for block in ReadmeBlocks.shellBlocks(readme) {
            for line in ReadmeBlocks.commandLines(block.text) {
                var command = line.trimmingCharacters(in: .whitespaces)
                // `#   $ctl outcome void 1 --reason "…"`: an example shown in a comment.
                if command.hasPrefix("#") { command = String(command.drop { $0 == "#" || $0 == " " }) }
                if command.hasPrefix("$ctl ") { lines.append(command) }
            }
        }
        #expect(lines.count > 50, "\(lines.count) commands in the README's shell blocks")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("readme-parse-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let failed = scratch.appendingPathComponent("failed").path
        let script = """
            parse() { MEDIATIONCTL_PARSE_ONLY=1 MEDIATION_SOCKET=/nonexistent/api.sock '\(Repo.ctl)' "$@" \
            2>>'\(failed)' || echo "  refused: $*" >>'\(failed)'; }
            ctl=parse
            monday=2026-12-07; sunday=2026-12-13

            """ + lines.joined(separator: "\n") + "\n"
        let run = try runProgram("/bin/bash", ["-c", script], cwd: scratch.path)
        #expect(run.status == 0, "\(run)")
        let refused = (try? String(contentsOfFile: failed, encoding: .utf8)) ?? ""
        #expect(refused.isEmpty, "README commands that do not parse:\n\(refused)")
    }
}

/// The README's fenced shell blocks.
enum ReadmeBlocks {
    struct Block {
        /// The heading of the section it is in (`## Walkthrough`).
        var section: String
        var text: String
    }

    static func shellBlocks(_ readme: String) -> [Block] {
        var blocks: [Block] = []
        var section = ""
        var current: [String]?
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if current == nil {
                if line.hasPrefix("## ") { section = line }
                if line == "```sh" { current = [] }
            } else if line == "```" {
                blocks.append(Block(section: section, text: (current ?? []).joined(separator: "\n")))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    /// The block's lines with continued ones (`\` at the end) joined.
    static func commandLines(_ text: String) -> [String] {
        var lines: [String] = []
        var pending = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasSuffix("\\") {
                pending += line.dropLast() + " "
            } else {
                lines.append(pending + line)
                pending = ""
            }
        }
        return lines
    }
}
