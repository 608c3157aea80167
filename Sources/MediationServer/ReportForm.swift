import MediationAPI
import MediationCore
import OpenAPIRuntime

/// The form a report is answered in, chosen by the request's `Accept` (best quality first): the API's JSON by
/// default, tables for a terminal, CSV, or one printable HTML page. The three people's forms are laid out from the same `ReportDocument`.
enum ReportForm: Equatable {
    case json, text, csv, html

    init<T: AcceptableProtocol>(_ accept: [AcceptHeaderContentType<T>]) {
        for type in accept.sortedByQuality() where type.quality.doubleValue > 0 {
            switch type.contentType.rawValue.lowercased() {
            case "application/json": self = .json
            case "text/plain": self = .text
            case "text/csv": self = .csv
            case "text/html": self = .html
            default: continue
            }
            return
        }
        self = .json
    }

    /// The tables a terminal shows: title, subtitle, the headline figure, then each table (or `(none)`).
    static func text(_ document: ReportDocument) -> String {
        var lines: [String] = [document.title, document.subtitle]
        if let headline = document.headline { lines += ["", "★ " + headline] }
        for t in document.tables {
            var table = TextTable(header: t.header)
            for r in t.rows { table.add(row: r) }
            lines += ["", "== " + t.title, t.rows.isEmpty ? "(none)" : table.render()]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
