import Foundation

/// "Did you mean …?" for a name typed with one slip: the one rule for expert and party lookups.
///
/// For example:
/// ```swift
/// NameSuggestion.near("黄文波", among: ["黄文博", "陈志远"])   // ["黄文博"]
/// NameSuggestion.didYouMean("黄文波", among: ["黄文博"])      // "did you mean 黄文博?"
/// ```
public enum NameSuggestion {
    /// The most names suggested at once.
    public static let limit = 3

    /// The names one character away from `typed` (one substituted, inserted or deleted; case and surrounding
    /// spaces ignored), in the order given, each once, at most `limit`. A name shorter than two characters
    /// suggests nothing: one slip could turn it into anything.
    public static func near(_ typed: String, among names: some Sequence<String>) -> [String] {
        let t = Array(typed.trimmingWhitespace().lowercased())
        guard t.count >= 2 else { return [] }
        var found: [String] = []
        for name in names where !found.contains(name) {
            if oneSlipApart(t, Array(name.trimmingWhitespace().lowercased())) {
                found.append(name)
                if found.count == limit { break }
            }
        }
        return found
    }

    /// `did you mean 黄文博?` (or `黄文博 or 黄文波?`), or nil when no name is near.
    public static func didYouMean(_ typed: String, among names: some Sequence<String>) -> String? {
        let near = near(typed, among: names)
        guard !near.isEmpty else { return nil }
        return "did you mean " + near.joined(separator: " or ") + "?"
    }

    /// Exactly one substitution, insertion or deletion turns `a` into `b`.
    static func oneSlipApart(_ a: [Character], _ b: [Character]) -> Bool {
        guard abs(a.count - b.count) <= 1, a != b else { return false }
        let (short, long) = a.count <= b.count ? (a, b) : (b, a)
        var i = 0
        while i < short.count && short[i] == long[i] { i += 1 }
        if short.count == long.count { return short[(i + 1)...] == long[(i + 1)...] }
        return short[i...] == long[(i + 1)...]
    }
}
