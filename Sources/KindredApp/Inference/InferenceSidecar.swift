import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Where a running sidecar listens and what it serves, as it writes it to `<home>/sidecar.json`.
public struct SidecarInfo: Codable, Sendable, Hashable {
    public struct Server: Codable, Sendable, Hashable {
        public var base_url: String
        public var model: String
        public var path: String?
    }

    public var pid: Int32
    public var started_at: String?
    public var llm: Server?
    public var asr: Server?
}

/// The local inference sidecar (`inference/sidecar.py`): llama.cpp's server with SmolLM2-135M-Instruct and
/// an OpenAI-compatible transcription server on faster-whisper with Whisper base, both on loopback. This
/// type creates its virtual environment on first use (pinned `requirements.txt`, installed with
/// `--no-deps` because it is a complete lock), starts it, waits for it to answer, and stops it.
public struct InferenceSidecar: Sendable {
    public let home: URL
    public let source: URL
    public let python: String
    public let threads: Int
    let logger: Logger

    public enum Failure: Error, CustomStringConvertible {
        case sourceNotFound
        case pythonMissing(String)
        case installFailed(String)
        case startFailed(String)
        case notRunning

        public var description: String {
            switch self {
            case .sourceNotFound:
                "the sidecar's source (inference/sidecar.py) was not found; run from the repository or set "
                    + "KINDRED_INFERENCE_SOURCE"
            case .pythonMissing(let python):
                "\(python) with the venv module is needed for the local models (Debian: apt-get install python3-venv)"
            case .installFailed(let why): "installing the sidecar's packages failed: \(why)"
            case .startFailed(let why): "the sidecar did not start: \(why)"
            case .notRunning: "the sidecar is not running"
            }
        }
    }

    public init(settings: ModelSettings, logger: Logger = Logger(label: "kindred.inference")) throws {
        home = URL(fileURLWithPath: settings.sidecarHome, isDirectory: true).standardizedFileURL
        guard let source = Self.locateSource(configured: settings.sidecarSource) else { throw Failure.sourceNotFound }
        self.source = source
        python = settings.python
        threads = settings.sidecarThreads
        self.logger = logger
    }

