import ArgumentParser
import Foundation
import MediationCore

/// The JSON of `*.search.json` and `*.answer.json` (see Benchmarks/README.md): sorted keys, ISO 8601 dates in UTC,
/// one newline at the end. The bench writes them and `mediation-bench solve` reads and prints them, so an answer
/// printed by `solve` equals the bench's file byte for byte.
enum SlotFiles {
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value) + Data("\n".utf8)
    }

    static func decodeSearch(_ data: Data) throws -> SlotSearch {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(SlotSearch.self, from: data)
    }

    /// What was wrong with a search file, by the path of the key (`candidates[3].timeZone`).
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : text.isEmpty ? "the top level" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "the key '\(path(context.codingPath + [key]))' is missing; every key in Benchmarks/README.md is "
                + "required except those marked optional"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "'\(path(context.codingPath))' has the wrong type: \(context.debugDescription)"
        case .dataCorrupted(let context):
            let underlying = (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return context.codingPath.isEmpty
                ? "it is not JSON" + (underlying.map { " (\($0))" } ?? "")
                : "'\(path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// `mediation-bench solve FILE.search.json`: the slot finder's answer to one search, as JSON on stdout.
struct Solve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prints the slot finder's answer (a SlotAnswer, JSON) to one *.search.json.",
        discussion: """
            The file's keys and the answer's are described in Benchmarks/README.md. The answer is printed as the \
            bench writes *.answer.json, so the two can be compared byte for byte:

              mediation-bench instances /tmp/slots --sizes 200
              mediation-bench solve /tmp/slots/slot-00200-00.search.json | cmp - /tmp/slots/slot-00200-00.answer.json
            """)

    @Argument(help: "A search file (slot-00200-00.search.json).") var file: String

    func run() throws {
        func refuse(_ message: String) -> ExitCode {
            FileHandle.standardError.write(Data("mediation-bench solve: \(file): \(message)\n".utf8))
            return ExitCode(2)
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw refuse("cannot be read (\((error as NSError).localizedDescription)); give the path of a .search.json")
        }
        let search: SlotSearch
        do { search = try SlotFiles.decodeSearch(data) } catch let error as DecodingError {
            throw refuse(SlotFiles.describe(error))
        }
        let answer: SlotAnswer
        do { answer = try SlotFinder.find(search) } catch let error as MediationError {
            throw refuse(error.message)
        }
        FileHandle.standardOutput.write(try SlotFiles.encode(answer))
    }
}

/// `mediation-bench instances FOLDER`: the slot-finder bench's saved instances and their answers, without timing.
struct Instances: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Writes the slot-finder bench's first 5 searches of each size and their answers, without timing.")

    @Argument(help: "Folder for slot-SSSSS-NN.search.json and .answer.json (created when missing).") var folder: String
    @Option(
        parsing: .upToNextOption,
        help: "Pool sizes (of \(SlotFinderBench.sizes.map(String.init).joined(separator: ", ")); other sizes work too)."
    )
    var sizes: [Int] = SlotFinderBench.sizes

    func run() throws {
        guard sizes.allSatisfy({ (1...100_000).contains($0) }) else {
            throw ValidationError("--sizes: give pool sizes from 1 to 100000, for example --sizes 200 2000")
        }
        for name in try SlotFinderBench.writeInstances(sizes: sizes, to: folder) {
            print("\(name).search.json  \(name).answer.json")
        }
    }
}
