import Foundation

// PanelRequirement is defined in Disputes/PanelPolicy.swift (shared with panel policies).

/// One expert as the slot finder sees them: who they are, when they work, and what they already carry.
public struct SlotCandidate: Sendable, Hashable, Codable {
    public var id: Int64
    public var name: String
    public var role: ExpertRole
    public var specialties: [String]
    public var languages: [String]
    public var active: Bool
    /// A conflict of interest with this dispute: the expert is never proposed.
    public var conflicted: Bool
    /// The IANA zone in which the weekly hours and the day and week caps are read.
    public var timeZone: String
    public var weeklyHours: [WeeklyWindow]
    public var timeOff: [Interval]
    /// Dated availability beyond the weekly hours.
    public var extra: [Interval]
    /// Existing booked sessions, past and future.
    public var sessions: [Interval]
    /// Most sessions starting on one day in the expert's zone.
    public var maxSessionsPerDay: Int
    /// Most sessions starting in one ISO week (Monday to Sunday) in the expert's zone.
    public var maxSessionsPerWeek: Int

    public init(
        id: Int64, name: String, role: ExpertRole, specialties: [String] = [], languages: [String] = [],
        active: Bool = true, conflicted: Bool = false, timeZone: String = "Asia/Shanghai",
        weeklyHours: [WeeklyWindow] = [], timeOff: [Interval] = [], extra: [Interval] = [], sessions: [Interval] = [],
        maxSessionsPerDay: Int = 2, maxSessionsPerWeek: Int = 5
    ) {
        self.id = id
        self.name = name
        self.role = role
        self.specialties = specialties
        self.languages = languages
        self.active = active
        self.conflicted = conflicted
        self.timeZone = timeZone
        self.weeklyHours = weeklyHours
        self.timeOff = timeOff
        self.extra = extra
        self.sessions = sessions
        self.maxSessionsPerDay = maxSessionsPerDay
        self.maxSessionsPerWeek = maxSessionsPerWeek
    }
}

/// Everything the slot finder needs to propose session times; it reads no clock and no store.
///
/// Start times lie on a grid of `stepMinutes` counted from the Unix epoch in whole minutes
/// (with the default 15, starts fall on :00, :15, :30 and :45 in every zone whose offset is a whole quarter hour).
public struct SlotSearch: Sendable, Codable {
    public var requirements: [PanelRequirement]
    /// Length of the session, 1…480 minutes.
    public var durationMinutes: Int
    /// Sessions must lie wholly inside this span.
    public var window: Interval
    /// The current instant; the only time the finder knows.
    public var now: Date
    /// No session starts before `now` plus this many minutes.
    public var minimumNoticeMinutes: Int
    /// Free minutes kept before and after each of an expert's existing sessions.
    public var bufferMinutes: Int
    public var officeTimeZone: String
    /// When the office runs sessions, in the office's zone; a session lies inside one of these windows.
    public var officeHours: [WeeklyWindow]
    /// A session outside the office's hours (evenings and weekends, when the parties can come only then): the
    /// office's hours do not apply, its holidays still do, and so do the experts' and the parties' own times.
    public var outsideOfficeHours = false
    /// Office-local dates without sessions.
    public var holidays: [LocalDate]
    /// Each party's free intervals, already resolved to instants; every party must be free for the whole session.
    public var parties: [[Interval]]
    public var candidates: [SlotCandidate]
    /// Experts who must sit on the panel.
    public var pinned: [Int64]
    /// Experts who must not sit on the panel.
    public var excluded: [Int64]
    /// Specialties that earn a ranking bonus, for example the dispute's category.
    public var preferredSpecialties: [String]
    /// Spacing of candidate start times in minutes, counted from the Unix epoch.
    public var stepMinutes: Int
    /// Sessions start on the quarter hour unless a search says otherwise.
    public static let defaultStepMinutes = 15
    /// Most options returned.
    public var maxOptions: Int
    /// How many days after the window's end the search for a nearest option runs when the window has none.
    public var nearestSearchDays: Int
    /// Whether every start with a panel is an option. When false (the default), options are spread: at most one
    /// per office-local half-day (before 12:00, or from 12:00) with the same experts on the panel.
    public var everyStart = false
    /// Whether options carry their one-line explanation (a booking's re-check needs none).
    public var explain = true
    /// How the reasons name each of `parties` ("李明 (party #3)"); without it, by position.
    public var partyNames: [String]? = nil

