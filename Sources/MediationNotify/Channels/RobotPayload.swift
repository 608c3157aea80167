import Foundation

/// The request bodies WeCom and DingTalk robots take, and what their replies mean.
enum RobotPayload {
    /// The most a WeCom robot message's `content` may hold, in UTF-8 bytes.
    static let weComContentLimit = 2048

    static func body(for kind: RobotTarget.Kind, _ message: ChatMessage) throws -> Data {
        let mentions = mobiles(message.mentionMobiles)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        switch kind {
        case .wecom where mentions.isEmpty:
            return try encoder.encode(
                WeComMarkdown(markdown: .init(content: truncated(message.markdown, toBytes: weComContentLimit))))
        case .wecom:
            return try encoder.encode(
                WeComText(
                    text: .init(
                        content: truncated(message.text, toBytes: weComContentLimit), mentioned_mobile_list: mentions)))
        case .dingtalk:
            // DingTalk highlights and notifies a mention only when the text itself contains "@mobile".
            let missing = mentions.filter { !message.markdown.contains("@" + $0) }
            let text =
                missing.isEmpty
                ? message.markdown : message.markdown + "\n\n" + missing.map { "@" + $0 }.joined(separator: " ")
            return try encoder.encode(
                DingTalkMarkdown(
                    markdown: .init(title: message.title, text: text), at: .init(atMobiles: mentions, isAtAll: false)))
        }
    }

    /// What a robot's HTTP 200 reply says: `errcode` 0 is sent; rate limits and "system busy" are transient.
    static func outcome(of reply: String, kind: RobotTarget.Kind) -> DeliveryResult {
        let channel = kind.rawValue
        guard let decoded = try? JSONDecoder().decode(Reply.self, from: Data(reply.utf8)), let code = decoded.errcode
        else {
            return .permanent("\(channel): unexpected reply: \(reply.prefix(200))")
        }
        let detail = "\(channel): errcode \(code): \(decoded.errmsg ?? "")"
        switch (kind, code) {
        case (_, 0):
            return .sent(detail: detail)
        // 45009: api freq out of limit; 130101: send too fast; -1: system busy (both apps use it).
        case (.wecom, 45009), (.dingtalk, 130101), (_, -1):
            return .transient(detail)
        default:
            // For example DingTalk 310000 (bad signature, missing keyword, IP not allowed) or WeCom 93000 (bad key).
            return .permanent(detail)
        }
    }

    /// `text` when it fits in `limit` UTF-8 bytes; otherwise its longest prefix of whole characters that fits
    /// together with a closing "…".
    static func truncated(_ text: String, toBytes limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        let ellipsis = "…"
        let budget = limit - ellipsis.utf8.count
        var bytes = 0
        var end = text.startIndex
        while end < text.endIndex {
            let next = text.index(after: end)
            let size = text.utf8.distance(from: end, to: next)
            guard bytes + size <= budget else { break }
            bytes += size
            end = next
        }
        return String(text[..<end]) + ellipsis
    }

    /// Mentions without blanks or repeats, in their order.
    static func mobiles(_ list: [String]) -> [String] {
        var seen = Set<String>()
        return list.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    // MARK: - Wire shapes

    struct WeComMarkdown: Encodable {
        struct Markdown: Encodable { var content: String }
        var msgtype = "markdown"
        var markdown: Markdown
    }

    struct WeComText: Encodable {
        struct Text: Encodable {
            var content: String
            var mentioned_mobile_list: [String]
        }
        var msgtype = "text"
        var text: Text
    }

    struct DingTalkMarkdown: Encodable {
        struct Markdown: Encodable {
            var title: String
            var text: String
        }
        struct At: Encodable {
            var atMobiles: [String]
            var isAtAll: Bool
        }
        var msgtype = "markdown"
        var markdown: Markdown
        var at: At
    }

    struct Reply: Decodable {
        var errcode: Int?
        var errmsg: String?
    }
}
