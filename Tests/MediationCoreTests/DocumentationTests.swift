import Foundation
import Testing

/// The guides in docs/ name real things: every repository path they quote in backticks exists, every Swift type,
/// member and function they quote is in the sources, every configuration key is one the daemon reads, every
/// migration and `make` target is there. A recipe in docs/EXTENDING.md never sends the next person to a file or a
/// type that has moved or been renamed.
@Suite struct DocumentationTests {
    /// The checkout's top folder, from this file's place in it.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The guides whose Swift names are checked. STYLE.md quotes the code of other projects (Hummingbird, GRDB …),
    /// so only its paths are checked.
    static let guidesNamingOurCode = ["EXTENDING.md", "ARCHITECTURE.md", "DOMAIN.md"]

    /// Names a guide may quote that are not declared in this repository: the dependencies' types and the code
    /// the OpenAPI generator writes at build time.
    static let outsideNames: Set<String> = [
        "Components", "Operations", "APIProtocol", "DatabasePool", "DatabaseQueue", "DatabaseWriter", "Codable",
        "ServiceGroup", "AsyncParsableCommand", "ValidationError", "CommandConfiguration", "Hummingbird",
        "RouterMiddleware", "Column", "Mustache",
        // HTTP header names.
        "Origin", "Referer", "Allow",
    ]

