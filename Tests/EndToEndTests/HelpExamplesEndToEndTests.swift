import Foundation
import Testing

/// Every command's `--help` has an example, laid out to paste, and every example runs on the sample data
/// (issue 14, item 12).
@Suite(.serialized)
struct HelpExamplesEndToEndTests {
    /// The moment the examples are run at: Monday 7 December 2026, 13:45 in Shanghai.
    static let pinned = Date(timeIntervalSince1970: 1_796_622_300)

    /// One example: the command whose help shows it, and its lines as shown.
    struct Example: CustomStringConvertible {
        var path: [String]
        var lines: [String]
        /// The command as a shell reads it (lines continued with `\`).
        var script: String { lines.joined(separator: "\n") }
        var description: String { "mediationctl \(path.joined(separator: " ")) --help:\n\(script)" }
    }

    /// The examples of a help text: after a line `Example:` or `Examples:`, each command starts on a line
    /// `  mediationctl …`, continues on lines indented further while a line ends with ` \`, and a line `  # …` is
    /// a comment. Returns the examples and what breaks that layout.
    static func examples(_ discussion: String, path: [String]) -> ([Example], [String]) {
        let lines = discussion.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let heading = lines.firstIndex(where: { $0 == "Example:" || $0 == "Examples:" }) else {
            return ([], lines.contains { $0.contains("Example") } ? ["an example outside an Examples: block"] : [])
        }
        var found: [Example] = []
        var problems: [String] = []
        var continued = false
        for line in lines[(heading + 1)...] {
            if continued {
                guard line.hasPrefix("      "), !line.hasPrefix("       ") else {
                    problems.append("a continued line is indented by 6 spaces: '\(line)'")
                    continue
                }
                found[found.count - 1].lines.append(line)
            } else if line.hasPrefix("  mediationctl ") {
                found.append(Example(path: path, lines: [line]))
            } else if line.hasPrefix("  # ") {
                continue
            } else {
                problems.append("not an example, a continuation or a comment: '\(line)'")
                continue
            }
            continued = line.hasSuffix(" \\")
        }
        if continued { problems.append("the last example ends with '\\'") }
        return (found, problems)
    }

    /// Columns a terminal gives the text: two for each wide (Chinese) character.
    static func columns(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { sum, u in
            let v = u.value
            let wide =
                (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v)
            return sum + (wide ? 2 : 1)
        }
    }

    /// The command an example runs (`["session", "find"]`), global options left out.
    static func invoked(_ example: Example, tree: CommandTree) -> [String] {
        let words = example.script.replacingOccurrences(of: "\\\n", with: " ").split(separator: " ").map(String.init)
        var path: [String] = []
        var node = tree.root
        for word in words.dropFirst() where word != "--json" {
            guard let next = node.child(word) else { break }
            path.append(word)
            node = next
        }
        return path
    }

    @Test func everyCommandHasAnExampleLaidOutToPaste() throws {
        let tree = try CommandTree.load()
        var problems: [String] = []
        var count = 0
        func visit(_ node: CommandTree.Node, _ path: [String]) throws {
            for child in node.children { try visit(child, path + [child.name]) }
            guard !path.isEmpty else { return }
            let (examples, layout) = Self.examples(node.discussion, path: path)
            count += examples.count
            let name = "mediationctl \(path.joined(separator: " "))"
            problems += layout.map { "\(name): \($0)" }
            if node.children.isEmpty && !examples.contains(where: { Self.invoked($0, tree: tree) == path }) {
                problems.append("\(name) has no example of itself")
            }
            if !node.children.isEmpty && !examples.isEmpty {
                problems.append("\(name) is a group: its commands carry the examples")
            }
            guard !examples.isEmpty else { return }
            // As shown at 80 columns: each line fits, so the help shows it as written (not wrapped without a `\`).
            var environment = ProcessInfo.processInfo.environment
            environment["COLUMNS"] = "80"
            let help = try runProgram(Repo.ctl, path + ["--help"], environment: environment)
            let shown = Set(help.stdout.split(separator: "\n").map(String.init))
            for line in examples.flatMap(\.lines) {
                if Self.columns(line) > 80 { problems.append("\(name): \(Self.columns(line)) columns: '\(line)'") }
                if !shown.contains(line) { problems.append("\(name): --help does not show '\(line)' as one line") }
            }
        }
        try visit(tree.root, [])
        #expect(tree.leaves.count >= 74, "\(tree.leaves.map(\.path))")
        #expect(count >= tree.leaves.count)
        #expect(problems.isEmpty, "\(problems.count) problems:\n\(problems.joined(separator: "\n"))")
    }

