import Foundation

/// Sealed files on disk, one folder per person (`<root>/users/<userID>/`), so deleting an account is
/// deleting one folder. Writes are atomic (temporary file, then rename): a crash leaves the old file or
/// the new one, never half of one.
public struct BlobStore: Sendable {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("users"), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
    }

    /// The key of a blob: `users/<user>/<name>`.
    public static func key(user: UUID, name: String) -> String {
        "users/\(user.uuidString.lowercased())/\(name)"
    }

    func url(for key: String) throws -> URL {
        guard !key.contains(".."), !key.hasPrefix("/") else { throw BlobStoreError.invalidKey(key) }
        return root.appendingPathComponent(key)
    }

    public func write(_ data: Data, key: String) throws {
        let url = try url(for: key)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        try data.write(to: url, options: [.atomic])
    }

    public func read(key: String) throws -> Data {
        let url = try url(for: key)
        do {
            return try Data(contentsOf: url)
        } catch {
            throw BlobStoreError.missing(key)
        }
    }

    public func exists(key: String) -> Bool {
        guard let url = try? url(for: key) else { return false }
        return FileManager.default.fileExists(atPath: url.path)
    }

    /// Removes every file of a person. Missing folder is fine (already deleted).
    public func deleteAll(of user: UUID) throws {
        let folder = root.appendingPathComponent("users/\(user.uuidString.lowercased())")
        if FileManager.default.fileExists(atPath: folder.path) {
            try FileManager.default.removeItem(at: folder)
        }
    }

    /// Folders of people, by id, to let a sweep remove the files of accounts that no longer exist
    /// (an account deletion that crashed after its rows were gone).
    public func userFolders() -> [UUID] {
        let folder = root.appendingPathComponent("users")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.compactMap(UUID.init(uuidString:))
    }

    /// A private scratch folder for plaintext that a tool (ffmpeg, ffprobe) must read from a file.
    /// Prefers memory-backed `/dev/shm` so plaintext never reaches a disk; callers delete what they write.
    public func scratchDirectory() throws -> URL {
        let fm = FileManager.default
        let base: URL
        if fm.isWritableFile(atPath: "/dev/shm") {
            base = URL(fileURLWithPath: "/dev/shm/kindred-\(getuid())")
        } else {
            base = root.appendingPathComponent("scratch")
        }
        try fm.createDirectory(at: base, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return base
    }
}

public enum BlobStoreError: Error, Sendable, CustomStringConvertible {
    case invalidKey(String)
    case missing(String)

    public var description: String {
        switch self {
        case .invalidKey(let key): "invalid blob key \(key)"
        case .missing(let key): "blob \(key) is missing"
        }
    }
}
