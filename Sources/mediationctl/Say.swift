import Foundation
import MediationAPI
import Synchronization

/// The reader's language for what mediationctl prints itself: Chinese when the locale is (`LANG=zh_CN.UTF-8`), the
/// same test that asks the daemon for Chinese refusals and reasons (`ReaderLanguage`). The words for the API's codes
/// (statuses, kinds, roles) are not kept here: the daemon answers them from Core's one catalogue (`GET /v1/words`),
/// asked once by a command that shows them to a Chinese reader.
enum Say {
    static let zh = ReaderLanguage.tag != nil
    private static let words = Mutex<[String: String]>([:])

    /// `en` or `zh`, as the reader reads.
    static func t(_ en: String, _ zh: String) -> String { Self.zh ? zh : en }

    /// Asks the daemon for its words once, for a Chinese reader (nothing to ask for an English one: the codes are
    /// the English words). A daemon that cannot answer leaves the codes as they are.
    static func load(_ client: Client) async {
        guard zh, words.withLock({ $0.isEmpty }) else { return }
        guard case .ok(let ok)? = try? await client.getWords(), let list = try? ok.body.json else { return }
        words.withLock { $0 = list.words.additionalProperties }
    }

    /// The words for an API code (`word("outbox", "dead")` → 无法送达 for a Chinese reader), else the code.
    static func word(_ group: String, _ code: String) -> String {
        guard zh else { return code }
        return words.withLock { $0["\(group).\(code)"] } ?? code
    }
}
