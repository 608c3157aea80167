import Foundation
import Testing

/// The real mediationctl's commands, read from `mediationctl --experimental-dump-help`.
struct CommandTree {
    /// A command: its name, abstract, discussion and subcommands.
    final class Node: @unchecked Sendable {
        let name: String
        let discussion: String
        let children: [Node]
        init(name: String, discussion: String, children: [Node]) {
            self.name = name
            self.discussion = discussion
            self.children = children
        }
        func child(_ name: String) -> Node? { children.first { $0.name == name } }
    }

    let root: Node

    static func load() throws -> CommandTree {
        let dump = try runProgram(Repo.ctl, ["--experimental-dump-help"])
        guard dump.status == 0,
            let object = try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any],
            let command = object["command"] as? [String: Any]
        else { throw HarnessError("mediationctl --experimental-dump-help failed: \(dump)") }
        func node(_ json: [String: Any]) -> Node {
            let subcommands = (json["subcommands"] as? [[String: Any]] ?? []).filter {
                ($0["shouldDisplay"] as? Bool ?? true) && ($0["commandName"] as? String) != "help"
            }
            return Node(
                name: json["commandName"] as? String ?? "", discussion: json["discussion"] as? String ?? "",
                children: subcommands.map(node))
        }
        return CommandTree(root: node(command))
    }

    /// The nouns: the root's subcommands (`session`, `expert`, `health` …).
    var nouns: Set<String> { Set(root.children.map(\.name)) }

    /// The node at `path` (`["expert", "leave", "add"]`), if the CLI has it.
    func node(_ path: [String]) -> Node? {
        var node = root
        for name in path {
            guard let next = node.child(name) else { return nil }
            node = next
        }
        return node
    }

    /// Every command that runs something (no subcommands), with its path.
    var leaves: [(path: [String], node: Node)] {
        var found: [(path: [String], node: Node)] = []
        func walk(_ node: Node, _ path: [String]) {
            if node.children.isEmpty { return found.append((path, node)) }
            for child in node.children { walk(child, path + [child.name]) }
        }
        walk(root, [])
        return found
    }
}

/// A command the product prints somewhere, as found in its source.
struct PrintedCommand: CustomStringConvertible {
    /// Where it was found: `Sources/MediationStore/AppDatabase+Sessions.swift:157`.
    var origin: String
    /// As printed, after `mediationctl` (placeholders as written).
    var text: String
    /// The command line given to mediationctl, placeholders replaced by sample values.
    var arguments: [String]
    /// A command named, not given to run (`'session find'`, `'expert leave list'`): it must exist.
    var isReference: Bool
    /// Why it cannot be pasted into a shell as printed, if it cannot.
    var problem: String?

    var description: String { "\(origin): mediationctl \(text)" }
}

/// Finds the commands the product prints: `mediationctl NOUN VERB …` anywhere, and `'NOUN VERB …'` in quotes, in
/// Swift string literals, notice templates, the configuration's comments and the README.
///
/// Placeholders become sample values: `…`, words in capitals (`SESSION`, `EXPERT`, `ID`, `ADDRESS`), Swift
/// interpolations `\(…)` and Mustache values `{{…}}`. A command that is only a name (`'session find'`) must exist;
/// any other must parse with the real mediationctl.
struct PrintedCommandFinder {
    let tree: CommandTree
    /// What stands for an interpolation (`\(…)`, `{{…}}`) in a text.
    static let hole: Character = "\u{E000}"

    /// The sample value for a placeholder: what a person would type there.
    static func sample(_ placeholder: String) -> String {
        switch placeholder {
        case "EXPERT", "MEMBER": "陈志远"
        case "DISPUTE": "JS-2026-0001"
        case "DATE": "2026-12-07"
        case "TIME": "2026-12-07 14:00"
        case "ADDRESS": "duty@example.org"
        case "RESULT": "agreement"
        case "LEVEL": "high"
        case "FILE", "PATH": "backup.sqlite"
        case "WHY", "TEXT", "NAME", "WHOM": "说明"
        default: "1"
        }
    }

    // MARK: Where commands are printed

