import Foundation
import Testing

/// The web console's accounts, administered through the real mediationctl over the real socket (issue 16, item 2).
@Suite(.serialized) struct UserEndToEndTests {
    private func sqlite(_ db: String, _ sql: String) throws -> Outcome {
        try runProgram("/usr/bin/sqlite3", [db, sql])
    }

    /// The one-time password printed by the line `one-time password: …`.
    static func oneTimePassword(_ output: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix("one-time password: ") }.map {
            String($0.dropFirst("one-time password: ".count))
        }
    }

    /// add prints a one-time password (never stored as such), list shows the account's role, offices and state,
    /// passwd gives a new one, offices replaces them, disable disables; each is audited, and refusals say what to do.
    @Test func anAdminAddsListsResetsMovesAndDisablesAnAccount() throws {
        let d = try DaemonUnderTest()
        try d.start()
        #expect(try d.ctl("office", "add", "jinshan", "--name", "金山警务室").status == 0)
        #expect(try d.ctl("office", "add", "xinhua", "--name", "新华警务室").status == 0)

        let added = try d.ctl("user", "add", "Wang.Li", "--role", "staff", "--office", "jinshan")
        #expect(added.status == 0, "\(added)")
        #expect(added.stdout.contains("user wang.li (staff; offices jinshan) added"), "\(added)")
        let first = try #require(Self.oneTimePassword(added.stdout), "\(added)")
        #expect(first.count == 16)
        // Only a bcrypt hash of cost 12 is stored, never the password.
        let stored = try sqlite(d.databasePath, "SELECT * FROM console_user")
        #expect(!stored.stdout.contains(first), "\(stored)")
        #expect(stored.stdout.contains("$2b$12$") || stored.stdout.contains("$2a$12$"), "\(stored)")

        let list = try d.ctl("user", "list")
        #expect(list.status == 0, "\(list)")
        #expect(list.stdout.contains("wang.li") && list.stdout.contains("one-time password"), "\(list)")
        let json = try #require(try d.json("user", "list") as? [String: Any])
        let users = try #require(json["users"] as? [[String: Any]])
        #expect(users.count == 1)
        #expect(users.first?["offices"] as? [String] == ["jinshan"])
        #expect(users.first?["mustChangePassword"] as? Bool == true)
        #expect(!"\(json)".contains(first) && !"\(json)".lowercased().contains("hash"), "\(json)")

        let again = try d.ctl("user", "passwd", "wang.li")
        #expect(again.status == 0 && again.stdout.contains("has a new password"), "\(again)")
        let second = try #require(Self.oneTimePassword(again.stdout))
        #expect(second != first)

        let moved = try d.ctl("user", "offices", "wang.li", "--office", "jinshan", "--office", "xinhua")
        #expect(moved.status == 0 && moved.stdout.contains("sees jinshan,xinhua"), "\(moved)")

        let disabled = try d.ctl("user", "disable", "wang.li")
        #expect(disabled.status == 0 && disabled.stdout.contains("disabled"), "\(disabled)")
        let state = try #require(try d.json("user", "list") as? [String: Any])
        #expect((state["users"] as? [[String: Any]])?.first?["disabled"] as? Bool == true, "\(state)")

        let admin = try d.ctl("user", "add", "zhao.min", "--role", "admin")
        #expect(admin.status == 0 && admin.stdout.contains("offices (all)"), "\(admin)")

        // Each change is in the audit trail, without a password.
        let audit = try d.ctl("audit", "list")
        for action in ["user.add", "user.passwd", "user.offices", "user.disable"] {
            #expect(audit.stdout.contains(action), "\(action): \(audit)")
        }
        #expect(!audit.stdout.contains(first) && !audit.stdout.contains(second))

        // Refusals: what was wrong and what to do, nothing written (exit 2: the input is to correct).
        let taken = try d.ctl("user", "add", "wang.li", "--role", "viewer", "--office", "jinshan")
        #expect(taken.status == 2 && taken.stderr.contains("already exists"), "\(taken)")
        #expect(taken.stderr.contains("user passwd wang.li"), "\(taken)")
        let noOffice = try d.ctl("user", "add", "li.na", "--role", "staff")
        #expect(noOffice.status == 2 && noOffice.stderr.contains("--office jinshan"), "\(noOffice)")
        let unknownOffice = try d.ctl("user", "add", "li.na", "--role", "viewer", "--office", "pudong")
        #expect(unknownOffice.status == 2 && unknownOffice.stderr.contains("pudong"), "\(unknownOffice)")
        let badName = try d.ctl("user", "add", "王丽", "--role", "staff", "--office", "jinshan")
        #expect(badName.status == 2 && badName.stderr.contains("account's name"), "\(badName)")
        let badRole = try d.ctl("user", "add", "li.na", "--role", "boss", "--office", "jinshan")
        #expect(badRole.status == 2 && badRole.stderr.contains("staff"), "\(badRole)")
        let nobody = try d.ctl("user", "passwd", "nobody.here")
        #expect(nobody.status == 2 && nobody.stderr.contains("no user 'nobody.here'"), "\(nobody)")
        #expect(nobody.stderr.contains("wang.li"), "names the accounts there are: \(nobody)")
        let count = try sqlite(d.databasePath, "SELECT COUNT(*) FROM console_user")
        #expect(count.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2", "\(count)")
    }

    /// Accounts are the administrator's: a viewer (and so staff) is refused every user command, naming the role.
    @Test func onlyAnAdminAdministersAccounts() throws {
        let d = try DaemonUnderTest(socketMode: "0666", viewerGroups: ["nogroup"])
        try d.start()
        #expect(try d.ctl("office", "add", "jinshan", "--name", "金山警务室").status == 0)
        let asViewer = [
            "--reuid=nobody", "--regid=nogroup", "--clear-groups", try d.ctlForOtherUsers(), "--socket", d.socket,
        ]
        for args in [
            ["user", "list"], ["user", "add", "li.na", "--role", "admin"], ["user", "passwd", "li.na"],
            ["user", "disable", "li.na"], ["user", "offices", "li.na", "--office", "jinshan"],
        ] {
            let refused = try runProgram("/usr/bin/setpriv", asViewer + args)
            #expect(refused.status == 1 && refused.stderr.contains("needs the admin role"), "\(args): \(refused)")
        }
        let count = try sqlite(d.databasePath, "SELECT COUNT(*) FROM console_user")
        #expect(count.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(count)")
    }
}
