import MediationCore

/// The console's own labels, zh and en: the page chrome. The words for the product's values (roles, statuses, risk
/// levels, categories) come from Core's `Words`, not from here.
enum WebText {
    static func labels(_ language: Language) -> [String: String] {
        language == .zh ? zh : en
    }

    private static let zh: [String: String] = [
        "product": "调解工作台", "dashboard": "工作台", "disputes": "纠纷", "logout": "退出", "login": "登录",
        "otherLanguage": "English", "userName": "用户名", "password": "密码", "changePassword": "修改密码",
        "mustChange": "这是一次性密码，请先设置您自己的密码。", "currentPassword": "当前密码", "newPassword": "新密码",
        "repeatPassword": "再次输入新密码", "save": "保存", "passwordChanged": "密码已修改。", "todaySessions": "今日调解",
        "weekSessions": "本周调解",
        "warnings": "预警", "followUpsDue": "待回访", "overdue": "逾期", "undeliverable": "未送达的通知",
        "undeliverableFix": "请核对收件人的手机号或邮箱，改正后由工作人员重新发送。", "sessionWord": "调解场次",
        "none": "暂无", "noOffices": "您的账号还没有分配调解室，请联系管理员。", "search": "搜索", "number": "编号",
        "disputeTitle": "纠纷名称", "category": "类别", "risk": "风险", "status": "状态", "opened": "登记时间",
        "office": "调解室", "parties": "当事人", "partyName": "姓名", "mobile": "手机号", "sessionsTitle": "调解场次",
        "backHome": "返回工作台", "notFound": "未找到", "forbidden": "禁止访问", "badRequest": "请求有误",
        "unavailable": "暂时无法处理", "admin": "管理", "users": "账号", "role": "角色", "offices": "调解室",
        "accountState": "状态", "week": "日程", "review": "研判", "previousWeek": "上一周", "nextWeek": "下一周",
        "chooseOffice": "调解室", "show": "查看", "panel": "专家", "sessionsCount": "场调解", "print": "打印",
        "downloadCSV": "下载 CSV（Excel）", "printHint": "打印：按 Ctrl+P，只打印报表，按 A4 纸排版。", "weekGrid": "本周日程",
        "weekNumber": "周次", "intake": "登记纠纷", "register": "登记",
        "riskReason": "风险判断理由", "idCard": "身份证号", "partyHours": "每周可参加的时间（如 周六 09:00-12:00）",
        "side": "身份", "elements": "纠纷要素", "element-occurredAt": "发生时间（如 2026-12-01 14:30）",
        "element-location": "地点", "element-cause": "诱因", "element-nature": "性质", "element-scale": "涉及人数",
        "element-involved": "人员构成", "element-development": "事态发展", "party": "当事人",
        "intakeHint": "至少填写两位当事人；空着的当事人行不登记。带 * 的为必填项。", "registered": "纠纷已登记。",
        "formProblems": "有几处需要改正，已在各栏下方标出；尚未登记。",
        "find": "预约调解", "book": "预约", "bookThis": "预约此时间", "fromDay": "从（日期）", "toDay": "到（日期）",
        "minutes": "时长（分钟，可不填）", "policyWord": "专家组成", "policyDefault": "按类别默认", "options": "可选时间",
        "minuteWord": "分钟", "noOptions": "这段时间内找不到专家和当事人都有空的时间。可以放宽日期范围，或换一种专家组成。",
        "nearest": "最近的可选时间：", "bookedNote": "已预约，通知将发给专家和当事人。", "searchAgain": "重新查找时间",
        "time": "时间", "cancelReason": "取消原因", "room": "视频会议室", "answer": "回复", "startSession": "开始调解",
        "endSession": "结束调解", "noShow": "当事人缺席", "cancelSession": "取消本场调解", "outcome": "调解结果",
        "result": "结果", "terms": "协议内容", "amount": "金额（元）", "signedWord": "双方已签字", "yes": "是", "no": "否",
        "recordOutcome": "记录调解结果", "referredTo": "移交给（移交时填写）", "notes": "备注", "saved": "已保存。", "experts": "专家库",
        "allOffices": "全部调解室", "specialties": "专长", "hoursWord": "每周时间", "freeTime": "空闲时间",
        "leaveWord": "请假", "extraWord": "额外时间", "inactive": "已停用", "zoneWord": "时区", "allRoles": "全部角色",
        "allOfficesOption": "全部调解室", "freeWord": "有空",
        "usersHint": "账号在服务器上管理：'mediationctl user --help' 列出添加、重设密码、停用和设置调解室的命令。",
    ]