    /// The sample data the examples run on: the four offices, the sample roster, and a week of a clerk's work up
    /// to Monday 7 December 2026, 13:45 (`at` moves the daemon's clock):
    /// - JS-2026-0001 (李明, 王强 of 金山物业): open, searched for 14–18 December, not booked;
    /// - session 1 (JS-2026-0002): booked for Wednesday 9 December 14:00;
    /// - session 2 (JS-2026-0003): booked for today 14:00, so it can be started now;
    /// - session 3 (JS-2026-0004): in session since 09:30;
    /// - session 4 (HQ-2026-0001): booked for Friday 4 December 09:30, never marked (a no-show, or held);
    /// - session 5 (JS-2026-0005): held on 2 December, its outcome not yet recorded;
    /// - session 6 (XH-2026-0001, high risk): held on 1 December, an agreement, visits 1–4 due 2, 4, 8 and 31 December;
    /// - JS-2026-0006: closed; conflict 1, leave 1 and extra time 1 of 陈志远; escalation 1 of HQ-2026-0001;
    /// - console account `wang.li` (staff of jinshan, with its one-time password);
    /// - policy `duo` (a legal officer and a community staff member); the notices due dealt with, message 7 (高淑芬's
    ///   notice of session 1) and others dead for want of a channel.
    static let scenario = """
        set -e -o pipefail
        at() { echo $(( $(date -d "$1" +%s) - $(date +%s) )) > "$CLOCK"; }
        ctl() { mediationctl "$@" > /dev/null; }
        at '2026-11-30 09:00 +0800'
        ctl office add jinshan --name 金山警务室 --prefix JS --phone 021-5555-0101
        ctl office add xinhua --name 新华警务室 --prefix XH
        ctl office add hongqiao --name 虹桥警务室 --prefix HQ
        ctl office add binjiang --name 滨江警务室 --prefix BJ
        ctl expert import Config/examples/experts.csv
        ctl user add wang.li --role staff --office jinshan
        ctl policy set duo --require legal_officer --require community_staff --description 法制民警与综治专干
        ctl dispute open --office jinshan --title 邻里噪音纠纷 --category noise --risk medium --cause 夜间装修 \\
            --location '金山路 12 弄' --scale 2
        ctl party add JS-2026-0001 --name 李明 --side applicant --mobile 13700000001
        ctl party add JS-2026-0001 --name 王强 --side respondent --organisation 金山物业
        ctl dispute open --office jinshan --title 楼上漏水 --category neighbour
        ctl party add JS-2026-0002 --name 赵伟 --side applicant --mobile 13700000002
        ctl party add JS-2026-0002 --name 钱芳 --side respondent --email qian.fang@example.org
        ctl dispute open --office jinshan --title 停车位争执 --category traffic
        ctl party add JS-2026-0003 --name 孙立 --side applicant
        ctl dispute open --office jinshan --title 宠物伤人 --category pet
        ctl party add JS-2026-0004 --name 周红 --side applicant
        ctl dispute open --office hongqiao --title 欠款纠纷 --category debt
        ctl party add HQ-2026-0001 --name 吴刚 --side applicant
        ctl dispute open --office jinshan --title 装修噪音 --category noise
        ctl party add JS-2026-0005 --name 郑洁 --side applicant
        ctl dispute open --office xinhua --title 家庭财产纠纷 --category family --risk high --risk-reason 曾发生肢体冲突
        ctl party add XH-2026-0001 --name 冯军 --side applicant --mobile 13700000006
        ctl dispute open --office jinshan --title 已调解的旧纠纷 --category other
        ctl dispute close JS-2026-0006 --reason 双方已自行和解
        ctl session book JS-2026-0002 --at '2026-12-09 14:00' --panel 艾力·买买提 --panel 袁伟民 --panel 高淑芬
        ctl session book JS-2026-0003 --at '2026-12-07 14:00' --panel 艾力·买买提 --panel 王建国 --panel 高淑芬
        ctl session book JS-2026-0004 --at '2026-12-07 09:30' --policy duo --panel 袁伟民 --panel 高淑芬
        ctl session book HQ-2026-0001 --at '2026-12-04 09:30' --policy duo --panel 何振华 --panel 周敏
        ctl session book JS-2026-0005 --at '2026-12-02 14:00' --panel 艾力·买买提 --panel 王建国 --panel 高淑芬
        ctl session book XH-2026-0001 --at '2026-12-01 09:30' --policy duo --panel 谢宏伟 --panel 刘明
        ctl conflict add 陈志远 --organisation 金山物业 --reason 法律顾问
        ctl expert leave add 陈志远 --from 2026-12-21 --to 2026-12-22 --reason 出差
        ctl expert extra add 陈志远 --from '2026-12-12 14:00' --to '2026-12-12 17:00' --reason 周六加班
        at '2026-12-01 09:25 +0800'
        ctl session start 6
        at '2026-12-01 11:00 +0800'
        ctl session end 6
        ctl outcome record 6 agreement --terms 冯军分得房屋一间 --amount 1200.50 --signed
        at '2026-12-02 13:50 +0800'
        ctl session start 5
        at '2026-12-02 15:30 +0800'
        ctl session end 5
        at '2026-12-07 09:30 +0800'
        ctl session start 3
        at '2026-12-07 13:45 +0800'
        ctl session find JS-2026-0001 --from 2026-12-14 --to 2026-12-18
        ctl escalation add HQ-2026-0001 violence --date 2026-12-03 --notes 双方在楼道推搡
        # The dispatcher has dealt with the notices due: message 7 (高淑芬's notice of session 1) is dead.
        for i in $(seq 300); do mediationctl outbox show 7 | grep -q 'status: *dead' && break; sleep 0.1; done
        mediationctl outbox show 7 | grep -q 'status: *dead'
        """

