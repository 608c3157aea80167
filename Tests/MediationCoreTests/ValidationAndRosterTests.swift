import Foundation
import Testing

@testable import MediationCore

// MARK: - Helpers

private func window(_ day: Weekday, _ start: String, _ end: String) throws -> WeeklyWindow {
    WeeklyWindow(
        weekday: day, start: try #require(TimeOfDay(parsing: start)), end: try #require(TimeOfDay(parsing: end)))
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A valid expert to start from; each test breaks one thing.
private func draft() -> Expert {
    Expert(name: "王芳", role: .lawyer, offices: ["jinshan"], mobile: "13800138000")
}

/// Every problem a validation error carries: its details, or its message when there is only one.
private func problems(_ error: MediationError) -> [String] { error.details.isEmpty ? [error.message] : error.details }

// MARK: - Expert

@Suite struct ExpertValidationTests {
    @Test func normalisesEverything() throws {
        let e = try Expert(
            name: "  王芳 ", role: .lawyer,
            specialties: ["Property Law", "property_law", " FAMILY ", "family", "", "Labour"],
            languages: ["普通话", " 普通话 ", "上海话"], offices: [" JinShan", "jinshan", "xinhua"],
            email: " Wang.Fang@Example.org ", mobile: "+86 138-0013-8000", wecomUserId: "  ", notes: "  ",
            weeklyHours: [try window(.wednesday, "19:00", "21:00"), try window(.monday, "09:00", "12:00")]
        ).validated()
        #expect(e.name == "王芳")
        #expect(e.specialties == ["family", "labour", "property-law"])
        #expect(e.languages == ["上海话", "普通话"].sorted())
        #expect(e.offices == ["jinshan", "xinhua"])
        #expect(e.email == "wang.fang@example.org")
        #expect(e.mobile == "13800138000")
        #expect(e.wecomUserId == nil)
        #expect(e.notes == nil)
        #expect(e.preferredChannel == .email)
        #expect(e.weeklyHours.map(\.weekday) == [.monday, .wednesday])
        #expect(e.timeZone == "Asia/Shanghai")
    }

    @Test func defaultChannelIsSMSWithoutEmail() throws {
        #expect(try draft().validated().preferredChannel == .sms)
    }

    @Test(arguments: [
        ("+86 138-0013-8000", "13800138000"), ("138 0013 8000", "13800138000"), ("138-0013-8000", "13800138000"),
        ("+8613800138000", "13800138000"), ("(+86) 138 0013 8000", "13800138000"), ("13900000001", "13900000001"),
        ("+44 20 7946 0958", "+442079460958"),
    ])
    func mobileNormalisation(raw: String, normal: String) throws {
        #expect(Contact.normalizeMobile(raw) == normal)
        var e = draft()
        e.mobile = raw
        #expect(try e.validated().mobile == normal)
    }

    @Test(arguments: [
        "12345", "23800138000", "1380013800", "138001380001", "1380013800a", "+86 1380013800", "+1 23", "电话",
    ])
    func badMobiles(raw: String) throws {
        #expect(Contact.normalizeMobile(raw) == nil)
        var e = draft()
        e.mobile = raw
        let error = try #require(throws: MediationError.self) { try e.validated() }
        #expect(error.kind == .invalidInput)
        #expect(problems(error).contains { $0.contains("is not a phone number") })
    }

    @Test func unknownTimeZone() throws {
        var e = draft()
        e.timeZone = "Asia/Shangai"
        let error = try #require(throws: MediationError.self) { try e.validated() }
        #expect(error.kind == .invalidInput)
        #expect(error.message.contains("Asia/Shangai"))
        e.timeZone = "Asia/Urumqi"
        #expect(try e.validated().timeZone == "Asia/Urumqi")
    }

    @Test func capsBelowZero() throws {
        var e = draft()
        e.maxSessionsPerDay = -1
        e.maxSessionsPerWeek = -2
        let error = try #require(throws: MediationError.self) { try e.validated() }
        #expect(error.details.count == 2)
        #expect(error.details.allSatisfy { $0.contains("below 0") })
        e.maxSessionsPerDay = 0
        e.maxSessionsPerWeek = 0
        #expect(throws: Never.self) { try e.validated() }
        e.maxSessionsPerDay = 25
        #expect(throws: MediationError.self) { try e.validated() }
    }

    @Test func needsMobileOrEmail() throws {
        var e = draft()
        e.mobile = "  "
        let error = try #require(throws: MediationError.self) { try e.validated() }
        #expect(error.message.contains("neither mobile nor email"))
        e.email = "wang@example.org"
        let ok = try e.validated()
        #expect(ok.mobile == nil)
        #expect(ok.email == "wang@example.org")
    }

    @Test(arguments: [
        "wang.fang@example", "wang fang@example.org", "@example.org", "wang@@example.org", "wang@.org", "wang@example.",
        "wang",
    ])
    func badEmails(email: String) throws {
        var e = draft()
        e.email = email
        let error = try #require(throws: MediationError.self) { try e.validated() }
        #expect(problems(error).contains { $0.contains("is not an email address") }, "\(email)")
    }

    @Test func officesRequiredUnlessAll() throws {
        var e = draft()
        e.offices = []
        let error = try #require(throws: MediationError.self) { try e.validated() }
        #expect(error.message.contains("no office given"))
        e.servesAllOffices = true
        e.offices = ["jinshan"]
        let all = try e.validated()
        #expect(all.servesAllOffices)
        #expect(all.offices.isEmpty)
    }

    @Test func preferredChannelNeedsItsContact() throws {
        var e = draft()
        e.preferredChannel = .wecom
        let error = try #require(throws: MediationError.self) { try e.validated() }
        #expect(error.message.contains("wecom"))
        e.wecomUserId = "wangfang"
        #expect(try e.validated().preferredChannel == .wecom)
        e.preferredChannel = .email
        #expect(throws: MediationError.self) { try e.validated() }
        e.preferredChannel = .dingtalk  // falls back to the mobile
        #expect(throws: Never.self) { try e.validated() }
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let e = Expert(
            name: " ", role: .retiree, offices: [], email: "not-an-email", mobile: "123", timeZone: "Nowhere/City",
            maxSessionsPerDay: -1, weeklyHours: [try window(.monday, "12:00", "09:00")])
        let error = try #require(throws: MediationError.self) { try e.validated() }
        #expect(error.kind == .invalidInput)
        let found = error.details
        #expect(found.count == 7, "\(found)")
        for fragment in [
            "name is empty", "no office given", "not an email address", "not a phone number", "Nowhere/City", "below 0",
            "ends before it starts",
        ] {
            #expect(found.contains { $0.contains(fragment) }, "missing \(fragment)")
        }
    }
}

@Suite struct TagTests {
    @Test func normaliseAndDeduplicate() {
        #expect(Tag.normalize(["Property Law", "property-law", "PROPERTY_LAW", " property  law "]) == ["property-law"])
        #expect(Tag.normalize(["noise", "Noise", "", "  ", "pet"]) == ["noise", "pet"])
        #expect(Tag.normalize(["Wage_Arrears", "consumer"]) == ["consumer", "wage-arrears"])
        // A specialty by its Chinese name is its code: found by either, shown in Chinese by the catalogue.
        #expect(
            Tag.normalize(["债务", "物业", "contract", "租赁", "欠薪"]) == [
                "contract", "debt", "lease", "property", "wage-arrears",
            ])
        #expect(Tag.normalize(["普通话", "上海话"]) == ["上海话", "普通话"], "languages are not specialties")
        #expect(Words.specialty("debt", .zh) == "债务")
    }

    /// Leave over whole days reads by its first and last day, not up to the next midnight; other spans by moment.
    @Test func aSpanOfWholeDaysReadsByItsDays() throws {
        let zone = Zone.shanghai
        func at(_ text: String) throws -> Date {
            try #require(ISO8601DateFormatter().date(from: text))
        }
        let days = Words.span(try at("2026-12-06T16:00:00Z"), try at("2026-12-20T16:00:00Z"), zone, .zh)
        #expect(days == "12月7日 周一 — 12月20日 周日（全天）", "\(days)")
        let one = Words.span(try at("2026-12-06T16:00:00Z"), try at("2026-12-07T16:00:00Z"), zone, .zh)
        #expect(one == "12月7日 周一（全天）", "\(one)")
        let hours = Words.span(try at("2026-12-07T01:00:00Z"), try at("2026-12-07T04:00:00Z"), zone, .zh)
        #expect(hours == "12月7日 周一 09:00 — 12月7日 周一 12:00", "\(hours)")
    }

    /// Clean lists come back as they are; anything else (unsorted, repeated, a stray hyphen, non-ASCII) is cleaned,
    /// and cleaning twice changes nothing.
    @Test func cleanListsStayAndCleaningIsIdempotent() {
        #expect(Tag.normalize(["noise", "pet", "wage-arrears"]) == ["noise", "pet", "wage-arrears"])
        #expect(Tag.normalize([]) == [])
        #expect(Tag.normalize(["pet", "noise"]) == ["noise", "pet"])
        #expect(Tag.normalize(["noise", "noise"]) == ["noise"])
        #expect(Tag.normalize(["-noise", "pet-"]) == ["noise", "pet"])
        #expect(Tag.normalize(["wage--arrears"]) == ["wage-arrears"])
        #expect(Tag.normalize(["物业 纠纷", "Übung"]) == ["übung", "物业-纠纷"])
        let samples = [
            ["a"], ["b", "a"], ["a-b", "a"], ["A"], ["a b"], ["a_b-c"], ["", "x"], ["1-2", "10"], ["z", "z-"], ["é"],
        ]
        for tags in samples {
            #expect(Tag.normalize(Tag.normalize(tags)) == Tag.normalize(tags), "\(tags)")
        }
    }
}

// MARK: - WeeklyWindow

@Suite struct WeeklyWindowTests {
    @Test func endBeforeStart() throws {
        let error = try #require(throws: MediationError.self) {
            try WeeklyWindow.validate([try window(.monday, "12:00", "09:00")], field: "weekly hours")
        }
        #expect(error.kind == .invalidInput)
        #expect(error.message.contains("ends before it starts"))
        #expect(error.message.contains("mon 12:00-09:00"))
        #expect(throws: MediationError.self) {
            try WeeklyWindow.validate([try window(.monday, "09:00", "09:00")], field: "weekly hours")
        }
    }

    @Test func overlapOnOneDay() throws {
        let error = try #require(throws: MediationError.self) {
            try WeeklyWindow.validate(
                [try window(.monday, "11:00", "13:00"), try window(.monday, "09:00", "12:00")], field: "weekly hours")
        }
        #expect(error.message.contains("overlaps"))
        #expect(error.message.contains("mon 09:00-12:00"))
    }

    @Test func bothProblemsReportedTogether() throws {
        let error = try #require(throws: MediationError.self) {
            try WeeklyWindow.validate(
                [
                    try window(.tuesday, "18:00", "17:00"), try window(.monday, "09:00", "12:00"),
                    try window(.monday, "11:00", "13:00"),
                ], field: "weekly hours")
        }
        #expect(error.details.count == 2)
        #expect(error.details.contains { $0.contains("ends before it starts") && $0.contains("tue") })
        #expect(error.details.contains { $0.contains("overlaps") })
        #expect(error.details.allSatisfy { $0.hasPrefix("weekly hours:") })
    }

    @Test func touchingAndOtherDaysAreFine() throws {
        #expect(throws: Never.self) {
            try WeeklyWindow.validate(
                [
                    try window(.monday, "09:00", "12:00"), try window(.monday, "12:00", "14:00"),
                    try window(.tuesday, "09:00", "12:00"), try window(.sunday, "19:00", "24:00"),
                ], field: "weekly hours")
        }
        #expect(throws: Never.self) { try WeeklyWindow.validate([], field: "weekly hours") }
    }

    @Test func parseEnglishList() throws {
        let list = try WeeklyWindow.parseList("wed 19:00-21:00; mon 09:00-12:00 14:00-17:00", field: "hours")
        #expect(
            list == [
                try window(.monday, "09:00", "12:00"), try window(.monday, "14:00", "17:00"),
                try window(.wednesday, "19:00", "21:00"),
            ])
    }

    @Test func parseChineseWeekdays() throws {
        let list = try WeeklyWindow.parseList(
            "周一 09:00-12:00；星期三 14:00-17:00；周日 19:00～21:00；周天 08:00-08:30", field: "hours")
        #expect(
            list == [
                try window(.monday, "09:00", "12:00"), try window(.wednesday, "14:00", "17:00"),
                try window(.sunday, "08:00", "08:30"), try window(.sunday, "19:00", "21:00"),
            ])
    }

    @Test func parseRangesAndLists() throws {
        let weekdays = try WeeklyWindow.parseList("mon-fri 09:00-18:00", field: "hours")
        #expect(weekdays.map(\.weekday) == [.monday, .tuesday, .wednesday, .thursday, .friday])
        #expect(weekdays.allSatisfy { $0.start.minutes == 540 && $0.end.minutes == 1080 })
        let listed = try WeeklyWindow.parseList("wed,fri 19:00-21:00,21:30-22:00", field: "hours")
        #expect(listed.count == 4)
        #expect(Set(listed.map(\.weekday)) == [.wednesday, .friday])
        let chineseRange = try WeeklyWindow.parseList("周六-周日 10:00-11:00", field: "hours")
        #expect(chineseRange.map(\.weekday) == [.saturday, .sunday])
        #expect(try WeeklyWindow.parseList("", field: "hours").isEmpty)
    }

    @Test(arguments: [
        "mon", "xyz 09:00-10:00", "mon 9-10", "fri-mon 09:00-10:00", "mon 09:00-25:00", "mon 09:00",
        "mon-xyz 09:00-10:00", "mon 09:00-10:00-11:00",
    ])
    func parseRejectsBadInput(text: String) throws {
        let error = try #require(throws: MediationError.self) { try WeeklyWindow.parseList(text, field: "每周时段") }
        #expect(error.kind == .invalidInput)
        #expect(error.message.hasPrefix("每周时段:"))
    }

    @Test func formatRoundTrips() throws {
        let text = "mon 09:00-12:00 14:00-17:00; wed 19:00-21:00; sun 20:00-24:00"
        let list = try WeeklyWindow.parseList(text, field: "hours")
        #expect(WeeklyWindow.format(list) == text)
        #expect(try WeeklyWindow.parseList(WeeklyWindow.format(list), field: "hours") == list)
    }

    @Test func weekdayParsing() {
        #expect(Weekday(parsing: "Mon") == .monday)
        #expect(Weekday(parsing: "sunday") == .sunday)
        #expect(Weekday(parsing: "周五") == .friday)
        #expect(Weekday(parsing: "星期日") == .sunday)
        #expect(Weekday(parsing: "7") == .sunday)
        #expect(Weekday(parsing: "8") == nil)
        #expect(Weekday(parsing: "周八") == nil)
        #expect(Weekday.allCases.allSatisfy { Weekday(parsing: $0.code) == $0 && Weekday(parsing: $0.chinese) == $0 })
    }
}