    private static let en: [String: String] = [
        "product": "Mediation console", "dashboard": "Dashboard", "disputes": "Disputes", "logout": "Sign out",
        "login": "Sign in", "otherLanguage": "中文", "userName": "User name", "password": "Password",
        "changePassword": "Change password", "mustChange": "This is a one-time password: set your own first.",
        "currentPassword": "Current password", "newPassword": "New password", "repeatPassword": "New password again",
        "save": "Save", "passwordChanged": "Your password was changed.", "todaySessions": "Today's sessions",
        "weekSessions": "This week's sessions", "warnings": "Warnings", "followUpsDue": "Follow-up visits due",
        "overdue": "overdue", "undeliverable": "Notices not delivered",
        "undeliverableFix": "Check the recipient's mobile or e-mail; once corrected, staff send it again.",
        "sessionWord": "Session", "none": "None", "noOffices": "Your account has no office yet: ask an admin.",
        "search": "Search", "number": "Number", "disputeTitle": "Title", "category": "Category", "risk": "Risk",
        "status": "Status", "opened": "Opened", "office": "Office", "parties": "Parties", "partyName": "Name",
        "mobile": "Mobile", "sessionsTitle": "Sessions", "backHome": "Back to the dashboard", "notFound": "Not found",
        "forbidden": "Forbidden", "badRequest": "Bad request", "unavailable": "Cannot be done now", "admin": "Admin",
        "users": "Accounts", "role": "Role", "offices": "Offices", "accountState": "State", "week": "Week",
        "review": "Review", "previousWeek": "Previous week", "nextWeek": "Next week", "chooseOffice": "Office",
        "show": "Show", "panel": "Panel", "sessionsCount": "sessions", "print": "Print",
        "downloadCSV": "Download CSV (Excel)",
        "printHint": "To print, press Ctrl+P: the report alone, laid out for A4.",
        "weekGrid": "The week", "weekNumber": "Week", "intake": "Register a dispute", "register": "Register",
        "riskReason": "Why this risk level", "idCard": "ID-card number",
        "partyHours": "When they can attend each week (e.g. sat 09:00-12:00)", "side": "Side",
        "elements": "The dispute's elements", "element-occurredAt": "When it happened (e.g. 2026-12-01 14:30)",
        "element-location": "Where", "element-cause": "Cause", "element-nature": "Nature",
        "element-scale": "People involved", "element-involved": "Who is involved",
        "element-development": "How it developed",
        "party": "Party",
        "intakeHint": "Give at least two parties; blank party rows are not registered. * is required.",
        "registered": "The dispute is registered.",
        "formProblems": "Some fields need correcting, marked below each; nothing was registered yet.",
        "find": "Find a time", "book": "Book", "bookThis": "Book this time", "fromDay": "From (day)",
        "toDay": "To (day)", "minutes": "Length (minutes, optional)", "policyWord": "Panel",
        "policyDefault": "The category's default", "options": "Times", "minuteWord": "minutes",
        "noOptions":
            "No time in these days when a full panel and the parties are free: widen the days or choose another panel.",
        "nearest": "The nearest time:", "bookedNote": "Booked: the experts and the parties will be told.",
        "searchAgain": "Find a time again",
        "time": "Time", "cancelReason": "Reason for cancelling", "room": "Video room", "answer": "Answer",
        "startSession": "Start the session", "endSession": "End the session", "noShow": "The parties did not come",
        "cancelSession": "Cancel this session", "outcome": "Outcome", "result": "Result", "terms": "Terms agreed",
        "amount": "Amount (yuan)", "signedWord": "Signed by the parties", "yes": "yes", "no": "no",
        "recordOutcome": "Record the outcome", "referredTo": "Referred to (for a referral)", "notes": "Notes",
        "saved": "Saved.", "experts": "Experts", "allOffices": "all offices", "specialties": "Specialties",
        "hoursWord": "Weekly hours", "freeTime": "Free time", "leaveWord": "Leave", "extraWord": "Extra time",
        "inactive": "inactive", "zoneWord": "Time zone", "allRoles": "All roles", "allOfficesOption": "All offices",
        "freeWord": "free",
        "usersHint": "Accounts are administered on the server: 'mediationctl user --help' lists the commands.",
    ]

