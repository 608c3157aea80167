import Foundation
import Testing

/// A stored value this version cannot read (a newer version's, or a hand edit's) is an answer naming table, column
/// and row, through the real daemon and the real mediationctl: never a default, never a crash, never a 500.
@Suite(.serialized) struct StrictStoreEndToEndTests {
    @Test func aValueTheStoreCannotReadIsNamedAndTheDaemonServesOn() throws {
        let d = try DaemonUnderTest()
        try d.start()
        #expect(try d.ctl("office", "add", "jinshan", "--name", "金山警务室").status == 0)
        let added = try d.ctl(
            "expert", "add", "--name", "王芳", "--role", "lawyer", "--office", "jinshan", "--mobile", "13900000002")
        #expect(added.status == 0, "\(added)")
        let edit = try runProgram(
            "/usr/bin/sqlite3",
            [
                d.databasePath,
                "PRAGMA ignore_check_constraints = ON; UPDATE expert SET role = 'judge' WHERE id = 1; "
                    + "UPDATE office SET time_zone = 'Mars/Olympus' WHERE id = 'jinshan';",
            ])
        #expect(edit.status == 0, "\(edit)")

        let experts = try d.ctl("expert", "list")
        #expect(experts.status == 1, "\(experts)")
        #expect(experts.stderr.contains("table expert, column role of row id 1 holds 'judge'"), "\(experts)")
        #expect(experts.stderr.contains("restore a backup"), "\(experts)")
        #expect(!experts.stdout.contains("律师") && !experts.stdout.contains("lawyer"), "no lawyer invented: \(experts)")
        let office = try d.ctl("office", "show", "jinshan")
        #expect(office.status == 1, "\(office)")
        #expect(
            office.stderr.contains(
                "table office, column time_zone of row id 'jinshan' holds the time zone 'Mars/Olympus'"),
            "\(office)")
        for reply in [experts, office] {
            #expect(!reply.stderr.contains("internal") && !reply.stderr.contains("Fatal error"), "\(reply)")
        }
        #expect(try d.ctl("health").status == 0, "the daemon serves on: \(d.log())")
    }
}