    static func read(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// The text of a guide without its fenced blocks (a worked example may sketch code that does not exist yet).
    static func prose(_ text: String) -> String {
        var out: [Substring] = []
        var fenced = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                fenced.toggle()
                continue
            }
            if !fenced { out.append(line) }
        }
        return out.joined(separator: "\n")
    }

    /// The inline code spans of `text` (outside fenced blocks), trimmed.
    static func spans(in text: String) -> [String] {
        prose(text).split(separator: "\n", omittingEmptySubsequences: false).flatMap { line in
            line.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }
                .map { $0.element.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// The backticked repository paths in `text` (`Sources/…`, `Tests/…`, `Config/…`, `scripts/…`, `docs/…`,
    /// `systemd/…`, `Benchmarks/…`), without placeholders such as `<Noun>` or `<kind>`.
    static func paths(in text: String) -> [String] {
        let prefixes = ["Sources/", "Tests/", "Config/", "scripts/", "docs/", "systemd/", "Benchmarks/", "./scripts/"]
        var found: [String] = []
        for span in spans(in: text) {
            let quoted = span.split(separator: " ").first.map(String.init) ?? ""
            guard prefixes.contains(where: quoted.hasPrefix), !quoted.contains("<"), !quoted.contains("…"),
                !quoted.contains("{"), !quoted.contains("*")
            else { continue }
            found.append(quoted.hasPrefix("./") ? String(quoted.dropFirst(2)) : quoted)
        }
        return found
    }

    /// A quoted Swift name: `Type`, `Type.member`, `lowerCamel`, `function(label:)`, `Type(label:)`.
    struct SwiftName: Equatable {
        /// The dotted components before any argument list.
        var components: [String]
        /// The argument labels of a call form (`_` for an unlabelled one); nil for a plain name.
        var labels: [String]?
    }

    /// The Swift names quoted in `text`. Plain lowercase words (`admin`, `dead`) are words of the domain, not names,
    /// and are left alone; a name is one with a capital (`OutboxDispatcher`, `keepsQuietHours`) or a call form.
    static func swiftNames(in text: String) -> [SwiftName] {
        let identifier = "[A-Za-z_][A-Za-z0-9_]*"
        let pattern = try? NSRegularExpression(
            pattern: "^(\(identifier)(?:\\.\(identifier))*)(?:\\(((?:\(identifier):)*)\\))?$")
        var found: [SwiftName] = []
        for span in spans(in: text) {
            let range = NSRange(span.startIndex..., in: span)
            guard let match = pattern?.firstMatch(in: span, range: range),
                let dotted = Range(match.range(at: 1), in: span).map({ String(span[$0]) })
            else { continue }
            let labels = Range(match.range(at: 2), in: span).map {
                span[$0].split(separator: ":").map(String.init)
            }
            guard labels != nil || dotted.contains(where: \.isUppercase) else { continue }
            // Upper case only (`READY`, `SIGHUP`) is a constant of the platform, not one of ours.
            guard labels != nil || dotted.contains(where: \.isLowercase) else { continue }
            // A file name (`README.md`, `Package.swift`) is not a Swift name.
            let fileEndings = ["md", "swift", "yaml", "py", "sh", "mustache", "csv", "json", "css", "service", "conf"]
            if labels == nil, let ending = dotted.split(separator: ".").last, dotted.contains("."),
                fileEndings.contains(String(ending))
            {
                continue
            }
            found.append(SwiftName(components: dotted.split(separator: ".").map(String.init), labels: labels))
        }
        return found
    }

    /// The configuration keys quoted in `text` (`socket.max_connections_per_uid`, `web.listen`): lowercase words
    /// joined by dots, without a wildcard or a value.
    static func configurationKeys(in text: String) -> [String] {
        let pattern = try? NSRegularExpression(pattern: "^[a-z_]+(?:\\.[a-z_]+)+$")
        return spans(in: text).map { $0.split(separator: ":").first.map(String.init) ?? $0 }.filter { span in
            pattern?.firstMatch(in: span, range: NSRange(span.startIndex..., in: span)) != nil
                && !span.hasSuffix(".swift") && !span.hasSuffix(".md") && !span.hasSuffix(".yaml")
        }
    }

    /// Every Swift file under `folder`, read.
    static func swiftSources(under folder: String) throws -> [String] {
        let base = root.appendingPathComponent(folder)
        guard let walker = FileManager.default.enumerator(atPath: base.path) else { return [] }
        return try walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.map {
            try String(contentsOf: base.appendingPathComponent($0), encoding: .utf8)
        }
    }

    /// What the names are looked for in: the sources, the tests, the contract and the package.
    static func corpus() throws -> String {
        try
            (swiftSources(under: "Sources") + swiftSources(under: "Tests")
            + [read("Sources/MediationAPI/openapi.yaml"), read("Package.swift")]).joined(separator: "\n")
    }

    static func contains(_ text: String, _ pattern: String) -> Bool {
        text.range(of: pattern, options: .regularExpression) != nil
    }

    /// Why `name` is not in `corpus`, or nil when it is.
    static func problem(with name: SwiftName, in corpus: String) -> String? {
        let escaped = name.components.map { NSRegularExpression.escapedPattern(for: $0) }
        for (i, component) in escaped.enumerated() {
            let isType = name.components[i].first?.isUppercase == true
            // A module is a folder of Sources.
            let isModule = FileManager.default.fileExists(
                atPath: root.appendingPathComponent("Sources/" + name.components[i]).path)
            if i == 0, isType, !outsideNames.contains(name.components[i]), !isModule {
                let declared = "\\b(struct|enum|class|protocol|actor|typealias|extension)\\s+\(component)\\b"
                if !contains(corpus, declared) { return "no type \(name.components[i]) is declared" }
            } else if !contains(corpus, "\\b\(component)\\b") {
                return "\(name.components[i]) is in no source"
            }
        }
        guard let labels = name.labels, let last = name.components.last else { return nil }
        // `Type(label:)` is an initialiser of the type; `name(label:)` a function or a case.
        let callee =
            last.first?.isUppercase == true || last == "init"
            ? "init[?!]?" : "(func|case)\\s+\(NSRegularExpression.escapedPattern(for: last))"
        let first = labels.first.map { $0 == "_" ? "_\\s" : "(\($0)\\s+\\w+\\s*:|\($0)\\s*:)" } ?? "\\)"
        let call = "\(callee)\\s*(<[^>]*>)?\\(\\s*\(first)"
        guard contains(corpus, call) else { return "no \(last)(\(labels.map { $0 + ":" }.joined())) is declared" }
        for label in labels.dropFirst() where !contains(corpus, "\\b\(label)\\s*:") {
            return "\(last) has no label \(label)"
        }
        return nil
    }

    @Test func everyPathTheGuidesNameExists() throws {
        let docs = Self.root.appendingPathComponent("docs")
        let guides = try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }
        #expect(Set(guides).isSuperset(of: ["EXTENDING.md", "DOMAIN.md", "ARCHITECTURE.md"]), "\(guides)")
        var checked = 0
        for guide in guides.map({ "docs/" + $0 }) + ["README.md"] {
            for path in Self.paths(in: try Self.read(guide)) {
                checked += 1
                #expect(
                    FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(path).path),
                    "\(guide) names \(path), which is not in the repository")
            }
        }
        #expect(checked > 80, "the guides name \(checked) paths")
    }

    @Test func everySwiftNameTheGuidesQuoteIsInTheSources() throws {
        let corpus = try Self.corpus()
        var checked = 0
        for guide in Self.guidesNamingOurCode {
            for name in Self.swiftNames(in: try Self.read("docs/" + guide)) {
                checked += 1
                let problem = Self.problem(with: name, in: corpus)
                #expect(
                    problem == nil, "docs/\(guide) quotes \(name.components.joined(separator: ".")): \(problem ?? "")")
            }
        }
        #expect(checked > 80, "the guides quote \(checked) Swift names")
    }

    @Test func everyConfigurationKeyMigrationAndMakeTargetTheGuidesNameExists() throws {
        let daemon = try Self.swiftSources(under: "Sources/mediationd").joined(separator: "\n")
        let migrations = try Self.read("Sources/MediationStore/Migrations.swift")
        let makefile = try Self.read("Makefile")
        var keys = 0
        for guide in Self.guidesNamingOurCode {
            let text = try Self.read("docs/" + guide)
            for key in Self.configurationKeys(in: text) {
                keys += 1
                // The daemon reads each key by its full name, or a section's keys as "section." + name.
                let leaf = key.split(separator: ".").last.map(String.init) ?? key
                #expect(
                    daemon.contains("\"\(key)\"") || daemon.contains("\".\(leaf)\"") || daemon.contains("\"\(leaf)\""),
                    "docs/\(guide) names the key \(key), which the daemon does not read")
            }
            for span in Self.spans(in: text) where Self.contains(span, "^v[0-9]+-[a-z-]+$") {
                #expect(
                    migrations.contains("registerMigration(\"\(span)\")"),
                    "docs/\(guide) names the migration \(span), which Migrations.swift does not register")
            }
            for span in Self.spans(in: text) where span.hasPrefix("make ") {
                let target = span.dropFirst(5).split(separator: " ").first.map(String.init) ?? ""
                #expect(
                    makefile.contains("\n\(target):"), "docs/\(guide) names make \(target), which the Makefile lacks")
            }
        }
        #expect(keys > 2, "the guides name \(keys) configuration keys")
    }

    @Test func theReadmeLeadsToTheGuides() throws {
        let readme = try Self.read("README.md")
        for guide in ["docs/EXTENDING.md", "docs/DOMAIN.md", "docs/ARCHITECTURE.md", "docs/STYLE.md"] {
            #expect(readme.contains("`\(guide)`"), "README does not name \(guide)")
        }
        // The design notes live in docs/: nothing in the repository points outside it for them.
        for file in ["README.md", "Benchmarks/README.md", "Config/templates/README.md"]
            + Self.guidesNamingOurCode.map({
                "docs/" + $0
            })
        {
            #expect(!(try Self.read(file)).contains("shared/design"), "\(file) points outside the repository")
        }
    }

    @Test func theCheckerFindsWhatItShouldAndNothingElse() {
        #expect(
            Self.paths(in: "see `Sources/a.swift` and `Sources/mediationctl/<Noun>Command.swift`\n```\nSources/b\n```")
                == ["Sources/a.swift"])
        let names = Self.swiftNames(
            in: "`OutboxDispatcher`, `ChannelSet.mail`, `candidates(for:)`, `deliver(_:taken:)`, `admin`, `READY=1`, "
                + "`keepsQuietHours`, `Sources/a.swift`, `x-core-reads`, `README.md`\n```swift\nlet a = `Invented`\n```"
        )
        #expect(
            names == [
                SwiftName(components: ["OutboxDispatcher"], labels: nil),
                SwiftName(components: ["ChannelSet", "mail"], labels: nil),
                SwiftName(components: ["candidates"], labels: ["for"]),
                SwiftName(components: ["deliver"], labels: ["_", "taken"]),
                SwiftName(components: ["keepsQuietHours"], labels: nil),
            ])
        let corpus = """
            public struct ChannelSet { var mail: Int
                func candidates(for message: PreparedMessage) -> [Int] { [] } }
            func deliver(_ batch: [Int], taken: Int) {}
            enum ExpertRole { init?(parsing text: String) {} }
            """
        #expect(Self.problem(with: SwiftName(components: ["ChannelSet", "mail"], labels: nil), in: corpus) == nil)
        #expect(Self.problem(with: SwiftName(components: ["candidates"], labels: ["for"]), in: corpus) == nil)
        #expect(Self.problem(with: SwiftName(components: ["deliver"], labels: ["_", "taken"]), in: corpus) == nil)
        #expect(Self.problem(with: SwiftName(components: ["ExpertRole"], labels: ["parsing"]), in: corpus) == nil)
        #expect(Self.problem(with: SwiftName(components: ["init"], labels: ["parsing"]), in: corpus) == nil)
        #expect(Self.problem(with: SwiftName(components: ["ChannelSett"], labels: nil), in: corpus) != nil)
        #expect(Self.problem(with: SwiftName(components: ["ChannelSet", "sms"], labels: nil), in: corpus) != nil)
        #expect(Self.problem(with: SwiftName(components: ["candidates"], labels: ["to"]), in: corpus) != nil)
        #expect(Self.problem(with: SwiftName(components: ["deliver"], labels: ["batch"]), in: corpus) != nil)
        #expect(
            Self.configurationKeys(in: "`web.listen`, `webhook.personal: true`, `Package.swift`, `followups.*`")
                == ["web.listen", "webhook.personal"])
    }
}