    /// Every printed command of the repository: Sources/**/*.swift (not the generated copies of the templates and
    /// the API document, whose sources are scanned or are not printed by the product), Config/templates/**/*.mustache,
    /// Config/mediationd.yaml, README.md and the guides in docs/.
    func collectAll() throws -> [PrintedCommand] {
        var found: [PrintedCommand] = []
        let root = Repo.root.path
        let generated: Set<String> = ["OpenAPIDocument.swift", "EmbeddedTemplates.swift"]
        for file in try files(under: "Sources", ending: ".swift")
        where !generated.contains((file as NSString).lastPathComponent) {
            let source = try String(contentsOfFile: "\(root)/\(file)", encoding: .utf8)
            for literal in SwiftLiterals.extract(source) {
                found += commands(in: literal.text, origin: file, line: literal.line)
            }
        }
        for file in try files(under: "Config/templates", ending: ".mustache") {
            found += commands(
                in: Self.mustacheText(try String(contentsOfFile: "\(root)/\(file)", encoding: .utf8)), origin: file,
                line: 1)
        }
        let guides = try files(under: "docs", ending: ".md")
        for file in ["Config/mediationd.yaml", "README.md"] + guides {
            found += commands(in: try String(contentsOfFile: "\(root)/\(file)", encoding: .utf8), origin: file, line: 1)
        }
        return found
    }

