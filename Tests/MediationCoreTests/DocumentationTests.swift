import Foundation
import Testing

/// The guides in docs/ name real files: every repository path they quote in backticks exists, so a recipe in
/// docs/EXTENDING.md never sends the next person to a file that has moved.
@Suite struct DocumentationTests {
    /// The checkout's top folder, from this file's place in it.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The backticked repository paths in `text` (`Sources/…`, `Tests/…`, `Config/…`, `scripts/…`, `docs/…`,
    /// `systemd/…`), without placeholders such as `<Noun>` or `<kind>`.
    static func paths(in text: String) -> [String] {
        let prefixes = ["Sources/", "Tests/", "Config/", "scripts/", "docs/", "systemd/", "./scripts/"]
        var found: [String] = []
        for piece in text.components(separatedBy: "`").enumerated() where piece.offset % 2 == 1 {
            let quoted = piece.element.split(separator: " ").first.map(String.init) ?? ""
            guard prefixes.contains(where: quoted.hasPrefix), !quoted.contains("<"), !quoted.contains("…"), !quoted.contains("{") else {
                continue
            }
            found.append(quoted.hasPrefix("./") ? String(quoted.dropFirst(2)) : quoted)
        }
        return found
    }

    @Test func everyPathTheGuidesNameExists() throws {
        let docs = Self.root.appendingPathComponent("docs")
        let guides = try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }
        #expect(Set(guides).isSuperset(of: ["EXTENDING.md", "DOMAIN.md", "ARCHITECTURE.md"]), "\(guides)")
        var checked = 0
        for guide in guides + ["../README.md"] {
            let text = try String(contentsOf: docs.appendingPathComponent(guide), encoding: .utf8)
            for path in Self.paths(in: text) {
                checked += 1
                #expect(
                    FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(path).path),
                    "\(guide) names \(path), which is not in the repository")
            }
        }
        #expect(checked > 60, "the guides name \(checked) paths")
    }

    @Test func theReadmeLeadsToTheGuides() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        for guide in ["docs/EXTENDING.md", "docs/DOMAIN.md", "docs/ARCHITECTURE.md"] {
            #expect(readme.contains("`\(guide)`"), "README does not name \(guide)")
        }
        #expect(!readme.contains("shared/design"), "the design notes are in docs/, not outside the repository")
    }

    @Test func placeholdersAreNotTakenForPaths() {
        #expect(
            Self.paths(in: "see `Sources/a.swift` and `Sources/mediationctl/<Noun>Command.swift`") == [
                "Sources/a.swift"
            ])
    }
}
