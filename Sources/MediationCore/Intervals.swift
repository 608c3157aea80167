import Foundation

/// A half-open span of time `[start, end)`.
public struct Interval: Sendable, Hashable, Comparable, Codable {
    public var start: Date
    public var end: Date

    public init(start: Date, end: Date) {
        self.start = start
        self.end = end
    }

    public var isEmpty: Bool { end <= start }
    public var duration: TimeInterval { end.timeIntervalSince(start) }
    public func overlaps(_ other: Interval) -> Bool { start < other.end && other.start < end }
    public static func < (a: Interval, b: Interval) -> Bool { (a.start, a.end) < (b.start, b.end) }
}

/// Set operations on lists of intervals; every result is sorted, merged and free of empty spans.
public enum IntervalSet {
    /// Sorts and merges touching or overlapping intervals.
    public static func normalize(_ intervals: [Interval]) -> [Interval] {
        var result: [Interval] = []
        for interval in intervals.filter({ !$0.isEmpty }).sorted() {
            if let last = result.last, interval.start <= last.end {
                result[result.count - 1].end = max(last.end, interval.end)
            } else {
                result.append(interval)
            }
        }
        return result
    }

    /// Everything in `a` that is not in `b`.
    public static func subtract(_ a: [Interval], _ b: [Interval]) -> [Interval] {
        let cuts = normalize(b)
        var result: [Interval] = []
        for var piece in normalize(a) {
            for cut in cuts where cut.overlaps(piece) {
                if cut.start > piece.start { result.append(Interval(start: piece.start, end: cut.start)) }
                piece.start = max(piece.start, cut.end)
                if piece.isEmpty { break }
            }
            if !piece.isEmpty { result.append(piece) }
        }
        return result
    }

    /// What `a` and `b` have in common.
    public static func intersect(_ a: [Interval], _ b: [Interval]) -> [Interval] {
        let x = normalize(a)
        let y = normalize(b)
        var i = 0
        var j = 0
        var result: [Interval] = []
        while i < x.count && j < y.count {
            let start = max(x[i].start, y[j].start)
            let end = min(x[i].end, y[j].end)
            if start < end { result.append(Interval(start: start, end: end)) }
            if x[i].end < y[j].end { i += 1 } else { j += 1 }
        }
        return result
    }
}
