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
        // No script, no style attribute and nothing from elsewhere: the CSP forbids them all.
        for (key, text) in embeddedWebAssets {
            #expect(!text.contains("<script") && !text.contains("style=") && !text.contains("url("), "\(key)")
            #expect(!text.contains("href=\"http") && !text.contains("src=\"http"), "\(key)")
        }
    }
}