// MARK: - Office and roles

@Suite struct OfficeAndRoleTests {
    @Test func validOfficeIsNormalised() throws {
        let o = try Office(id: " JinShan ", name: " 金山警务室 ", address: " ", phone: "021-5555 0000").validated()
        #expect(o.id == "jinshan")
        #expect(o.name == "金山警务室")
        #expect(o.address == nil)
        #expect(o.timeZone == "Asia/Shanghai")
        #expect(o.workingHours.count == 10)
    }

    @Test(arguments: ["1jinshan", "j", "jin shan", "金山", "jin_shan", "", String(repeating: "a", count: 33)])
    func badOfficeIDs(id: String) throws {
        let error = try #require(throws: MediationError.self) { try Office(id: id, name: "金山警务室").validated() }
        #expect(error.kind == .invalidInput)
        #expect(error.message.contains("office id"))
    }

    @Test func goodOfficeIDs() {
        for id in ["jinshan", "xinhua", "hongqiao", "binjiang", "office-2", "ab"] {
            #expect(Office.isValidID(id), "\(id)")
        }
    }

    @Test func unknownZone() throws {
        let error = try #require(throws: MediationError.self) {
            try Office(id: "jinshan", name: "金山警务室", timeZone: "Asia/Beijing").validated()
        }
        #expect(error.message.contains("Asia/Beijing"))
        let both = try #require(throws: MediationError.self) {
            try Office(id: "1x", name: "", timeZone: "Asia/Beijing", defaultSessionMinutes: 5).validated()
        }
        #expect(both.details.count == 4)
    }

    @Test(arguments: [
        ("legal_officer", ExpertRole.legalOfficer), ("Legal Officer", .legalOfficer), ("legal-officer", .legalOfficer),
        ("法制民警", .legalOfficer), ("民警", .legalOfficer), ("lawyer", .lawyer), ("LAWYER", .lawyer), ("律师", .lawyer),
        ("专业律师", .lawyer), ("retiree", .retiree), ("退休干部", .retiree), ("退休人员", .retiree),
        ("community_staff", .communityStaff), ("community staff", .communityStaff), ("综治专干", .communityStaff),
        ("街道社区综治专干", .communityStaff), (" 律师 ", .lawyer),
    ])
    func rolesParse(text: String, role: ExpertRole) {
        #expect(ExpertRole(parsing: text) == role)
    }

    @Test func unknownRolesAndChineseNames() {
        for text in ["judge", "法官", "", "law yer"] { #expect(ExpertRole(parsing: text) == nil, "\(text)") }
        for role in ExpertRole.allCases {
            #expect(ExpertRole(parsing: role.rawValue) == role)
            #expect(ExpertRole(parsing: role.chinese) == role)
        }
    }
}

