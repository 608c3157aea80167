import Foundation
import Testing

@testable import MediationWeb

/// The pages built into the binary are Config/web as it is: scripts/embed-templates.sh was run after every change.
@Suite struct EmbeddedWebAssetsTests {
    @Test func theEmbeddedPagesAreConfigWeb() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Config/web")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        var keys: [String] = []
        for file in files {
            let key = file.hasSuffix(".mustache") ? String(file.dropLast(".mustache".count)) : file
            keys.append(key)
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(embeddedWebAssets[key] == text, "run scripts/embed-templates.sh: \(file)")
        }
        #expect(keys.sorted() == embeddedWebAssets.keys.sorted())
        // No inline script, no style attribute and nothing from elsewhere: the CSP forbids them all. The one script
        // is the daemon's own file, on the one page that needs it (reading a chosen roster file).
        for (key, text) in embeddedWebAssets {
            let scripts = text.components(separatedBy: "<script").count - 1
            let own = text.components(separatedBy: "<script src=\"/static/roster.js\"></script>").count - 1
            #expect(scripts == own && (own == 0 || key == "roster"), "\(key)")
            #expect(!text.contains("style=") && !text.contains("url("), "\(key)")
            #expect(!text.contains("href=\"http") && !text.contains("src=\"http"), "\(key)")
        }
    }
}