    func files(under folder: String, ending suffix: String) throws -> [String] {
        let base = Repo.root.appendingPathComponent(folder).path
        guard let walker = FileManager.default.enumerator(atPath: base) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(suffix) }.sorted().map { "\(folder)/\($0)" }
    }

    /// A template's text with its sections' tags removed and its values as holes.
    static func mustacheText(_ template: String) -> String {
        var text = ""
        var rest = template[...]
        while let open = rest.range(of: "{{") {
            text += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            let tag = rest[open.upperBound..<close.lowerBound]
            var after = close.upperBound
            if tag.hasPrefix("{"), rest[after...].hasPrefix("}") { after = rest.index(after: after) }
            if let first = tag.first, !"#/^!%>".contains(first) { text.append(hole) }
            rest = rest[after...]
        }
        return text + rest
    }

    // MARK: Finding commands in a text

    /// The commands printed in `text`, which starts on line `line` of `origin`.
    func commands(in text: String, origin: String, line: Int) -> [PrintedCommand] {
        let chars = Array(text)
        var found: [PrintedCommand] = []
        var p = 0
        let marker = Array("mediationctl")
        func isWordCharacter(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || "_-./$".contains(c)) }
        func lineOf(_ index: Int) -> Int { line + chars[..<index].filter { $0 == "\n" }.count }
        while p < chars.count {
            let before: Character? = p > 0 ? chars[p - 1] : nil
            if chars[p] == "m", p + marker.count < chars.count, Array(chars[p..<(p + marker.count)]) == marker,
                chars[p + marker.count] == " ", !(before.map(isWordCharacter) ?? false)
            {
                let quote = before.flatMap { "'`\"".contains($0) ? $0 : nil }
                let (tokens, end) = Self.tokens(chars, from: p + marker.count + 1, closing: quote)
                if let command = command(tokens, explicit: true, quoted: quote != nil) {
                    found.append(finish(command, chars, p + marker.count + 1, end, origin: "\(origin):\(lineOf(p))"))
                }
                p = max(end, p + 1)
                continue
            }
            if chars[p] == "'", !(before.map { $0.isLetter || $0.isNumber } ?? false) {
                let (tokens, end) = Self.tokens(chars, from: p + 1, closing: "'")
                if let command = command(tokens, explicit: false, quoted: true) {
                    found.append(finish(command, chars, p + 1, end, origin: "\(origin):\(lineOf(p))"))
                    p = max(end, p + 1)
                    continue
                }
            }
            p += 1
        }
        return found
    }

    /// The command in `tokens` (after `mediationctl`, when `explicit`), or nil when they are not one.
    private func command(_ tokens: [Token], explicit: Bool, quoted: Bool) -> [Token]? {
        var rest = tokens[...]
        // Global options before the noun.
        while let first = rest.first, first.text.hasPrefix("--") {
            if first.text == "--json" || first.text.hasPrefix("--socket=") {
                rest = rest.dropFirst()
            } else if first.text == "--socket" {
                rest = rest.dropFirst(2)
            } else {
                break
            }
        }
        guard let noun = rest.first?.text else { return nil }
        guard let node = tree.node([noun]) else {
            // `'mediationctl …'` in quotes is a command whatever follows; unquoted, the word may be prose.
            return explicit && quoted && !tokens.isEmpty ? tokens : nil
        }
        if !explicit && !node.children.isEmpty {
            // `'session 12'` names a session, `'audit rows …'` is prose: a command needs its verb.
            guard let verb = rest.dropFirst().first?.text, node.child(verb) != nil else { return nil }
        }
        return tokens
    }

    private func finish(_ tokens: [Token], _ chars: [Character], _ start: Int, _ end: Int, origin: String)
        -> PrintedCommand
    {
        // Up to where the command ends, without the quote that closes it or the sentence's punctuation.
        var last = min(max(end, start), chars.count)
        while last > start, "'`\",.;:)，。；：）".contains(chars[last - 1]) && tokens.last?.quoted != true { last -= 1 }
        let shown = String(chars[start..<last]).replacingOccurrences(
            of: String(Self.hole), with: "\\(…)")
        var problem: String?
        if let bad = tokens.first(where: \.shellHazard) {
            problem = "'\(bad.text)' would be read by a shell (a pipe, a redirection, a list) when pasted"
        }
        let words = tokens.map(\.text)
        let isReference = tree.node(words) != nil && tokens.allSatisfy { !$0.quoted }
        var arguments: [String] = []
        for (i, token) in tokens.enumerated() {
            arguments.append(
                Self.substitute(token.text, after: i > 0 ? tokens[i - 1].text : nil))
        }
        return PrintedCommand(
            origin: origin, text: shown.trimmingCharacters(in: .whitespacesAndNewlines), arguments: arguments,
            isReference: isReference, problem: problem)
    }

    /// A token with its placeholders replaced by sample values.
    static func substitute(_ token: String, after previous: String?) -> String {
        if ["…", "……", "...", "…。"].contains(token) { return sample("") }
        if token.range(of: "^[A-Z]+(_[A-Z]+)*$", options: .regularExpression) != nil { return sample(token) }
        // `$(date +%F)` is the shell's to fill in.
        return token.replacingOccurrences(of: String(hole), with: sample("")).replacingOccurrences(
            of: #"\$\([^)]*\)"#, with: sample(""), options: .regularExpression)
    }

    // MARK: Tokens

    struct Token {
        var text: String
        /// Written in quotes (so not a command's name).
        var quoted = false
        /// An unquoted `|`, `;`, `&`, `<`, `>` or `` ` ``: a shell would take it as an operator.
        var shellHazard = false
    }

    /// Splits a command into words as a shell would (quotes, `\` at the end of a line), from `start` until the
    /// `closing` quote; without one, until the end of the line or a word that ends a sentence (`list,` `list.`).
    /// Returns the words and where the command ends.
    static func tokens(_ chars: [Character], from start: Int, closing: Character?) -> ([Token], Int) {
        var tokens: [Token] = []
        var current: Token?
        var inner: Character?
        var i = start
        var stop = false
        func finishToken() {
            guard var token = current else { return }
            current = nil
            if closing == nil, !token.quoted, let last = token.text.last, ",;:.)，。；：）".contains(last) {
                token.text.removeLast()
                stop = true
            }
            if !token.text.isEmpty || token.quoted { tokens.append(token) }
        }
        while i < chars.count, !stop {
            let c = chars[i]
            if let q = inner {
                if c == q { inner = nil } else if c == "\n" && closing == nil { break } else { current?.text.append(c) }
                i += 1
                continue
            }
            if let closing, c == closing {
                finishToken()
                return (withoutShellTail(tokens), i + 1)
            }
            if c == "\\", i + 1 < chars.count, chars[i + 1] == "\n" {
                finishToken()
                i += 2
                continue
            }
            if c == "\n" {
                // A quoted command may wrap in prose; a blank line ends it.
                if closing == nil || (i + 1 < chars.count && chars[i + 1] == "\n") { break }
                finishToken()
                i += 1
                continue
            }
            if c == " " || c == "\t" {
                finishToken()
                i += 1
                continue
            }
            if current == nil && closing == nil && (c == "(" || c == "（") { break }
            if (c == "\"" || c == "'") && c != closing {
                if current == nil { current = Token(text: "") }
                current?.quoted = true
                inner = c
                i += 1
                continue
            }
            if current == nil { current = Token(text: "") }
            if c == "$", i + 1 < chars.count, chars[i + 1] == "(" {
                // `$(date +%F)`: a command substitution is one piece of the word, spaces and all.
                current?.text.append(c)
                i += 1
                var depth = 0
                repeat {
                    if chars[i] == "(" { depth += 1 }
                    if chars[i] == ")" { depth -= 1 }
                    current?.text.append(chars[i])
                    i += 1
                } while i < chars.count && depth > 0 && chars[i] != "\n"
                continue
            }
            if "|;&<>`".contains(c) { current?.shellHazard = true }
            current?.text.append(c)
            i += 1
        }
        finishToken()
        // Without its closing quote, a quoted text is not a command.
        if closing != nil { return ([], i) }
        return (withoutShellTail(tokens), i)
    }

    /// A word that is only a shell operator (`| grep`, `> file`) ends the command: what follows is the shell's.
    static func withoutShellTail(_ tokens: [Token]) -> [Token] {
        guard let index = tokens.firstIndex(where: { $0.shellHazard && $0.text.allSatisfy { "|;&<>`".contains($0) } })
        else { return tokens }
        return Array(tokens[..<index])
    }
}

