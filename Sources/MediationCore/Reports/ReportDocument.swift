import Foundation

/// A report laid out for people: tables and bar charts. The table, CSV and HTML forms are all made from it,
/// so the three always show the same numbers.
public struct ReportDocument: Sendable, Hashable {
    public struct Table: Sendable, Hashable {
        public var id: String
        public var title: String
        public var header: [String]
        public var rows: [[String]]
        public init(id: String, title: String, header: [String], rows: [[String]]) {
            self.id = id
            self.title = title
            self.header = header
            self.rows = rows
        }
    }
    public struct Bar: Sendable, Hashable {
        public var label: String
        public var value: Int
        public init(label: String, value: Int) {
            self.label = label
            self.value = value
        }
    }
    public struct Chart: Sendable, Hashable {
        public var id: String
        public var title: String
        public var bars: [Bar]
        public init(id: String, title: String, bars: [Bar]) {
            self.id = id
            self.title = title
            self.bars = bars
        }
    }

    public var title: String
    public var subtitle: String
    /// The figure shown largest (days since the last escalation), if the report has one.
    public var headline: String?
    public var tables: [Table]
    public var charts: [Chart]

    public init(title: String, subtitle: String, headline: String?, tables: [Table], charts: [Chart]) {
        self.title = title
        self.subtitle = subtitle
        self.headline = headline
        self.tables = tables
        self.charts = charts
    }

    // MARK: CSV

    /// Every table one after the other (title row, header, rows, a blank line), UTF-8 with a BOM for Excel.
    public func csv() -> String {
        var rows: [[String]] = [[title], [subtitle]]
        if let headline { rows.append([headline]) }
        for t in tables { rows += [[]] + [[t.title]] + [t.header] + t.rows }
        return "\u{FEFF}" + CSV.write(rows)
    }

    // MARK: HTML

    /// One self-contained XHTML file: no scripts, no network, inline SVG charts, A4 print layout.
    public func html() -> String {
        var h = """
            <!DOCTYPE html>
            <html xmlns="http://www.w3.org/1999/xhtml" lang="zh-CN">
            <head>
            <meta charset="utf-8"/>
            <title>\(Self.escape(title))</title>
            <style>
            @page { size: A4; margin: 14mm; }
            body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; font-size: 10.5pt; color: #222; }
            h1 { font-size: 18pt; margin: 0 0 4pt 0; }
            .subtitle { color: #555; margin-bottom: 10pt; }
            .headline { border: 2pt solid #b00; padding: 8pt; font-size: 16pt; font-weight: bold; color: #b00; margin: 8pt 0; }
            table { border-collapse: collapse; margin: 4pt 0 12pt 0; page-break-inside: avoid; }
            th, td { border: 0.5pt solid #999; padding: 2pt 6pt; text-align: left; }
            td.n { text-align: right; }
            figure { display: inline-block; margin: 0 12pt 12pt 0; page-break-inside: avoid; }
            figcaption { font-weight: bold; }
            </style>
            </head>
            <body>
            <h1>\(Self.escape(title))</h1>
            <div class="subtitle">\(Self.escape(subtitle))</div>

            """
        if let headline { h += "<div class=\"headline\" id=\"headline\">\(Self.escape(headline))</div>\n" }
        for chart in charts { h += Self.svg(chart) }
        for t in tables {
            h += "<h2>\(Self.escape(t.title))</h2>\n<table id=\"\(Self.escape(t.id))\">\n<tr>"
            h += t.header.map { "<th>\(Self.escape($0))</th>" }.joined() + "</tr>\n"
            for r in t.rows {
                h +=
                    "<tr>"
                    + r.map { cell in
                        Double(cell) != nil
                            ? "<td class=\"n\">\(Self.escape(cell))</td>" : "<td>\(Self.escape(cell))</td>"
                    }.joined() + "</tr>\n"
            }
            h += "</table>\n"
        }
        return h + "</body>\n</html>\n"
    }