    public init(
        requirements: [PanelRequirement], durationMinutes: Int, window: Interval, now: Date,
        minimumNoticeMinutes: Int = 0, bufferMinutes: Int = 0, officeTimeZone: String = "Asia/Shanghai",
        officeHours: [WeeklyWindow], holidays: [LocalDate] = [], parties: [[Interval]] = [],
        candidates: [SlotCandidate], pinned: [Int64] = [], excluded: [Int64] = [], preferredSpecialties: [String] = [],
        stepMinutes: Int = SlotSearch.defaultStepMinutes, maxOptions: Int = 5, nearestSearchDays: Int = 28
    ) {
        self.requirements = requirements
        self.durationMinutes = durationMinutes
        self.window = window
        self.now = now
        self.minimumNoticeMinutes = minimumNoticeMinutes
        self.bufferMinutes = bufferMinutes
        self.officeTimeZone = officeTimeZone
        self.officeHours = officeHours
        self.holidays = holidays
        self.parties = parties
        self.candidates = candidates
        self.pinned = pinned
        self.excluded = excluded
        self.preferredSpecialties = preferredSpecialties
        self.stepMinutes = stepMinutes
        self.maxOptions = maxOptions
        self.nearestSearchDays = nearestSearchDays
    }
}

/// One seat of a proposed panel: which requirement it fills and who sits in it.
public struct PanelSeat: Sendable, Hashable, Codable {
    /// Index into `SlotSearch.requirements`.
    public var requirementIndex: Int
    public var expertId: Int64

    public init(requirementIndex: Int, expertId: Int64) {
        self.requirementIndex = requirementIndex
        self.expertId = expertId
    }
}

/// A proposed session: a start, an end and a complete panel, with a line a person can read.
public struct SlotOption: Sendable, Hashable, Codable {
    public var start: Date
    public var end: Date
    /// Seats in requirement order.
    public var panel: [PanelSeat]
    /// For example `Tue 1 Dec 09:00–10:30 Asia/Shanghai: 王芳 (lawyer, property; 1 session in 30 days), …`.
    public var explanation: String
    /// The same in Chinese, for a Chinese page or reader (not kept with a stored search: a booking needs none).
    public var explanationChinese: String

    public init(start: Date, end: Date, panel: [PanelSeat], explanation: String, explanationChinese: String = "") {
        self.start = start
        self.end = end
        self.panel = panel
        self.explanation = explanation
        self.explanationChinese = explanationChinese
    }

    private enum CodingKeys: String, CodingKey { case start, end, panel, explanation }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            start: try c.decode(Date.self, forKey: .start), end: try c.decode(Date.self, forKey: .end),
            panel: try c.decode([PanelSeat].self, forKey: .panel),
            explanation: try c.decode(String.self, forKey: .explanation))
    }
}

/// What the slot finder proposes.
public struct SlotAnswer: Sendable, Codable {
    /// At most `maxOptions`, earliest first, with distinct start times.
    public var options: [SlotOption]
    /// Why nothing fits, in terms a person can act on; empty when there are options.
    public var reasons: [String]
    /// The same reasons in Chinese, line for line, for a Chinese page (not part of the finder's JSON contract).
    public var reasonsChinese: [String]
    /// The earliest option after the window, only when `options` is empty.
    public var nearest: SlotOption?

    private enum CodingKeys: String, CodingKey { case options, reasons, nearest }

    public init(
        options: [SlotOption], reasons: [String] = [], nearest: SlotOption? = nil, reasonsChinese: [String]? = nil
    ) {
        self.options = options
        self.reasons = reasons
        self.reasonsChinese = reasonsChinese ?? reasons
        self.nearest = nearest
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        options = try c.decode([SlotOption].self, forKey: .options)
        reasons = try c.decode([String].self, forKey: .reasons)
        reasonsChinese = reasons
        nearest = try c.decodeIfPresent(SlotOption.self, forKey: .nearest)
    }
}
