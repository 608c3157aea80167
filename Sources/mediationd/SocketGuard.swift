import Foundation
import Glibc
import MediationCore

/// Makes sure a second daemon never deletes a live socket: probe the path before binding.
enum SocketGuard {
    /// Returns when the path is free to bind (removing a stale socket file).
    ///
    /// - Throws: `conflict` when another daemon answers there; `invalidInput` when something else is at the path.
    static func prepare(_ path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
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