// MARK: - CSV

@Suite struct CSVTests {
    @Test func plainRecordsAndLines() throws {
        let records = try CSV.parse("a,b,c\n1,2,3\n")
        #expect(
            records == [CSV.Record(line: 1, fields: ["a", "b", "c"]), CSV.Record(line: 2, fields: ["1", "2", "3"])])
    }

    @Test func quotesCommasAndNewlinesKeepLineNumbers() throws {
        let text =
            "name,notes\n\"Wang, Fang\",\"first line\nsecond \"\"quoted\"\" line\"\nLi,plain\n\n\"Zhao\",\"a\nb\nc\"\nQian,\"\"\n"
        let records = try CSV.parse(text)
        #expect(records.map(\.line) == [1, 2, 4, 6, 9])
        #expect(records[1].fields == ["Wang, Fang", "first line\nsecond \"quoted\" line"])
        #expect(records[2].fields == ["Li", "plain"])
        #expect(records[3].fields == ["Zhao", "a\nb\nc"])
        #expect(records[4].fields == ["Qian", ""])
    }

    @Test func crlfAndNoTrailingNewline() throws {
        let records = try CSV.parse("a,b\r\n\"x\r\ny\",z\r\nlast,row")
        #expect(records.map(\.line) == [1, 2, 4])
        #expect(records[1].fields == ["x\r\ny", "z"])
        #expect(records[2].fields == ["last", "row"])
    }

    @Test func emptyFieldsAreKept() throws {
        let records = try CSV.parse(",,\na,,b\n")
        #expect(records[0].fields == ["", "", ""])
        #expect(records[1].fields == ["a", "", "b"])
    }

    @Test func unclosedQuoteNamesItsLine() throws {
        let error = try #require(throws: MediationError.self) { try CSV.parse("a,b\nc,d\ne,\"never\nclosed\nat all\n") }
        #expect(error.kind == .invalidInput)
        #expect(error.message.hasPrefix("line 3:"))
        #expect(error.details == ["line 3: unclosed quote"])
    }

    @Test func writeThenParseRoundTrips() throws {
        let rows = [["name", "notes"], ["Wang, Fang", "say \"hi\"\nthen leave"], ["李", ""], ["x\r\ny", "plain"]]
        let text = CSV.write(rows)
        #expect(text.hasSuffix("\r\n"))
        #expect(text.hasPrefix("name,notes\r\n\"Wang, Fang\",\"say \"\"hi\"\"\nthen leave\"\r\n"))
        #expect(try CSV.parse(text).map(\.fields) == rows)
        #expect(CSV.escape("plain") == "plain")
        #expect(CSV.escape("a,b") == "\"a,b\"")
        #expect(CSV.escape("a\nb") == "\"a\nb\"")
        #expect(CSV.escape("a\r\nb") == "\"a\r\nb\"")  // CRLF is one Character in Swift
        #expect(CSV.escape("a\rb") == "\"a\rb\"")
    }

    @Test func decodeStripsBOM() throws {
        #expect(try CSV.decodeUTF8([0xEF, 0xBB, 0xBF] + bytes("姓名,角色\n")) == "姓名,角色\n")
        #expect(try CSV.decodeUTF8(bytes("姓名,角色\n")) == "姓名,角色\n")
        #expect(try CSV.decodeUTF8([]) == "")
    }

    @Test func invalidUTF8IsReportedOnItsLine() throws {
        // Line 3 holds a GBK-encoded 王 (0xCD 0xF5), which is not UTF-8.
        let data =
            [0xEF, 0xBB, 0xBF] + bytes("name,role\nLi,lawyer\n") + [0xCD, 0xF5] + bytes(",lawyer\nZhao,lawyer\n")
        let error = try #require(throws: MediationError.self) { try CSV.decodeUTF8(data) }
        #expect(error.kind == .invalidInput)
        #expect(error.message.hasPrefix("line 3:"))
        #expect(error.details == ["line 3: not UTF-8"])
        // Also on the last line without a newline.
        let last = try #require(throws: MediationError.self) { try CSV.decodeUTF8(bytes("a\nb\n") + [0xFF]) }
        #expect(last.details == ["line 3: not UTF-8"])
    }
}

