import Foundation
import HTTPTypes
import Hummingbird
import MediationCore
import MediationStore
import Mustache
import NIOCore

/// The console's pages: each reads the session, calls the store, and renders a template in the reader's language.
struct Pages: Sendable {
    let db: AppDatabase
    let clock: any WallClock
    let settings: WebConsole.Settings
    let library: MustacheLibrary

    static let sessionCookie = "mc_session"
    static let loginCookie = "mc_login"
    static let languageCookie = "mc_lang"
    /// A form is a few fields: anything larger is not one of ours.
    static let maxFormBytes = 64 * 1024

    init(db: AppDatabase, clock: any WallClock, settings: WebConsole.Settings) throws {
        self.db = db
        self.clock = clock
        self.settings = settings
        var library = MustacheLibrary()
        for (name, text) in embeddedWebAssets where !name.contains(".") {
            try library.register(text, named: name)
        }
        self.library = library
    }

    // MARK: Signing in and out

    func loginPage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        if try await session(request) != nil { return redirect("/") }
        return loginForm(request, error: nil, typedName: "")
    }

    private func loginForm(_ request: Request, error: String?, typedName: String, status: HTTPResponse.Status = .ok)
        -> Response
    {
        // Signing in has no session yet: the form's token is also set as a cookie, and both must come back equal.
        let token = Self.randomToken()
        var values: [String: Any] = ["loginCsrf": token, "typedName": typedName]
        if let error { values["error"] = error }
        var response = render(
            "login", request, user: nil, title: WebText.labels(language(request))["login"] ?? "", values: values,
            status: status)
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.loginCookie, token, maxAge: 3600)))
        return response
    }

    func logIn(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        let language = language(request)
        guard let sent = form["csrf"], let expected = request.cookies[Self.loginCookie]?.value,
            Self.same(sent, expected)
        else { return refusedForm(request) }
        let name = form["name"] ?? ""
        let now = clock.now()
        // Many wrong sign-ins from one address, whatever the names: that address waits, nothing is checked.
        if let until = settings.throttle.refusedUntil(context.address, now: now) {
            try await AuditActor.$current.withValue(AuditActor(uid: 0, user: nil, role: "console")) {
                try await db.recordAudit(
                    action: "console.login_throttled", target: "address \(context.address)",
                    summary:
                        "sign-in refused: \(LoginThrottle.limit) failures in \(Int(LoginThrottle.window / 60)) minutes")
            }
            let message = WebText.message("throttled", language).replacingOccurrences(
                of: "%@", with: try await localTime(until, office: nil, language))
            return loginForm(request, error: message, typedName: name, status: .tooManyRequests)
        }
        do {
            let session = try await db.logIn(
                name: name, password: form["password"] ?? "", code: form["code"] ?? "", from: context.address)
            var response = gate(session) ?? redirect("/")
            response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.sessionCookie, session.token)))
            response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.loginCookie, "", maxAge: 0)))
            return response
        } catch let refusal as LoginRefusal {
            if refusal != .codeNeeded { settings.throttle.failed(context.address, now: now) }
            let message: String
            switch refusal {
            case .wrongNameOrPassword: message = WebText.message("wrongLogin", language)
            case .codeNeeded: message = WebText.message("codeNeeded", language)
            case .wrongCode: message = WebText.message("wrongCode", language)
            case .disabled: message = WebText.message("disabled", language)
            case .locked(let until):
                message = WebText.message("locked", language).replacingOccurrences(
                    of: "%@", with: try await localTime(until, office: nil, language))
            }
            return loginForm(request, error: message, typedName: name, status: .unauthorized)
        }
    }

    func logOut(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        let form = try await Self.form(request)
        guard Self.same(form["csrf"] ?? "", session.csrf) else { return refusedForm(request) }
        try await db.logOut(session)
        var response = redirect("/login")
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.sessionCookie, "", maxAge: 0)))
        return response
    }

    /// The start of every form that changes something: the signed-in session (else the login page), the form with
    /// its token checked (else 403, nothing written), past the gate (password, authenticator); otherwise the answer
    /// to send instead is thrown as `EarlyAnswer`, which the console's middleware sends.
    func signedForm(_ request: Request, limit: Int = maxFormBytes) async throws -> (ConsoleSession, [String: String]) {
        guard let session = try await session(request) else { throw EarlyAnswer(response: redirect("/login")) }
        let form = try await Self.form(request, limit: limit)
        guard Self.same(form["csrf"] ?? "", session.csrf) else { throw EarlyAnswer(response: refusedForm(request)) }
        if let gate = gate(session) { throw EarlyAnswer(response: gate) }
        return (session, form)
    }

    /// A refusal's problems beside their fields, in the page's language; one under `general` when it names none.
    /// `onPage`: the fields the page shows a problem beside; a problem about any other goes under `general`.
    static func fieldErrors(
        _ e: MediationError, _ language: Language, general: String = "general", saying key: String = "invalidInput",
        onPage: Set<String>? = nil
    ) -> [String: String] {
        var errors: [String: String] = [:]
        for problem in e.fields {
            let words = language == .zh ? problem.zh : problem.en
            let field = onPage.map { $0.contains(problem.field) } ?? true ? problem.field : general
            errors[field] = errors[field].map { $0 + (language == .zh ? "；" : "; ") + words } ?? words
        }
        if errors.isEmpty { errors[general] = language == .en ? e.message : WebText.message(key, language) }
        return errors
    }

    /// Where an account must go before any other page: its own password after a one-time one, then its
    /// authenticator when `web.require_totp_for_admins` asks it of admins; nil when it may go on.
    func gate(_ session: ConsoleSession) -> Response? {
        if session.account.mustChangePassword { return redirect("/password") }
        if AccountRules.mustSetUpTOTP(session.account, requiredForAdmins: settings.requireTOTPForAdmins) {
            return redirect("/totp")
        }
        return nil
    }

    func passwordPage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        return passwordForm(request, session, problem: nil)
    }

    private func passwordForm(
        _ request: Request, _ session: ConsoleSession, problem: PasswordProblem?, status: HTTPResponse.Status = .ok
    ) -> Response {
        let language = language(request)
        var values: [String: Any] = [
            "mustChange": session.account.mustChangePassword, "rules": Words.passwordRules(language),
        ]
        if let problem {
            let key = problem == .currentWrong ? "currentError" : "newError"
            values[key] = Words.passwordProblem(problem, language)
        }
        return render(
            "password", request, user: session, title: WebText.labels(language)["changePassword"] ?? "",
            values: values, status: status)
    }

    func changePassword(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        let form = try await Self.form(request)
        guard Self.same(form["csrf"] ?? "", session.csrf) else { return refusedForm(request) }
        let new = form["new"] ?? ""
        guard new == form["repeat"] ?? "" else {
            return passwordForm(request, session, problem: .mismatch, status: .unprocessableContent)
        }
        do {
            try await db.changePassword(session, current: form["current"] ?? "", new: new)
        } catch let problem as PasswordProblem {
            return passwordForm(request, session, problem: problem, status: .unprocessableContent)
        }
        return redirect("/?changed=1")
    }

    /// 两步验证: a new key for the account's authenticator app, and the form that turns it on with the code the app
    /// shows (the store's `enableTOTP`); the key is in the page and in its form only, never kept until it matches.
    func totpPage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        if session.account.mustChangePassword { return redirect("/password") }
        return totpForm(request, session, secret: TOTPCodes.newSecret(), error: nil)
    }

    private func totpForm(_ request: Request, _ session: ConsoleSession, secret: String, error: String?) -> Response {
        var values: [String: Any] = [
            "hasTOTP": session.account.hasTOTP,
            "required": AccountRules.mustSetUpTOTP(session.account, requiredForAdmins: settings.requireTOTPForAdmins),
            "secret": secret, "typedKey": TOTPCodes.typedKey(secret: secret),
            "url": TOTPCodes.authenticatorURL(secret: secret, account: session.account.name),
        ]
        if let error { values["codeError"] = error }
        return render(
            "totp", request, user: session, title: WebText.labels(language(request))["totpTitle"] ?? "",
            values: values, status: error == nil ? .ok : .unprocessableContent)
    }

    func enableTOTP(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        let form = try await Self.form(request)
        guard Self.same(form["csrf"] ?? "", session.csrf) else { return refusedForm(request) }
        if session.account.mustChangePassword { return redirect("/password") }
        let secret = form["secret"] ?? ""
        do {
            try await db.enableTOTP(session, secret: secret, code: form["code"] ?? "")
        } catch let e as MediationError where e.kind == .invalidInput {
            let problem = e.fields.first { $0.field == "code" }
            let language = language(request)
            // A key that is not one of ours is replaced by a new one: the form is shown as if opened again.
            return totpForm(
                request, session, secret: TOTPCodes.isSecret(secret) ? secret : TOTPCodes.newSecret(),
                error: problem.map { language == .zh ? $0.zh : $0.en } ?? e.message)
        }
        return redirect("/?totp=1")
    }

    func switchLanguage(_ request: Request, _ context: WebRequestContext) -> Response {
        let chosen = Language(rawValue: context.parameters.get("language") ?? "") ?? .zh
        let back = request.uri.queryParameters.get("back") ?? "/"
        // Only a path of this console: never another site.
        let target = back.hasPrefix("/") && !back.hasPrefix("//") && !back.contains("\\") ? back : "/"
        var response = redirect(target)
        response.headers.append(
            HTTPField(name: .setCookie, value: cookie(Self.languageCookie, chosen.rawValue, maxAge: 365 * 86400)))
        return response
    }

    // MARK: 工作台

    func dashboard(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await signedIn(request) else { return redirectForSession(request) }
        if let gate = gate(session) { return gate }
        let language = language(request)
        let now = clock.now()
        var offices: [[String: Any]] = []
        for office in try await db.offices(seenBy: session.account) {
            offices.append(try await officeBoard(office, now: now, language))
        }
        var values: [String: Any] = [
            "offices": offices, "changed": request.uri.queryParameters.get("changed") != nil,
        ]
        // The SMS package used up: every office's SMS wait (said once, above the offices).
        if let quota = try await db.smsQuotaAlert() {
            values["smsQuota"] = ["since": Self.format(quota.since, Zone.shanghai, language)]
        }
        return render(
            "dashboard", request, user: session, title: WebText.labels(language)["dashboard"] ?? "", values: values)
    }

    private func officeBoard(_ office: Office, now: Date, _ language: Language) async throws -> [String: Any] {
        let zone = try Zone(office.timeZone)
        let today = zone.wallClock(now).date
        let monday = today.adding(days: -(today.weekday.rawValue - 1))
        guard let midnight = TimeOfDay(minutes: 0) else { return [:] }
        let dayStart = zone.instant(today, midnight)
        let dayEnd = zone.instant(today.adding(days: 1), midnight)
        let weekStart = zone.instant(monday, midnight)
        let weekEnd = zone.instant(monday.adding(days: 7), midnight)
        // The week as a count a day (the grid at /week lists them): an office may have hundreds, so neither their
        // panels nor the office's disputes are read, only the numbers and titles of what is shown.
        var filter = SessionFilter(office: office.id, range: Interval(start: weekStart, end: weekEnd))
        filter.withPanels = false
        let week = try await db.sessions(filter).filter { $0.status != .cancelled }
        let perDay = Dictionary(grouping: week) { zone.wallClock($0.start).date }
        let todays = week.filter { $0.start >= dayStart && $0.start < dayEnd }.sorted { $0.start < $1.start }
        let shown = try await db.display(todays)
        let todaySessions = todays.map { s -> [String: Any] in
            [
                "time": Self.format(s.start, zone, language), "number": shown.numbers[s.disputeId] ?? "",
                "title": shown.titles[s.disputeId] ?? "", "status": Words.sessionStatus(s.status, language),
            ]
        }
        let warningList = try await db.warnings(office: office.id)
        let dueList = try await db.followUps(scope: .due, office: office.id)
        // Notices nobody received, of this office's sessions: the latest 20 shown, all counted.
        let undelivered = try await db.outbox(OutboxFilter(status: .dead, office: office.id, limit: 20))
        let deadCount = try await db.outboxCount(status: .dead, office: office.id)
        // The shown ones' disputes: from this week's sessions, else read one by one (at most 20).
        var sessionDisputes = Dictionary(week.map { ($0.id, $0.disputeId) }, uniquingKeysWith: { a, _ in a })
        for m in undelivered where sessionDisputes[m.sessionId] == nil {
            sessionDisputes[m.sessionId] = try? await db.session(m.sessionId).disputeId
        }
        let numbers = try await db.disputeNumbers(
            warningList.map(\.disputeId) + dueList.map(\.disputeId)
                + undelivered.compactMap { sessionDisputes[$0.sessionId] })
        let weekDays = (0..<7).map { offset -> [String: Any] in
            let day = monday.adding(days: offset)
            return [
                "day": Self.format(day: day, language), "count": perDay[day]?.count ?? 0, "today": day == today,
            ]
        }
        let warnings = warningList.map { w -> [String: Any] in
            [
                "rule": Words.warningRule(w.rule, language), "number": numbers[w.disputeId] ?? "",
                "raised": Self.format(w.raisedAt, zone, language),
            ]
        }
        let followUps = dueList.map { f -> [String: Any] in
            [
                "due": Self.format(day: f.dueOn, language), "number": numbers[f.disputeId] ?? "",
                "overdue": f.dueOn < today,
            ]
        }
        let dead = undelivered.map { m -> [String: Any] in
            [
                "session": m.sessionId, "number": sessionDisputes[m.sessionId].flatMap { numbers[$0] } ?? "",
                "recipient": Words.recipient(m.recipientKind, language),
            ]
        }
        // SMS the gateway took but the operator could not deliver: as good as not sent, for the person.
        let lostSMS = try await db.undeliveredSMS(office: office.id).map { m -> [String: Any] in
            var row: [String: Any] = [
                "session": m.session, "recipient": Words.recipient(m.recipient, language), "number": m.number,
            ]
            if let detail = m.detail, !detail.isEmpty { row["detail"] = detail }
            return row
        }
        // Whom a booked session's notices cannot reach personally (Core's `Reach` under the running channels): the
        // soonest 20 shown, all counted (an office may have hundreds of sessions a week).
        let unreachedAll = try await db.unreachedUpcoming(
            available: settings.notices.personalChannels, office: office.id)
        let unreachedCount = unreachedAll.reduce(0) { $0 + $1.people.count }
        let unreached = unreachedAll.lazy.flatMap { u in u.people.lazy.map { (u, $0) } }.prefix(20)
            .map { u, p -> [String: Any] in
                [
                    "session": u.sessionId, "number": u.disputeNumber,
                    "time": Self.format(u.start, zone, language), "who": Words.recipient(p.kind, language),
                    "why": language == .zh ? p.why.zh : p.why.en,
                ]
            }
        return [
            "unreached": Array(unreached), "unreachedCount": unreachedCount, "name": office.name,
            "today": Self.format(day: today, language),
            "todaySessions": todaySessions, "todayCount": todaySessions.count,
            "weekDays": weekDays, "weekCount": week.count,
            "warnings": warnings, "warningCount": warnings.count,
            "followUps": followUps, "followUpCount": followUps.count,
            "dead": dead, "deadCount": deadCount + lostSMS.count, "hasDead": deadCount + lostSMS.count > 0,
            "lostSMS": lostSMS,
        ]
    }

    // MARK: 纠纷 (read-only)

    func disputeList(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await signedIn(request) else { return redirectForSession(request) }
        if let gate = gate(session) { return gate }
        let language = language(request)
        let query = request.uri.queryParameters.get("q").flatMap(Text.nonEmpty)
        let zones = try await zonesByOffice()
        let (found, nav) = Self.page(
            try await db.disputes(DisputeFilter(text: query), seenBy: session.account), request)
        let disputes = found.map { d -> [String: Any] in
            [
                "number": d.number, "title": d.title, "category": Words.category(d.category, language),
                "risk": Words.risk(d.risk, language), "riskCode": d.risk.rawValue,
                "status": Words.disputeStatus(d.status, language),
                "opened": zones[d.officeId].map { Self.format(d.openedAt, $0, language) } ?? "",
            ]
        }
        return render(
            "disputes", request, user: session, title: WebText.labels(language)["disputes"] ?? "",
            values: [
                "disputes": disputes, "query": query ?? "", "pager": nav,
                "canRegister": OperationRoles.allows(session.account.role, "openDispute"),
            ])
    }

    func disputeFile(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await signedIn(request) else { return redirectForSession(request) }
        if let gate = gate(session) { return gate }
        let detail = try await db.dispute(context.parameters.get("ref") ?? "", seenBy: session.account)
        return try await caseFile(request, session, detail, typed: [:], errors: [:])
    }

    /// The case file; with the conflict form's typed values and problems when that form was refused (422).
    func caseFile(
        _ request: Request, _ session: ConsoleSession, _ detail: DisputeDetail, typed: [String: String],
        errors: [String: String], reveal: Bool = false
    ) async throws -> Response {
        let language = language(request)
        let d = detail.dispute
        let office = try await db.office(d.officeId)
        let zone = try Zone(office.timeZone)
        let labels = WebText.labels(language)
        let e = d.elements
        let elements: [[String: Any]] = [
            ("occurredAt", e.occurredAt.map { Self.format($0, zone, language) }), ("location", e.location),
            ("cause", e.cause), ("nature", e.nature), ("scale", e.scale.map(String.init)), ("involved", e.involved),
            ("development", e.development),
        ].compactMap { key, value in
            // The label without the form's example: `发生时间（如 …）` reads `发生时间`.
            let label = (labels["element-\(key)"] ?? key).components(separatedBy: "（")[0]
                .components(separatedBy: " (")[0]
            return value.map { ["label": label, "value": $0] }
        }
        let own = try await db.sessions(SessionFilter(dispute: String(d.id)))
        let experts = try await db.display(own).names
        let sessions = own.map { s -> [String: Any] in
            [
                "id": s.id, "time": Self.format(s.start, zone, language),
                "status": Words.sessionStatus(s.status, language),
                "panel": s.panel.map { experts[$0.expertId] ?? "#\($0.expertId)" }.joined(separator: "、"),
            ]
        }
        let conflicts = try await conflictValues(
            detail, language, typed: typed, errors: errors, session: session, sessions: own)
        let record = try await recordValues(
            detail, zone: zone, language, typed: typed, errors: errors, session: session)
        // Just booked: who of its people cannot be told personally, so the clerk calls them now.
        var bookedUnreached: [[String: Any]] = []
        if let booked = request.uri.queryParameters.get("booked").flatMap({ Int64($0) }),
            let s = try? await db.session(booked), s.disputeId == d.id
        {
            bookedUnreached = try await db.unreached(session: s.id, available: settings.notices.personalChannels).map {
                [
                    "who": Words.recipient($0.kind, language), "why": language == .zh ? $0.why.zh : $0.why.en,
                ] as [String: Any]
            }
        }
        return render(
            "dispute", request, user: session, title: d.number,
            values: [
                "number": d.number, "title": d.title, "office": office.name,
                "category": Words.category(d.category, language), "risk": Words.risk(d.risk, language),
                "riskCode": d.risk.rawValue, "status": Words.disputeStatus(d.status, language),
                "opened": Self.format(d.openedAt, zone, language),
                "parties": detail.parties.map { p -> [String: Any] in
                    let shown = reveal ? p : p.masked()
                    var row: [String: Any] = [
                        "name": shown.name, "side": Words.side(p.side, language), "mobile": shown.mobile ?? "-",
                        "idCard": shown.idCard ?? "-", "channel": Words.partyChannel(p.channel, language),
                    ]
                    if let why = Reach.unreachable(p, settings.notices.personalChannels) {
                        row["unreachable"] = language == .zh ? why.zh : why.en
                    }
                    return row
                },
                "revealed": reveal,
                "elements": elements, "hasElements": !elements.isEmpty,
                "registered": request.uri.queryParameters.get("registered") != nil,
                "booked": request.uri.queryParameters.get("booked") != nil, "bookedUnreached": bookedUnreached,
                "hasBookedUnreached": !bookedUnreached.isEmpty,
                "canBook": OperationRoles.allows(session.account.role, "bookSession")
                    && [.open, .unresolved, .scheduled].contains(d.status),
                "sessions": sessions,
            ].merging(conflicts) { a, _ in a }.merging(record) { a, _ in a },
            status: errors.isEmpty ? .ok : .unprocessableContent)
    }

    // MARK: 管理

    /// The accounts, for those whose role may list them through the API too (`OperationRoles`, the one table of
    /// authority): others are answered 403.
    func users(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await signedIn(request) else { return redirectForSession(request) }
        if let gate = gate(session) { return gate }
        let language = language(request)
        guard OperationRoles.allows(session.account.role, "listUsers") else {
            let labels = WebText.labels(language)
            return render(
                "error", request, user: session, title: labels["forbidden"] ?? "",
                values: ["heading": labels["forbidden"] ?? "", "message": WebText.message("role", language)],
                status: .forbidden)
        }
        let now = clock.now()
        let names = Dictionary(
            try await db.offices().map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let accounts = try await db.accounts().map { a -> [String: Any] in
            [
                "name": a.name, "role": Words.role(a.role, language),
                // An admin mapped to no office sees every office (as `user list` says).
                "offices": a.role == .admin && a.offices.isEmpty
                    ? WebText.labels(language)["allOffices"] ?? ""
                    : a.offices.map { names[$0] ?? $0 }.joined(separator: language == .zh ? "、" : ", "),
                "state": Words.accountState(a, now: now, language),
            ]
        }
        return render(
            "users", request, user: session, title: WebText.labels(language)["users"] ?? "",
            values: ["accounts": accounts])
    }

    // MARK: Sessions and answers

    /// The live session of the request's cookie, if any.
    func session(_ request: Request) async throws -> ConsoleSession? {
        guard let token = request.cookies[Self.sessionCookie]?.value, !token.isEmpty else { return nil }
        return try await db.consoleSession(token: token)
    }

    /// The session for a page; nil sends the reader to the login page.
    private func signedIn(_ request: Request) async throws -> ConsoleSession? { try await session(request) }

    private func redirectForSession(_ request: Request) -> Response { redirect("/login") }

    /// A form POST whose anti-forgery token is missing or wrong: 403, and nothing was done.
    func refusedForm(_ request: Request) -> Response {
        let language = language(request)
        return render(
            "error", request, user: nil, title: WebText.labels(language)["forbidden"] ?? "",
            values: [
                "heading": WebText.labels(language)["forbidden"] ?? "", "message": WebText.message("csrf", language),
            ], status: .forbidden)
    }

    /// Any error a page threw, as a page in the reader's language: never a stack trace.
    func errorPage(_ error: any Error, _ request: Request) -> Response {
        let language = language(request)
        let labels = WebText.labels(language)
        let (status, heading, message): (HTTPResponse.Status, String, String)
        switch error {
        case let e as MediationError where e.kind == .notFound:
            // Said of what the address names: a session, an expert, a visit, an office (the pages chosen by
            // `?office=`), else a dispute.
            let path = request.uri.path
            let key: String
            if path.hasPrefix("/sessions/") {
                key = "notFoundSession"
            } else if path.hasPrefix("/experts/") {
                key = "notFoundExpert"
            } else if path.hasPrefix("/followups/") {
                key = "notFoundVisit"
            } else if ["/week", "/experts"].contains(path) || path.hasPrefix("/review") {
                key = "notFoundOffice"
            } else {
                key = "notFound"
            }
            (status, heading, message) = (.notFound, labels["notFound"] ?? "", WebText.message(key, language))
        case let e as PageRefusal:
            (status, heading, message) = (
                .badRequest, labels["badRequest"] ?? "",
                WebText.message(e.key, language).replacingOccurrences(of: "%@", with: e.typed)
            )
        case let e as MediationError where e.kind == .invalidInput:
            // The error's own words where it has them in the page's language; the generic line only without.
            (status, heading, message) = (
                .badRequest, labels["badRequest"] ?? "",
                language == .en
                    ? e.message
                    : e.fields.isEmpty
                        ? WebText.message("invalidInput", language) : e.fields.map(\.zh).joined(separator: "；")
            )
        case let e as HTTPError where e.status == .notFound:
            (status, heading, message) = (.notFound, labels["notFound"] ?? "", WebText.message("page", language))
        case let e as HTTPError where e.status == .contentTooLarge:
            (status, heading, message) = (.contentTooLarge, labels["badRequest"] ?? "", "")
        case let e as HTTPError:
            (status, heading, message) = (e.status, labels["badRequest"] ?? "", "")
        default:
            (status, heading, message) = (
                .serviceUnavailable, labels["unavailable"] ?? "", WebText.message("unavailable", language)
            )
        }
        return render(
            "error", request, user: nil, title: heading, values: ["heading": heading, "message": message],
            status: status)
    }

    func render(
        _ template: String, _ request: Request, user session: ConsoleSession?, title: String, values: [String: Any],
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let language = language(request)
        var object: [String: Any] = values
        object["lang"] = language == .zh ? "zh-CN" : "en"
        object["en"] = language == .en
        object["t"] = WebText.labels(language)
        object["pageTitle"] = title
        object["otherLang"] = language == .zh ? "en" : "zh"
        object["back"] = Self.percentEncoded(request.uri.path)
        if let session {
            object["user"] = [
                "name": session.account.name, "roleWord": Words.role(session.account.role, language),
                "csrf": session.csrf, "isAdmin": OperationRoles.allows(session.account.role, "listUsers"),
            ]
        }
        let html = library.render(object, withTemplate: template) ?? ""
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    func cookie(_ name: String, _ value: String, maxAge: Int? = nil) -> String {
        var parts = ["\(name)=\(value)", "Path=/", "HttpOnly", "SameSite=Strict"]
        if let maxAge { parts.append("Max-Age=\(maxAge)") }
        if settings.secure { parts.append("Secure") }
        return parts.joined(separator: "; ")
    }

    /// The reader's language: the switch's cookie, else `Accept-Language`, else Chinese.
    func language(_ request: Request) -> Language {
        if let chosen = request.cookies[Self.languageCookie]?.value, let language = Language(rawValue: chosen) {
            return language
        }
        return Language(acceptLanguage: request.headers[.acceptLanguage])
    }

    // MARK: Helpers

    private func zonesByOffice() async throws -> [String: Zone] {
        var zones: [String: Zone] = [:]
        for office in try await db.offices() { zones[office.id] = try Zone(office.timeZone) }
        return zones
    }

    private func localTime(_ instant: Date, office: String?, _ language: Language) async throws -> String {
        let zones = try await zonesByOffice()
        let zone = try office.flatMap { zones[$0] } ?? Zone("Asia/Shanghai")
        return Self.format(instant, zone, language)
    }

    /// `12月7日 周一 09:00` or `Mon 2026-12-07 09:00`, in the office's zone.
    static func format(_ instant: Date, _ zone: Zone, _ language: Language) -> String {
        Words.moment(instant, zone, language)
    }

    static func format(day date: LocalDate, _ language: Language) -> String { Words.day(date, language) }

    static func form(_ request: Request, limit: Int = maxFormBytes) async throws -> [String: String] {
        var body = try await request.body.collect(upTo: limit)
        let text = body.readString(length: body.readableBytes) ?? ""
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode: (Substring) -> String = {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            guard let key = parts.first else { continue }
            fields[decode(key)] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    /// Compares two tokens in time that does not depend on where they differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    static func percentEncoded(_ path: String) -> String {
        path.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "/-_.")))
            ?? "/"
    }
}

/// An answer decided before a page's own work (the login page, a refused form, the gate), sent as it is.
struct EarlyAnswer: Error {
    let response: Response
}
