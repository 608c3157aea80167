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

    /// A table headed in the reader's language: `Say.table(("ID", "编号"), ("NAME", "姓名"))`.
    static func table(_ columns: (String, String)...) -> Table { Table(header: columns.map { zh ? $0.1 : $0.0 }) }

    /// `label: value` with the label in the reader's language (`en` without its colon), values aligned at `width`
    /// terminal columns.
    static func line(_ en: String, _ zh: String, _ value: String, width: Int = 13, indent: String = "") {
        print(padded(indent + t(en + ":", zh + "："), width) + value)
    }

    /// How many of a thing were listed: `3 experts` / `共 3 名专家`.
    static func count(_ n: Int, _ one: String, _ many: String, _ zh: String) -> String {
        t("\(n) \(n == 1 ? one : many)", "共 \(n) \(zh)")
    }

    /// Several codes of one group, each in the reader's words, joined as the reader lists things.
    static func words(_ group: String, _ codes: [String]) -> String {
        codes.map { word(group, $0) }.joined(separator: zh ? "、" : ", ")
    }

    /// A panel seat as the API spells it (`lawyer`, `2*community_staff`, `lawyer:property`, `retiree@上海话`), in
    /// the reader's words (`律师（物业）`); English readers get it as spelled.
    static func requirement(_ text: String) -> String {
        guard zh, let m = text.wholeMatch(of: #/([0-9]+\*)?([a-z_]+)(:([^@]+))?(@(.+))?/#) else { return text }
        let extra = [m.4.map { word("specialty", String($0).lowercased()) }, m.6.map(String.init)].compactMap { $0 }
        return (m.1.map { "\($0.dropLast())×" } ?? "") + word("role", String(m.2))
            + (extra.isEmpty ? "" : "（" + extra.joined(separator: "，") + "）")
    }

    /// The argument parser's own refusals (a missing argument, an unknown option …), which it says in English, in
    /// Chinese; the usage line and the command names stay as they are.
    static func parser(_ message: String) -> String {
        message.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let l = String(line)
            if let m = l.wholeMatch(of: #/Error: Missing expected argument '(.+)'/#) { return "错误：缺少参数 \(m.1)" }
            if let m = l.wholeMatch(of: #/Error: Unknown option '(.+)'/#) { return "错误：没有选项 \(m.1)" }
            if let m = l.wholeMatch(of: #/Error: Unexpected argument '(.+)'/#) { return "错误：多余的参数“\(m.1)”" }
            if let m = l.wholeMatch(of: #/Error: [0-9]+ unexpected arguments: (.+)/#) { return "错误：多余的参数 \(m.1)" }
            if let m = l.wholeMatch(of: #/Error: Missing value for '(.+)'/#) { return "错误：\(m.1) 缺少值" }
            if let m = l.wholeMatch(of: #/Error: The value '(.*)' is invalid for '(.+)'(.*)/#) {
                return "错误：\(m.2) 的值“\(m.1)”无效" + m.3
            }
            if let m = l.wholeMatch(of: #/Error: (.+)/#) { return "错误：\(m.1)" }
            if let m = l.wholeMatch(of: #/Usage: (.+)/#) { return "用法：\(m.1)" }
            if let m = l.wholeMatch(of: #/\s*See '(.+)' for more information\./#) { return "  说明见 '\(m.1)'。" }
            return l
        }.joined(separator: "\n")
    }

    /// The words for an API code (`word("outbox", "dead")` → 无法送达 for a Chinese reader), else the code.
    static func word(_ group: String, _ code: String) -> String {
        guard zh else { return code }
        return words.withLock { $0["\(group).\(code)"] } ?? code
    }
}