/// The string literals of a Swift file, adjacent ones joined where `+` connects them, with each interpolation as
/// `PrintedCommandFinder.hole`.
enum SwiftLiterals {
    struct Literal {
        var line: Int
        var text: String
    }

    static func extract(_ source: String) -> [Literal] {
        let s = Array(source.unicodeScalars)
        var literals: [Literal] = []
        var i = 0
        var line = 1
        var joinNext = false
        func at(_ k: Int) -> Unicode.Scalar? { k < s.count ? s[k] : nil }
        while i < s.count {
            let c = s[i]
            if c == "\n" {
                line += 1
                i += 1
                continue
            }
            if c == "/", at(i + 1) == "/" {
                while i < s.count, s[i] != "\n" { i += 1 }
                continue
            }
            if c == "/", at(i + 1) == "*" {
                var depth = 0
                repeat {
                    if s[i] == "/", at(i + 1) == "*" {
                        depth += 1
                        i += 2
                    } else if s[i] == "*", at(i + 1) == "/" {
                        depth -= 1
                        i += 2
                    } else {
                        if s[i] == "\n" { line += 1 }
                        i += 1
                    }
                } while depth > 0 && i < s.count
                continue
            }
            if c == "\"" || c == "#" {
                var hashes = 0
                var j = i
                while at(j) == "#" {
                    hashes += 1
                    j += 1
                }
                guard at(j) == "\"" else {
                    i = j + (hashes == 0 ? 1 : 0)
                    continue
                }
                let start = line
                let (text, end) = literal(s, at: j, hashes: hashes)
                line += s[i..<end].filter { $0 == "\n" }.count
                i = end
                if joinNext, !literals.isEmpty {
                    literals[literals.count - 1].text += text
                } else {
                    literals.append(Literal(line: start, text: text))
                }
                // `"…" + "…"`: the next literal continues this one.
                var k = i
                while let x = at(k), x == " " || x == "\n" || x == "\t" { k += 1 }
                joinNext = false
                if at(k) == "+" {
                    k += 1
                    while let x = at(k), x == " " || x == "\n" || x == "\t" { k += 1 }
                    joinNext = at(k) == "\"" || at(k) == "#"
                }
                continue
            }
            i += 1
        }
        return literals
    }

    /// The value of the literal whose opening quote is at `j` (after `hashes` #), and the index after it.
    static func literal(_ s: [Unicode.Scalar], at j: Int, hashes: Int) -> (String, Int) {
        func at(_ k: Int) -> Unicode.Scalar? { k < s.count ? s[k] : nil }
        let multiline = at(j + 1) == "\"" && at(j + 2) == "\""
        let quotes = multiline ? 3 : 1
        let closing = Array(repeating: Unicode.Scalar("\""), count: quotes) + Array(repeating: "#", count: hashes)
        var text = String.UnicodeScalarView()
        var k = j + quotes
        while k < s.count {
            if s[k] == "\"", k + closing.count <= s.count, Array(s[k..<(k + closing.count)]) == closing {
                return (String(text), k + closing.count)
            }
            if s[k] == "\\", (0..<hashes).allSatisfy({ at(k + 1 + $0) == "#" }) {
                let e = k + 1 + hashes
                switch at(e) {
                case "(":
                    // An interpolation: code up to the matching parenthesis, literals inside it skipped.
                    var depth = 1
                    var m = e + 1
                    while m < s.count, depth > 0 {
                        if s[m] == "\"" {
                            m = literal(s, at: m, hashes: 0).1
                            continue
                        }
                        if s[m] == "(" { depth += 1 }
                        if s[m] == ")" { depth -= 1 }
                        m += 1
                    }
                    text.append(contentsOf: String(PrintedCommandFinder.hole).unicodeScalars)
                    k = m
                case "n":
                    text.append("\n")
                    k = e + 1
                case "t":
                    text.append("\t")
                    k = e + 1
                case "r", "0":
                    k = e + 1
                case "u":
                    var m = e + 2
                    var hex = ""
                    while let x = at(m), x != "}" {
                        hex.unicodeScalars.append(x)
                        m += 1
                    }
                    if let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) { text.append(scalar) }
                    k = m + 1
                case "\n", " ", "\t":
                    // A multi-line literal's line continuation: no newline in the value.
                    var m = e
                    while let x = at(m), x == " " || x == "\t" { m += 1 }
                    k = at(m) == "\n" ? m + 1 : e
                default:
                    if let x = at(e) { text.append(x) }
                    k = e + 1
                }
                continue
            }
            if !multiline && s[k] == "\n" { return (String(text), k) }
            text.append(s[k])
            k += 1
        }
        return (String(text), k)
    }
}
