import ArgumentParser
import Foundation
import MediationAPI

/// The web console's accounts (admin): each has a role and the offices whose casework it sees.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Web console accounts: add, list, passwd, disable, offices (admin).",
        subcommands: [Add.self, List.self, Passwd.self, Disable.self, Offices.self])

    enum RoleName: String, ExpressibleByArgument, CaseIterable {
        case staff, viewer, admin
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a console account; prints its one-time password (admin).",
            discussion: """
                The password is shown once and must be changed at the first sign-in. Staff and viewers see the \
                casework of their offices only; an admin sees every office.
                Example:
                  mediationctl user add zhao.min --role staff --office jinshan --office xinhua
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The name to sign in with: 2–32 letters a–z, digits, '.', '_', '-' (for example wang.li).")
        var name: String
        @Option(help: "staff, viewer or admin.") var role: RoleName
        @Option(name: .customLong("office"), help: "An office whose casework the account sees (repeat for more).")
        var offices: [String] = []

        func validate() throws {
            guard role == .admin || !offices.isEmpty else {
                throw ValidationError("give the offices whose casework a \(role.rawValue) sees, e.g. --office jinshan")
            }
        }

        func run() async throws {
            let body = Components.Schemas.UserCreate(
                name: name, role: .init(rawValue: role.rawValue) ?? .viewer, offices: offices)
            let out = try await global.client().call { try await $0.createUser(body: .json(body)) }
            switch out {
            case .created(let c): try UserCommand.showPassword(try c.body.json, json: global.json, added: true)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the console accounts (admin).",
            discussion: """
                Example:
                  mediationctl user list
                """)
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let out = try await global.client().call { try await $0.listUsers() }
            switch out {
            case .ok(let ok):
                let list = try ok.body.json
                if global.json { return try printJSON(list) }
                var table = Say.table(
                    ("NAME", "用户名"), ("ROLE", "角色"), ("OFFICES", "调解室"), ("STATE", "状态"), ("TWO-STEP", "两步验证"))
                for u in list.users {
                    table.add(
                        u.name, Say.word("account", u.role.rawValue), UserCommand.offices(u), UserCommand.state(u),
                        u.totp == true ? Say.t("on", "已开启") : "-")
                }
                table.print()
                if list.users.isEmpty {
                    print(
                        Say.t("(no accounts yet: add one with ", "（还没有账号：用 ")
                            + "'mediationctl user add wang.li --role admin'" + Say.t(")", " 添加）"))
                }
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give an account a new one-time password, lift a lock-out, end its sessions (admin).",
            discussion: """
                Example:
                  mediationctl user passwd wang.li
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The account's name.") var name: String

        func run() async throws {
            let out = try await global.client().call { try await $0.resetUserPassword(path: .init(user: name)) }
            switch out {
            case .ok(let ok): try UserCommand.showPassword(try ok.body.json, json: global.json, added: false)
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable an account: it can no longer sign in, and its sessions end (admin).",
            discussion: """
                Example:
                  mediationctl user disable wang.li
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The account's name.") var name: String

        func run() async throws {
            let out = try await global.client().call { try await $0.disableUser(path: .init(user: name)) }
            switch out {
            case .ok(let ok):
                let user = try ok.body.json
                if global.json { return try printJSON(user) }
                print(
                    Say.t("user \(user.name) disabled; ", "账号 \(user.name) 已停用；")
                        + "'mediationctl user passwd \(user.name)'" + Say.t(" enables it again", " 可重新启用"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Offices: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the offices whose casework an account sees (admin).",
            discussion: """
                Example:
                  mediationctl user offices wang.li --office jinshan --office hongqiao
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The account's name.") var name: String
        @Option(name: .customLong("office"), help: "An office (repeat for more); these replace the account's offices.")
        var offices: [String] = []

        func run() async throws {
            let out = try await global.client().call {
                try await $0.setUserOffices(path: .init(user: name), body: .json(.init(offices: offices)))
            }
            switch out {
            case .ok(let ok):
                let user = try ok.body.json
                if global.json { return try printJSON(user) }
                print(
                    Say.t(
                        "user \(user.name) (\(user.role.rawValue)) sees \(UserCommand.offices(user))",
                        "账号 \(user.name)（\(Say.word("account", user.role.rawValue))）可查看：\(UserCommand.offices(user))"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    static func offices(_ u: Components.Schemas.User) -> String {
        u.role == .admin && u.offices.isEmpty ? Say.t("(all)", "全部") : u.offices.joined(separator: Say.t(",", "、"))
    }

    static func state(_ u: Components.Schemas.User) -> String {
        if u.disabled { return Say.t("disabled", "已停用") }
        if u.locked { return Say.t("locked", "已锁定") }
        return u.mustChangePassword ? Say.t("one-time password", "一次性密码") : Say.t("active", "正常")
    }

    static func showPassword(_ answer: Components.Schemas.UserPassword, json: Bool, added: Bool) throws {
        if json { return try printJSON(answer) }
        let u = answer.user
        if Say.zh {
            print(
                "账号 \(u.name)（\(Say.word("account", u.role.rawValue))；调解室 \(offices(u))）"
                    + (added ? "已添加" : "已重设密码"))
            print("一次性密码：\(answer.oneTimePassword)")
            print("只显示这一次。\(u.name) 用它登录调解工作台，登录后须立即设置新密码。")
            return
        }
        print("user \(u.name) (\(u.role.rawValue); offices \(offices(u))) \(added ? "added" : "has a new password")")
        print("one-time password: \(answer.oneTimePassword)")
        print("It is shown once. \(u.name) signs in to the web console with it and must choose a new one at once.")
    }
}