    /// A folder to run commands in, with `Config` of the checkout in it (as examples name `Config/examples/…`).
    static func workFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("examples-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: folder.appendingPathComponent("Config"), withDestinationURL: Repo.root.appendingPathComponent("Config"))
        return folder
    }

    /// Runs a shell script with the checkout's mediationctl first on the PATH, talking to `d`.
    static func shell(_ script: String, _ d: DaemonUnderTest, in folder: URL) throws -> Outcome {
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = Repo.bin.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["MEDIATION_SOCKET"] = d.socket
        environment["CLOCK"] = d.clockFile
        return try runProgram(
            "/bin/bash", ["-e", "-o", "pipefail", "-c", script], environment: environment, cwd: folder.path)
    }

    @Test func everyExampleRunsOnTheSampleData() throws {
        let tree = try CommandTree.load()
        var examples: [Example] = []
        func visit(_ node: CommandTree.Node, _ path: [String]) {
            if !path.isEmpty { examples += Self.examples(node.discussion, path: path).0 }
            for child in node.children { visit(child, path + [child.name]) }
        }
        visit(tree.root, [])
        #expect(examples.count >= tree.leaves.count)

        // The sample data, made once.
        let base = try DaemonUnderTest(movableClock: true)
        let work = try Self.workFolder()
        defer { try? FileManager.default.removeItem(at: work) }
        try base.start()
        let setUp = try Self.shell(Self.scenario, base, in: work)
        try #require(setUp.status == 0, "the sample data: \(setUp)")
        #expect(base.stop() == 0)
        let state = base.dir.appendingPathComponent("state")

        // Each example on a fresh copy of it, at the pinned moment, so that one example's change is not another's.
        var failures: [String] = []
        for example in examples {
            // With the web listener on (any free port), as `make run` has it: `expert feed` hands out its address.
            let d = try DaemonUnderTest(extraYAML: "web:\n  listen: 127.0.0.1:0", movableClock: true)
            try FileManager.default.copyItem(at: state, to: d.dir.appendingPathComponent("state"))
            try d.setClock(to: Self.pinned)
            try d.start()
            let folder = try Self.workFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let run = try Self.shell(example.script, d, in: folder)
            if run.status != 0 { failures.append("\(example)\n  → exit \(run.status): \(run.stderr)\(run.stdout)") }
            d.stop()
        }
        #expect(
            failures.isEmpty,
            "\(failures.count) of \(examples.count) examples fail:\n\(failures.joined(separator: "\n"))")
    }
}