    /// The messages the console itself says, by language.
    static func message(_ key: String, _ language: Language) -> String {
        let zh: [String: String] = [
            "wrongLogin": "用户名或密码错误。", "locked": "账号已锁定，请于 %@ 后再试，或请管理员重设密码。",
            "disabled": "该账号已停用，请联系管理员。", "role": "您的角色无权打开此页面。", "csrf": "表单已过期或来源不明，未做任何修改。请返回重新提交。",
            "notFound": "没有这个纠纷，或您无权查看。", "page": "没有这个页面。",
            "unavailable": "数据暂时无法读取，请稍后再试。",
            "badWeek": "“%@”不是一个周次，请写成 2026-W49 的形式（第 01 至 52 或 53 周）。",
            "chooseOffice": "请选择您的调解室。", "scaleNumber": "涉及人数请填写数字，如 3。",
            "twoParties": "请至少填写两位当事人（申请人和被申请人）。",
            "giveDay": "请填写日期，如 2026-12-14。", "badStatus": "无法识别的操作“%@”。",
            "sessionRefused": "现在不能这样做（例如开始时间未到，或本场调解已结束）；未做任何修改。", "minutesNumber": "时长请填写分钟数，如 90。",
            "cannotSearch": "这个纠纷现在无法预约（可能已结案或已有预约），请查看案卷。", "noOption": "没有选择时间“%@”。",
            "bookConflict": "这个时间刚被占用或查找结果已过期，未做预约。请重新查找时间。",
            "invalidInput": "输入有误，未做任何修改。请检查后重新提交。",
        ]
        let en: [String: String] = [
            "wrongLogin": "Wrong user name or password.",
            "locked": "The account is locked: try again after %@, or ask an admin for a new password.",
            "disabled": "This account is disabled: ask an admin.",
            "role": "Your role may not open this page.",
            "csrf":
                "The form has expired or did not come from this console; nothing was changed. Go back and send it again.",
            "notFound": "No such dispute, or not yours to see.", "page": "No such page.",
            "unavailable": "The data cannot be read now; try again shortly.",
            "badWeek": "'%@' is not a week: write it like 2026-W49 (weeks 01 to 52 or 53).",
            "chooseOffice": "Choose one of your offices.", "scaleNumber": "Give the number of people, such as 3.",
            "twoParties": "Give at least two parties (the applicant and the respondent).",
            "giveDay": "Give a day, such as 2026-12-14.", "badStatus": "'%@' is not something to do with a session.",
            "sessionRefused": "That cannot be done now; nothing was changed.",
            "minutesNumber": "Give the length in minutes, such as 90.",
            "cannotSearch": "This dispute cannot be booked now.", "noOption": "No time '%@' was chosen.",
            "bookConflict": "That time was just taken or the search is stale; nothing was booked. Find a time again.",
            "invalidInput": "The input cannot be used; nothing was changed. Check it and send it again.",
        ]
        return (language == .zh ? zh : en)[key] ?? key
    }
}