    /// A horizontal bar chart; each bar carries its number in `data-value`.
    static func svg(_ chart: Chart) -> String {
        let rowHeight = 18
        let labelWidth = 110
        let barWidth = 220
        let height = max(chart.bars.count, 1) * rowHeight + 8
        let top = max(chart.bars.map(\.value).max() ?? 0, 1)
        var s = "<figure id=\"\(escape(chart.id))\"><figcaption>\(escape(chart.title))</figcaption>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(labelWidth + barWidth + 50)\" height=\"\(height)\" "
        s += "role=\"img\" aria-label=\"\(escape(chart.title))\">\n"
        for (i, bar) in chart.bars.enumerated() {
            let y = 4 + i * rowHeight
            let w = bar.value == 0 ? 0 : max(1, bar.value * barWidth / top)
            s += "<text x=\"0\" y=\"\(y + 12)\" font-size=\"10\">\(escape(bar.label))</text>"
            s += "<rect x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(w)\" height=\"\(rowHeight - 4)\" fill=\"#4a7ab5\" "
            s += "data-label=\"\(escape(bar.label))\" data-value=\"\(bar.value)\"/>"
            s += "<text x=\"\(labelWidth + w + 4)\" y=\"\(y + 12)\" font-size=\"10\">\(bar.value)</text>\n"
        }
        return s + "</svg></figure>\n"
    }

    /// Escapes text for XHTML content and attributes.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab and line breaks are not allowed in XML at all.
                if c.value < 0x20 && c != "\t" && c != "\n" && c != "\r" { continue }
                out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

extension ReportDocument {
    /// `66.7%`; `—` when there is no rate (nothing to divide by).
    static func percent(_ rate: Double?) -> String { rate.map { String(format: "%.1f%%", $0 * 100) } ?? "—" }
    static func number(_ x: Double?) -> String { x.map { String(format: "%.1f", $0) } ?? "-" }
}

extension WeeklyReport {
    static let riskNames: [RiskLevel: String] = [.low: "低", .medium: "中", .high: "高", .critical: "极高"]