// MARK: - Roster

@Suite struct RosterTests {
    @Test func englishHeaders() throws {
        let rows = try Roster.read(
            bytes(
                "name,role,mobile,email,offices,specialties,languages,weekly_hours,time_zone,max_per_day,max_per_week,active\n"
                    + "王芳,lawyer,138 0013 8000,Wang@Example.org,jinshan|xinhua,Property Law|family,普通话,\"mon 09:00-12:00; wed,fri 19:00-21:00\",Asia/Urumqi,1,3,no\n"
            ))
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row.line == 2)
        let e = row.expert
        #expect(e.name == "王芳")
        #expect(e.role == .lawyer)
        #expect(e.mobile == "13800138000")
        #expect(e.email == "wang@example.org")
        #expect(e.offices == ["jinshan", "xinhua"])
        #expect(!e.servesAllOffices)
        #expect(e.specialties == ["family", "property-law"])
        #expect(e.languages == ["普通话"])
        #expect(e.weeklyHours.count == 3)
        #expect(e.timeZone == "Asia/Urumqi")
        #expect(e.maxSessionsPerDay == 1)
        #expect(e.maxSessionsPerWeek == 3)
        #expect(!e.active)
    }

    @Test func chineseHeadersAsDocumented() throws {
        let rows = try Roster.read([0xEF, 0xBB, 0xBF] + bytes("姓名,角色,手机,服务警务室\r\n王芳,律师,13800138000,jinshan\r\n"))
        #expect(rows.count == 1)
        let e = try #require(rows.first).expert
        #expect(e.name == "王芳")
        #expect(e.role == .lawyer)
        #expect(e.offices == ["jinshan"])
        #expect(e.maxSessionsPerDay == 2)
        #expect(e.maxSessionsPerWeek == 5)
        #expect(e.active)
        #expect(e.timeZone == "Asia/Shanghai")
    }

    @Test func allChineseColumnNamesAndAliasesAreKnown() throws {
        let header = Roster.Column.allCases.map(\.chinese).joined(separator: ",")
        let line = "李明,综治专干,13900000001,,全部,noise,上海话,周一-周五 09:00-12:00,Asia/Shanghai,2,5,liming,,企业微信,,是"
        let rows = try Roster.read(bytes(header + "\n" + line + "\n"))
        let e = try #require(rows.first).expert
        #expect(e.servesAllOffices)
        #expect(e.preferredChannel == .wecom)
        #expect(e.weeklyHours.count == 5)
        let aliased = try Roster.read(bytes("姓名,角色,手机号码,警务室\n李明,民警,13900000001,binjiang\n"))
        #expect(aliased.first?.expert.role == .legalOfficer)
    }

    @Test func headerProblems() throws {
        let error = try #require(throws: MediationError.self) { try Roster.read(bytes("name,color,name\nx,y,z\n")) }
        let details = error.details
        #expect(details.allSatisfy { $0.hasPrefix("line 1: ") })
        #expect(details.contains { $0.contains("unknown column 'color'") })
        #expect(details.contains { $0.contains("appears twice") })
        #expect(details.contains { $0.contains("'role'") })
        #expect(details.contains { $0.contains("'offices'") })
        #expect(details.contains { $0.contains("'mobile'") })
        #expect(details.count == 5)
        let empty = try #require(throws: MediationError.self) { try Roster.read([]) }
        #expect(empty.message.contains("empty"))
    }

    @Test func allRowProblemsAreReportedAtOnce() throws {
        let text = """
            name,role,mobile,offices
            王芳,律师,13800138000,jinshan
            李四,律师,13800138001
            ,律师,13800138002,jinshan
            赵六,法官,13800138003,jinshan
            钱七,lawyer,+86 138-0013-8000,xinhua
            孙八,retiree,12345,

            周九,retiree,13800138009,binjiang

            """
        let error = try #require(throws: MediationError.self) { try Roster.read(bytes(text)) }
        #expect(error.kind == .invalidInput)
        #expect(error.message.contains("nothing was imported"))
        let d = error.details
        #expect(d.count == 6, "\(d)")
        #expect(d.allSatisfy { $0.range(of: #"^line \d+: "#, options: .regularExpression) != nil })
        #expect(d.contains { $0.hasPrefix("line 3: 3 fields, but the header has 4") })
        #expect(d.contains { $0.hasPrefix("line 4: name (姓名) is empty") })
        #expect(d.contains { $0.hasPrefix("line 5: role '法官' is not one of") })
        #expect(d.contains { $0.hasPrefix("line 6: same mobile/email as line 2") })
        #expect(d.contains { $0.hasPrefix("line 7: offices (服务警务室) is empty") })
        #expect(d.contains { $0.hasPrefix("line 7: mobile '12345' is not a phone number") })
        #expect(!d.contains { $0.hasPrefix("line 9:") })
        // The message repeats every detail so that a person sees them all.
        for detail in d { #expect(error.message.contains(detail)) }
    }

    @Test func problemsInOneRowAreAllReported() throws {
        // A row-level problem (unknown role) and an expert-level problem (bad email) on the same line.
        let text =
            "name,role,email,offices,max_per_day\n王芳,法官,not-an-email,jinshan,2\n李四,lawyer,li@example.org,xinhua,many\n"
        let error = try #require(throws: MediationError.self) { try Roster.read(bytes(text)) }
        let d = error.details
        #expect(d.contains { $0.hasPrefix("line 2: role '法官'") })
        #expect(d.contains { $0.hasPrefix("line 2: email 'not-an-email' is not an email address") })
        #expect(d.contains { $0.hasPrefix("line 3: max_per_day 'many' is not a whole number") })
        #expect(d.count == 3, "\(d)")
    }

    @Test func everyRowProblemIsSaidInChinese() throws {
        let text =
            "姓名,角色,手机,邮箱,服务警务室,时区,每日上限,首选渠道\n"
            + "王芳,律师,12345,bad-email,jinshan,Mars/Base,-1,企业微信\n"
            + "李四,律师,13800138001,,jinshan,,2,传真\n"
        let error = try #require(throws: MediationError.self) { try Roster.read(bytes(text)) }
        let zh = error.message(in: .zh)
        for expected in [
            "第 2 行：手机号“12345”不正确，应为 11 位数字（如 13800138000），或以 + 和国家代码开头",
            "第 2 行：邮箱“bad-email”不是有效的邮箱地址，应写成 name@example.org 的形式",
            "第 2 行：首选渠道“企业微信”没有对应的联系方式，请填写企业微信用户 ID，或改选其他渠道",
            "第 2 行：时区“Mars/Base”无法识别，请写 Asia/Shanghai、Asia/Urumqi 这样的名称",
            "第 2 行：每日场次上限不能小于 0，不能是 -1；请写 0 或更大的数",
            "第 3 行：首选渠道“传真”无法识别，请写邮件、短信、企业微信或钉钉",
        ] {
            #expect(zh.contains(expected), "\(zh)")
        }
        #expect(error.fields.count == error.details.count)
        #expect(!zh.contains("内容有误"))
        // No English sentence: the only Latin letters are what the clerk typed and the zone names to write.
        var rest = zh
        for typed in ["bad-email", "name@example.org", "Mars/Base", "Asia/Shanghai", "Asia/Urumqi", "ID"] {
            rest = rest.replacingOccurrences(of: typed, with: "")
        }
        #expect(!rest.contains { $0.isASCII && $0.isLetter }, "\(rest)")
        // The English stays as it was.
        #expect(error.details.contains("line 2: email 'bad-email' is not an email address (name@example.org)"))
        #expect(error.details.contains("line 2: sessions per day -1 is below 0; use 0 or more"))
        #expect(
            error.details.contains(
                "line 2: preferred channel wecom has no matching contact; add it or choose another"))
    }

    @Test func moneyIsRefusedInBothLanguages() throws {
        let error = try #require(throws: MediationError.self) { try Money.parseFen("-12") }
        #expect(
            error.message
                == "amount '-12' is not an amount in yuan; write it like 1200 or 1200.50 (at most two decimals)")
        #expect(error.message(in: .zh) == "金额“-12”无法识别，请写成 1200 或 1200.50 的形式（单位：元，最多两位小数）")
    }

    @Test func badWeeklyHoursAndFlags() throws {
        let text =
            "name,role,mobile,offices,weekly_hours,active,preferred_channel\n"
            + "王芳,lawyer,13800138000,jinshan,mon 12:00-09:00,maybe,fax\n"
            + "李四,lawyer,13800138001,jinshan,someday 09:00-10:00,是,短信\n"
        let error = try #require(throws: MediationError.self) { try Roster.read(bytes(text)) }
        let d = error.details
        #expect(d.contains { $0.hasPrefix("line 2: ") && $0.contains("ends before it starts") })
        #expect(d.contains { $0.hasPrefix("line 2: active 'maybe'") })
        #expect(d.contains { $0.hasPrefix("line 2: preferred channel 'fax'") })
        #expect(d.contains { $0.hasPrefix("line 3: ") && $0.contains("'someday' is not a weekday") })
    }

    @Test func writeThenReadGivesEqualExperts() throws {
        let experts = try [
            Expert(
                name: "王芳", role: .lawyer, specialties: ["property", "family law"], languages: ["普通话", "上海话"],
                offices: ["jinshan", "xinhua"], email: "wang.fang@example.org", mobile: "13800138000",
                preferredChannel: .email, maxSessionsPerDay: 1, maxSessionsPerWeek: 3,
                notes: "周末可到场, 带 \"证据\" 清单\n第二行",
                weeklyHours: [
                    try window(.monday, "09:00", "12:00"), try window(.monday, "14:00", "17:00"),
                    try window(.sunday, "19:00", "24:00"),
                ]),
            Expert(
                name: "李明", role: .communityStaff, servesAllOffices: true, mobile: "13900000001",
                wecomUserId: "liming", dingtalkMobile: "139 0000 0002", preferredChannel: .dingtalk,
                timeZone: "Asia/Urumqi", active: false),
            Expert(
                name: "Zhao, Lei", role: .retiree, offices: ["binjiang"], email: "zhao@example.org",
                notes: "typed on Windows\r\nsecond line"),
            Expert(
                name: "钱平", role: .legalOfficer, offices: ["hongqiao"], mobile: "+44 20 7946 0958", maxSessionsPerDay: 0
            ),
        ].map { try $0.validated() }
        let text = Roster.write(experts)
        let rows = try Roster.read(bytes(text))
        #expect(rows.map(\.expert) == experts)
        #expect(rows.map(\.line) == [2, 4, 5, 7])  // two notes span two lines each
        // The console's Chinese export reads back the same, with Chinese headers and words and no English one.
        let chinese = Roster.write(experts, language: .zh)
        #expect(try Roster.read(bytes(chinese)).map(\.expert) == experts)
        let header = try #require(chinese.split(separator: "\n").first)
        #expect(header.hasPrefix("姓名,角色,手机,邮箱,服务警务室"), "\(header)")
        #expect(chinese.contains("综治专干") && chinese.contains("全部") && chinese.contains("钉钉") && chinese.contains(",否"))
        #expect(chinese.contains("周一 09:00-12:00 14:00-17:00；周日 19:00-24:00"), "\(chinese)")
        for english in ["community_staff", "dingtalk", ",no", "mon "] {
            #expect(!chinese.contains(english), "\(english)")
        }
        // With the offices' names, the export names them as a clerk knows them, and reads back to their ids.
        let names = ["jinshan": "金山警务室", "xinhua": "新华警务室", "binjiang": "滨江警务室", "hongqiao": "虹桥警务室"]
        let named = Roster.write(experts, language: .zh, officeNames: names)
        #expect(named.contains("滨江警务室") && named.contains("虹桥警务室") && !named.contains("binjiang"), "\(named)")
        let back = try Roster.read(bytes(named), knownOffices: Set(names.keys), officeNames: names)
        #expect(back.map(\.expert) == experts)
    }

    @Test func sampleRosterImportsCleanly() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let url = root.appendingPathComponent("Config/examples/experts.csv")
        let data = [UInt8](try Data(contentsOf: url))
        #expect(data.starts(with: [0xEF, 0xBB, 0xBF]), "the sample must carry a UTF-8 BOM for Excel")
        let header = try #require(try CSV.parse(try CSV.decodeUTF8(data)).first)
        #expect(header.fields == Roster.Column.allCases.map(\.chinese))

        let rows = try Roster.read(data)
        #expect(rows.count == 30)
        #expect(rows.map(\.line) == Array(2...31))
        let experts = rows.map(\.expert)
        for role in ExpertRole.allCases {
            #expect(experts.filter { $0.role == role }.count >= 6, "\(role)")
        }
        let offices = Set(experts.flatMap(\.offices))
        #expect(offices == ["jinshan", "xinhua", "hongqiao", "binjiang"])
        #expect(experts.filter(\.servesAllOffices).count >= 2)
        for office in offices {
            #expect(experts.filter { $0.servesAllOffices || $0.offices.contains(office) }.count >= 8, "\(office)")
        }
        let mobiles = experts.compactMap(\.mobile)
        #expect(mobiles.count == 30)
        #expect(Set(mobiles).count == 30)
        #expect(mobiles.allSatisfy { $0.count == 11 && $0.hasPrefix("1") })
        #expect(experts.filter { $0.timeZone == "Asia/Urumqi" }.count == 1)
        #expect(experts.filter { $0.timeZone == "Asia/Shanghai" }.count == 29)
        #expect(experts.filter { $0.email != nil }.count >= 10)
        #expect(experts.allSatisfy { !$0.weeklyHours.isEmpty && !$0.specialties.isEmpty && !$0.languages.isEmpty })
        #expect(experts.contains { $0.weeklyHours.contains { $0.weekday == .saturday || $0.weekday == .sunday } })
        #expect(experts.contains { $0.weeklyHours.contains { $0.start.minutes >= 19 * 60 } })
        #expect(experts.allSatisfy { $0.name.unicodeScalars.contains { $0.value >= 0x4E00 } })
    }
}

