import Foundation
import Glibc
import MediationCore

/// Makes sure a second daemon never deletes a live socket: probe the path before binding.
enum SocketGuard {
    /// Returns when the path is free to bind (removing a stale socket file).
    ///
    /// - Throws: `conflict` when another daemon answers there; `invalidInput` when something else is at the path.
    static func prepare(_ path: String) throws {
        try checkPlace(path)
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw MediationError.invalidInput(
                "\(path) exists and is not a socket", hint: "move it away or set socket.path to another place")
        }
        switch probe(path) {
        case 0:
            throw MediationError.conflict(
                "another mediationd is already serving \(path); stop it first (systemctl stop mediationd) "
                    + "or set socket.path to another place")
        case ECONNREFUSED:
            // Nobody listens: a socket left by a daemon that was killed.
            unlink(path)
        case let code:
            // Anything else (no permission, a full accept queue) may hide a live daemon: leave the socket alone.
            throw MediationError.unavailable(
                "cannot tell whether another daemon serves \(path) (\(String(cString: strerror(code)))); "
                    + "check it, remove the socket if it is stale, and start again")
        }
    }

    /// Checks, before anything is bound, that a socket can be made at `path`: short enough for a Unix socket
    /// address, in a folder the daemon's user may write (created when missing).
    ///
    /// - Throws: `invalidInput` naming socket.path and what to do.
    static func checkPlace(_ path: String) throws {
        guard !path.isEmpty else {
            throw MediationError.invalidInput(
                "socket.path is empty", hint: "give the socket's path, for example /run/mediationd/api.sock")
        }
        guard UnixAddress(path) != nil else {
            throw MediationError.invalidInput(
                "socket.path \(path) is \(path.utf8.count) bytes long; a Unix socket's path holds at most "
                    + "\(UnixAddress.maxPathBytes) bytes",
                hint: "choose a shorter path, for example /run/mediationd/api.sock")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let folder = directory.isEmpty ? "." : directory
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let user = "the daemon's user (uid \(geteuid()))"
        let fix =
            "make the folder writable for uid \(geteuid()) (with systemd, RuntimeDirectory=mediationd makes "
            + "/run/mediationd), or set socket.path (MEDIATIOND_SOCKET_PATH) to a folder it may write"
        var info = stat()
        guard stat(folder, &info) == 0 else {
            throw MediationError.invalidInput(
                "socket.path \(path): its folder \(folder) does not exist and \(user) cannot create it "
                    + "(\(String(cString: strerror(errno))))", hint: fix)
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw MediationError.invalidInput(
                "socket.path \(path): \(folder) is not a folder",
                hint: "set socket.path to a path inside a folder, for example /run/mediationd/api.sock")
        }
        guard access(folder, W_OK | X_OK) == 0 else {
            throw MediationError.invalidInput(
                "socket.path \(path): \(user) may not create the socket in \(folder) "
                    + "(\(String(cString: strerror(errno))))", hint: fix)
        }
    }

    /// Checks that `socket.group` exists and that the daemon may hand the socket to it (root, or a member).
    ///
    /// - Throws: `invalidInput` naming socket.group and what to do.
    static func checkGroup(_ group: String?) throws {
        guard let group else { return }
        guard let entry = getgrnam(group) else {
            throw MediationError.invalidInput(
                "socket.group '\(group)' does not exist on this system, so the socket could not be given to it",
                hint:
                    "create the group (groupadd \(group), or systemd-sysusers with systemd/sysusers.d/mediationd.conf) "
                    + "or leave socket.group out to keep the daemon's own group")
        }
        let gid = entry.pointee.gr_gid
        guard geteuid() != 0, getegid() != gid else { return }
        var list = [gid_t](repeating: 0, count: Int(max(getgroups(0, nil), 0)))
        let count = getgroups(Int32(list.count), &list)
        guard !list.prefix(Int(max(count, 0))).contains(gid) else { return }
        throw MediationError.invalidInput(
            "socket.group '\(group)': the daemon's user (uid \(geteuid())) is not a member, so it cannot give the "
                + "socket to that group",
            hint: "add the user to it (usermod -aG \(group) USER, then start again) or leave socket.group out")
    }

    /// Connects to the path: 0 when something accepts, else the errno of the failed connect.
    static func probe(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        guard let address = UnixAddress(path) else { return ENAMETOOLONG }
        let result = address.withSockaddr { connect(fd, $0, $1) }
        return result == 0 ? 0 : errno
    }

    /// Applies the configured mode and group to the bound socket.
    static func applyPermissions(_ path: String, mode: mode_t, group: String?) throws {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else {
            throw MediationError.unavailable("\(path) is no longer the socket this daemon bound; restart it")
        }
        if let group {
            guard let entry = getgrnam(group) else {
                throw MediationError.invalidInput("socket.group '\(group)' does not exist on this system")
            }
            guard chown(path, uid_t.max, entry.pointee.gr_gid) == 0 else {
                throw MediationError.unavailable(
                    "cannot give \(path) to group \(group): \(String(cString: strerror(errno)))")
            }
        }
        guard chmod(path, mode) == 0 else {
            throw MediationError.unavailable("cannot set mode of \(path): \(String(cString: strerror(errno)))")
        }
    }
}