    /// 每周研判 as tables and charts: in both languages (Chinese first) for the API, the CLI and print by default, or
    /// in one language for a page in that language (the console: no English word on a Chinese page), where the
    /// office is named as people know it (`officeName`) and the time of the figures is said as people read it.
    public func document(zone: Zone = .shanghai, language: Language? = nil, officeName: String? = nil) -> ReportDocument
    {
        func say(_ zh: String, _ en: String) -> String {
            switch language {
            case nil: "\(zh) \(en)"
            case .zh: zh
            case .en: en
            }
        }
        /// A coded value: its Chinese word and its code, or one of them.
        func word(_ zh: String?, _ code: String) -> String {
            switch language {
            case nil: "\(zh ?? "") \(code)".trimmingWhitespace()
            case .zh: zh ?? code
            case .en: code.replacingOccurrences(of: "_", with: " ")
            }
        }
        let headline =
            daysSinceLastEscalation.map {
                language == .en
                    ? "Days since the last escalation (criminal case, violence, petition): \($0)"
                    : say("距上次矛盾升级（民转刑/暴力/上访）已 \($0) 天", "· days since the last escalation: \($0)")
            }
            ?? (language == .en ? "No escalation recorded" : say("尚无矛盾升级记录（民转刑零发生）", "· no escalation recorded"))
        let tables: [ReportDocument.Table] = [
            .init(
                id: "summary", title: say("概况", "Summary"), header: [say("项目", "item"), say("数量", "count")],
                rows: [
                    [say("在办纠纷", "open disputes"), String(openTotal)],
                    [say("本周已调解场次", "sessions held"), String(sessionsHeld)],
                    [say("下周待调解场次", "sessions coming"), String(sessionsComing)],
                    [say("本周待回访", "follow-ups due"), String(followUpsDue)],
                    [say("逾期未回访", "follow-ups overdue"), String(followUpsOverdue)],
                    [say("本周已回访", "follow-ups done"), String(followUpsDone)],
                    [say("升级累计", "escalations (all time)"), String(escalationsTotal)],
                    [say("民转刑累计", "criminal cases (all time)"), String(criminalTotal)],
                ]),
            .init(
                id: "risk", title: say("在办纠纷风险分布", "Open disputes by risk"),
                header: [
                    say("风险", "risk"), say("数量", "count"), say("最长在办天数", "max days open"),
                    say("平均在办天数", "mean days open"),
                ],
                rows: openByRisk.map {
                    [
                        word(Self.riskNames[$0.risk], $0.risk.rawValue), String($0.count), String($0.maxDaysOpen),
                        String(format: "%.1f", $0.meanDaysOpen),
                    ]
                }),
            .init(
                id: "oldest", title: say("高风险在办纠纷", "Longest-open high-risk disputes"),
                header: [say("编号", "number"), say("风险", "risk"), say("状态", "status"), say("在办天数", "days open")],
                rows: oldestHighRisk.map { d in
                    [
                        d.number, language.map { Words.risk(d.risk, $0) } ?? d.risk.rawValue,
                        language.map { Words.disputeStatus(d.status, $0) } ?? d.status.rawValue,
                        String(d.daysOpen),
                    ]
                }),
            .init(
                id: "outcomes", title: say("本周调解结果", "Outcomes this week"),
                header: [say("结果", "result"), say("数量", "count")],
                rows: outcomes.map { c in [word(OutcomeResult(rawValue: c.key)?.chinese, c.key), String(c.count)] }),
            .init(
                id: "weeks", title: say("每周调解场次", "Sessions held per week"),
                header: [say("周", "week"), say("场次", "sessions")],
                rows: sessionsPerWeek.map { [$0.week.description, String($0.sessions)] }),
            .init(
                id: "warnings", title: say("本周预警", "Warnings this week"),
                header: [say("规则", "rule"), say("数量", "count")],
                rows: warnings.map { c in [word(WarningRule(rawValue: c.key)?.chinese, c.key), String(c.count)] }),
            .init(
                id: "escalations", title: say("本周矛盾升级", "Escalations this week"),
                header: [say("类型", "kind"), say("数量", "count")],
                rows: escalations.map { c in [word(EscalationKind(rawValue: c.key)?.chinese, c.key), String(c.count)] }
            ),
        ]
        let charts: [ReportDocument.Chart] = [
            .init(
                id: "chart-weeks", title: say("每周调解场次", "Sessions per week"),
                bars: sessionsPerWeek.map { .init(label: $0.week.description, value: $0.sessions) }),
            .init(
                id: "chart-outcomes", title: say("调解结果构成", "Outcome mix"),
                bars: outcomes.map {
                    .init(
                        label: language == .en
                            ? $0.key.replacingOccurrences(of: "_", with: " ")
                            : OutcomeResult(rawValue: $0.key)?.chinese ?? $0.key, value: $0.count)
                }),
            .init(
                id: "chart-risk", title: say("风险分布", "Risk distribution"),
                bars: openByRisk.map {
                    .init(
                        label: language == .en ? $0.risk.rawValue : Self.riskNames[$0.risk] ?? $0.risk.rawValue,
                        value: $0.count)
                }),
        ]
        return ReportDocument(
            title: say("每周研判", "Weekly review") + " \(week)" + ((officeName ?? office).map { " · \($0)" } ?? ""),
            subtitle: "\(week.monday) — \(week.sunday) · " + say("截至", "as of") + " "
                + (language.map { Words.moment(asOf, zone, $0) } ?? zone.format(asOf)),
            headline: headline, tables: tables, charts: charts)
    }
}

extension OutcomesReport {
    /// 调解结果统计 as a table and a chart: in both languages (Chinese first) for the API, the CLI and print, or in one
    /// language for a console page.
    public func document(language: Language? = nil, officeNames: [String: String] = [:]) -> ReportDocument {
        func say(_ zh: String, _ en: String) -> String {
            switch language {
            case nil: "\(zh) \(en)"
            case .zh: zh
            case .en: en
            }
        }
        let grouping: [OutcomeGrouping: (String, String)] = [
            .office: ("调解室", "office"), .category: ("类别", "category"), .expert: ("专家", "expert"),
        ]
        let header = [
            by.map { language == nil ? $0.rawValue : say(grouping[$0]?.0 ?? "", grouping[$0]?.1 ?? "") }
                ?? (language == nil ? "scope" : say("范围", "scope")),
            say("结果", "outcomes"), say("达成", "agreement"), say("部分", "partial"), say("未达成", "none"),
            say("休会", "adjourned"), say("移交", "referrals"), say("调解成功率", "settlement rate"),
            say("平均天数", "mean days to agreement"), say("中位天数", "median days"), say("升级", "escalations"),
        ]
        func label(_ r: Row) -> String {
            if r.key == "all" { return language == nil ? r.label : say("合计", "all") }
            if by == .category, language == .zh { return Words.category(r.label, .zh) }
            if by == .office, let name = officeNames[r.key] { return name }
            return r.key == r.label ? r.label : "\(r.label) (#\(r.key))"
        }
        func cells(_ r: Row) -> [String] {
            [
                label(r), String(r.outcomes), String(r.agreements),
                String(r.partialAgreements), String(r.noAgreements), String(r.adjourned), String(r.referrals),
                ReportDocument.percent(r.settlementRate), ReportDocument.number(r.meanDaysToAgreement),
                ReportDocument.number(r.medianDaysToAgreement), String(r.escalations),
            ]
        }
        return ReportDocument(
            title: say("调解结果统计", "Outcomes") + " \(range.from) — \(range.to)",
            subtitle: by.map { say("按\(grouping[$0]?.0 ?? "")", "by \($0.rawValue)") }
                ?? say("全部", "all offices"),
            headline: nil,
            tables: [
                .init(
                    id: "outcomes", title: say("调解结果", "Outcomes"), header: header,
                    rows: rows.map(cells) + [cells(total)])
            ],
            charts: [
                .init(
                    id: "chart-outcomes", title: say("调解结果构成", "Outcome mix"),
                    bars: outcomeMix.map {
                        let result = OutcomeResult(rawValue: $0.key)
                        let name =
                            language == .en
                            ? $0.key.replacingOccurrences(of: "_", with: " ") : result?.chinese ?? $0.key
                        return .init(label: name, value: $0.count)
                    })
            ])
    }
}

extension ExpertsReport {
    public func document() -> ReportDocument {
        ReportDocument(
            title: "专家调用统计 Experts \(range.from) — \(range.to)",
            subtitle:
                "\(experts) 位专家 experts · \(totalSessions) 人次 seats · 最多/平均 max/mean \(String(format: "%.2f", maxOverMean)) · 基尼系数 Gini \(String(format: "%.4f", gini))",
            headline: nil,
            tables: [
                .init(
                    id: "experts", title: "专家 Experts",
                    header: [
                        "专家 expert", "角色 role", "场次 sessions", "已举行 held", "接受 accepted", "谢绝 declined",
                        "接受率 acceptance",
                    ],
                    rows: rows.map {
                        [
                            "\($0.name) (#\($0.id))", $0.role.chinese, String($0.sessions), String($0.held),
                            String($0.accepted), String($0.declined), ReportDocument.percent($0.acceptanceRate),
                        ]
                    }),
                .init(
                    id: "load", title: "负荷均衡 Load", header: ["项目 item", "值 value"],
                    rows: [
                        ["最多场次 max", String(maxSessions)], ["平均场次 mean", String(format: "%.2f", meanSessions)],
                        ["最多/平均 max/mean", String(format: "%.2f", maxOverMean)],
                        ["基尼系数 Gini", String(format: "%.4f", gini)],
                    ]),
            ],
            charts: [
                .init(
                    id: "chart-experts", title: "专家场次 Sessions per expert",
                    bars: rows.map { .init(label: $0.name, value: $0.sessions) })
            ])
    }
}

/// The spreadsheets the bureau asks for: UTF-8 with a BOM so Excel reads Chinese, RFC 4180 quoting.
public enum Export {
    public static let bom = "\u{FEFF}"