@Test func timesWithSignsAndBlankOfficesAreRefused() throws {
    #expect(TimeOfDay(parsing: "+9:00") == nil)
    #expect(TimeOfDay(parsing: "-1:00") == nil)
    #expect(TimeOfDay(parsing: "9:00")?.minutes == 540)
    let blank = Expert(name: "王芳", role: .lawyer, offices: [" "], mobile: "13800138000")
    #expect(throws: MediationError.self) { try blank.validated() }
    do {
        _ = try blank.validated()
    } catch let e as MediationError {
        #expect(e.message.contains("no office given"))
    }
}

@Test func aRowChangesOnlyTheColumnsOfItsFile() throws {
    let stored = try Expert(
        id: 7, name: "陈志远", role: .lawyer, specialties: ["property"], offices: ["jinshan"], email: "c@example.org",
        mobile: "13900000001", maxSessionsPerDay: 3, notes: "周末可到场", active: false,
        weeklyHours: WeeklyWindow.parseList("mon 19:00-21:00", field: "t")
    ).validated()
    let rows = try Roster.read(Array("name,role,mobile,offices\n陈志远,律师,13900000001,xinhua\n".utf8))
    let row = try #require(rows.first)
    #expect(row.columns == [.name, .role, .mobile, .offices])
    let merged = try row.merged(into: stored)
    #expect(merged.offices == ["xinhua"])
    #expect(merged.id == 7)
    #expect(merged.email == "c@example.org")
    #expect(merged.specialties == ["property"])
    #expect(merged.maxSessionsPerDay == 3)
    #expect(merged.notes == "周末可到场")
    #expect(merged.active == false)
    #expect(merged.weeklyHours == stored.weeklyHours)
}