    /// `KINDRED_INFERENCE_SOURCE`, else `inference/` in the working directory or above the executable
    /// (`.build/<triple>/debug/kindred` lives inside the repository).
    static func locateSource(configured: String?) -> URL? {
        let fileManager = FileManager.default
        func valid(_ url: URL) -> Bool {
            fileManager.fileExists(atPath: url.appendingPathComponent("sidecar.py").path)
                && fileManager.fileExists(atPath: url.appendingPathComponent("requirements.txt").path)
        }
        if let configured {
            let url = URL(fileURLWithPath: configured, isDirectory: true)
            return valid(url) ? url : nil
        }
        var starts = [URL(fileURLWithPath: fileManager.currentDirectoryPath, isDirectory: true)]
        if let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            starts.append(executable.deletingLastPathComponent())
        }
        for start in starts {
            var directory = start
            for _ in 0..<8 {
                let candidate = directory.appendingPathComponent("inference", isDirectory: true)
                if valid(candidate) { return candidate.standardizedFileURL }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        return nil
    }

    var stateFile: URL { home.appendingPathComponent("sidecar.json") }
    var logFile: URL { home.appendingPathComponent("sidecar.log") }
    var venv: URL { home.appendingPathComponent("venv", isDirectory: true) }
    var venvPython: URL { venv.appendingPathComponent("bin/python") }

    // MARK: Environment

    /// Creates the virtual environment and installs the pinned packages unless they are already there
    /// (a stamp holds the hash of the requirements it was built from). Safe to run from two processes.
    public func prepareEnvironment() async throws {
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let requirements = try Data(contentsOf: source.appendingPathComponent("requirements.txt"))
        let digest = SHA256.hash(data: requirements).map { String(format: "%02x", $0) }.joined()
        let stamp = venv.appendingPathComponent("kindred-requirements.sha256")
        if (try? String(contentsOf: stamp, encoding: .utf8)) == digest { return }

        let lock = try FileLock(path: home.appendingPathComponent(".install.lock").path)
        try await lock.withLock {
            if (try? String(contentsOf: stamp, encoding: .utf8)) == digest { return }
            logger.notice(
                "installing the local models' packages into \(venv.path) (first run: about a minute, ~1 GB)")
            if !FileManager.default.isExecutableFile(atPath: venvPython.path) {
                guard ProcessRunner.resolve(python) != nil else { throw Failure.pythonMissing(python) }
                let created = try await ProcessRunner.run(python, ["-m", "venv", venv.path])
                guard created.status == 0 else { throw Failure.pythonMissing("\(python): \(created.stderrText)") }
            }
            let installed = try await ProcessRunner.run(
                venvPython.path,
                [
                    "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", "--no-input", "-q", "-r",
                    source.appendingPathComponent("requirements.txt").path,
                ])
            guard installed.status == 0 else { throw Failure.installFailed(installed.stderrText) }
            try Data(digest.utf8).write(to: stamp, options: .atomic)
            logger.notice("the local models' packages are installed")
        }
    }

    // MARK: Running

    /// The sidecar already running for this home, if it answers.
    public func running(client: HTTPClient = .shared) async -> SidecarInfo? {
        guard let data = try? Data(contentsOf: stateFile),
            let info = try? JSONDecoder().decode(SidecarInfo.self, from: data),
            Self.isAlive(info.pid)
        else { return nil }
        return await healthy(info, client: client) ? info : nil
    }

    /// A started sidecar. `process` is set when this process owns it (attached mode).
    public struct Started: Sendable {
        public var info: SidecarInfo
        public var ownedProcess: Int32?
    }

    /// Starts the sidecar unless one is running already. `detached` leaves it running after this process
    /// exits (`kindred inference start`); otherwise the caller stops it (`kindred serve`).
    public func start(detached: Bool, client: HTTPClient = .shared, timeout: Duration = .seconds(180)) async throws
        -> Started
    {
        if let info = await running(client: client) { return Started(info: info, ownedProcess: nil) }
        try await prepareEnvironment()
        try? FileManager.default.removeItem(at: stateFile)
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        try log.seekToEnd()

        let process = Process()
        var arguments = [
            venvPython.path, source.appendingPathComponent("sidecar.py").path, "--home", home.path, "--threads",
            "\(threads)",
        ]
        if detached, let setsid = ProcessRunner.resolve("setsid") {
            // Its own session: a terminal's hang-up or Ctrl-C does not reach it.
            arguments.insert(setsid, at: 0)
        }
        process.executableURL = URL(fileURLWithPath: arguments.removeFirst())
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = log
        do {
            try process.run()
        } catch {
            throw Failure.startFailed("\(error)")
        }
        try? log.close()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let data = try? Data(contentsOf: stateFile),
                let info = try? JSONDecoder().decode(SidecarInfo.self, from: data), Self.isAlive(info.pid)
            {
                guard await healthy(info, client: client) else { break }
                return Started(info: info, ownedProcess: detached ? nil : process.processIdentifier)
            }
            if !process.isRunning, !detached || process.terminationStatus != 0 {
                throw Failure.startFailed(lastError())
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        if process.isRunning { process.terminate() }
        throw Failure.startFailed("not ready within \(timeout); see \(logFile.path): \(lastError())")
    }

    /// Stops the sidecar recorded in `sidecar.json` (or the given pid). Returns whether one was running.
    @discardableResult
    public func stop(pid given: Int32? = nil) async -> Bool {
        var pid = given
        if pid == nil, let data = try? Data(contentsOf: stateFile),
            let info = try? JSONDecoder().decode(SidecarInfo.self, from: data)
        {
            pid = info.pid
        }
        guard let pid, Self.isAlive(pid) else {
            try? FileManager.default.removeItem(at: stateFile)
            return false
        }
        kill(pid, SIGTERM)
        for _ in 0..<100 where Self.isAlive(pid) {
            Self.reap(pid)
            try? await Task.sleep(for: .milliseconds(100))
        }
        if Self.isAlive(pid) { kill(pid, SIGKILL) }
        Self.reap(pid)
        try? FileManager.default.removeItem(at: stateFile)
        return true
    }

    func healthy(_ info: SidecarInfo, client: HTTPClient) async -> Bool {
        for server in [info.llm, info.asr].compactMap({ $0 }) {
            var root = server.base_url
            if root.hasSuffix("/v1") { root.removeLast(3) }
            var request = HTTPClientRequest(url: root + "/health")
            request.method = .GET
            guard let response = try? await client.execute(request, timeout: .seconds(5)),
                response.status == .ok
            else { return false }
            _ = try? await response.body.collect(upTo: 1 << 16)
        }
        return true
    }

    /// The sidecar's own words about why it failed (its `ERROR` line), else the end of its log.
    func lastError() -> String {
        guard let data = try? Data(contentsOf: logFile) else { return "no log" }
        let lines = String(decoding: data.suffix(8192), as: UTF8.self).split(separator: "\n")
        if let error = lines.last(where: { $0.hasPrefix("ERROR ") }) { return String(error.dropFirst(6)) }
        return lines.suffix(3).joined(separator: " | ")
    }

    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 { return false }
        // A zombie child still answers kill(0): look at its state.
        if let status = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = status.lastIndex(of: ")")
        {
            let state = status[status.index(after: close)...].trimmingCharacters(in: .whitespaces).first
            return state != "Z"
        }
        return true
    }

    static func reap(_ pid: Int32) {
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
    }
}

/// An exclusive advisory lock on a file (flock), held across an async section.
struct FileLock {
    let descriptor: Int32

    init(path: String) throws {
        descriptor = open(path, O_CREAT | O_RDWR, 0o600)
        guard descriptor >= 0 else { throw InferenceSidecar.Failure.installFailed("cannot open \(path)") }
    }

    func withLock<T>(_ body: () async throws -> T) async throws -> T {
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            try await Task.sleep(for: .milliseconds(200))
        }
        defer {
            flock(descriptor, LOCK_UN)
            close(descriptor)
        }
        return try await body()
    }
}