    public static func disputes(_ list: [Dispute], zone: Zone) -> String {
        bom
            + CSV.write(
                [
                    [
                        "number", "office", "title", "category", "risk", "status", "opened_at", "closed_at", "cause",
                        "location",
                    ]
                ]
                    + list.map { d in
                        [
                            d.number, d.officeId, d.title, d.category, d.risk.rawValue, d.status.rawValue,
                            zone.format(d.openedAt), d.closedAt.map(zone.format) ?? "", d.elements.cause ?? "",
                            d.elements.location ?? "",
                        ]
                    })
    }

    public static func sessions(_ list: [Session], numbers: [Int64: String], zone: Zone) -> String {
        bom
            + CSV.write(
                [["session", "dispute", "office", "start", "end", "status", "panel", "cancel_reason"]]
                    + list.map { s in
                        [
                            String(s.id), numbers[s.disputeId] ?? String(s.disputeId), s.officeId, zone.format(s.start),
                            zone.format(s.end), s.status.rawValue,
                            s.panel.map { String($0.expertId) }.joined(separator: " "),
                            s.cancelReason ?? "",
                        ]
                    })
    }

    public static func outcomes(_ list: [Outcome], numbers: [Int64: String], zone: Zone) -> String {
        bom
            + CSV.write(
                [
                    [
                        "session", "dispute", "result", "terms", "amount_yuan", "signed", "referred_to", "notes",
                        "recorded_at", "recorded_by",
                    ]
                ]
                    + list.map { o in
                        [
                            String(o.sessionId), numbers[o.disputeId] ?? String(o.disputeId), o.result.rawValue,
                            o.terms ?? "",
                            o.amountFen.map(Money.format) ?? "", o.signed ? "yes" : "no", o.referredTo ?? "",
                            o.notes ?? "",
                            zone.format(o.recordedAt), o.recordedBy ?? "",
                        ]
                    })
    }
}
