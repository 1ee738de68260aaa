import AsyncHTTPClient
import Fluent
import Foundation
import KindredStore
import NIOCore
import SQLKit
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real `kindred` executable, run as separate processes: killed, restarted, several at once.
@Suite("Crash recovery with real processes", .serialized)
struct CrashRecoveryTests {
    /// The `kindred` binary built beside this test bundle.
    static var kindredBinary: URL? {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
                "kindred"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
                .appendingPathComponent(".build/debug/kindred"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    @Test("a worker SIGKILLed in the middle of a job: after a restart the job finishes exactly once")
    func sigkillMidJob() async throws {
        try await withCleanup { cleanup in try await sigkillMidJob(cleanup) }
    }

    func sigkillMidJob(_ cleanup: Cleanup) async throws {
        guard requireAvailable(AudioFixture.ffmpegAvailable, "ffmpeg") else { return }
        let binary = try #require(Self.kindredBinary, "build the kindred executable first (swift build)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kindred-crash-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        // ffmpeg stand-in: records each start; the first run hangs so the worker can be killed mid-job.
        let runs = directory.appendingPathComponent("ffmpeg-runs")
        let wrapper = directory.appendingPathComponent("slow-ffmpeg")
        try """
        #!/bin/sh
        echo "$$" >> "\(runs.path)"
        if [ "$(wc -l < "\(runs.path)")" -eq 1 ]; then sleep 120; fi
        exec ffmpeg "$@"
        """.write(to: wrapper, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper.path)

        let databasePath = directory.appendingPathComponent("kindred.sqlite").path
        let environment = [
            "KINDRED_DATABASE_URL": "sqlite:\(databasePath)",
            "KINDRED_DATA_DIR": directory.appendingPathComponent("data").path,
            "KINDRED_KEY_FILE": directory.appendingPathComponent("kindred.key").path,
            "KINDRED_BCRYPT_COST": "4",
            "KINDRED_INFERENCE": "off",
            // These tests count jobs: no demo population.
            "KINDRED_DEMO": "off",
            "KINDRED_JOB_POLL_MS": "20",
            "KINDRED_JOB_VISIBILITY_TIMEOUT": "3",
            "KINDRED_FFMPEG": wrapper.path,
        ]

        // 1. Accept an audio diary with the workers off, so the job waits in the queue.
        let port = try freePort()
        let intake = try KindredProcess.start(
            binary, ["serve", "--port", "\(port)"],
            environment: environment.merging(["KINDRED_WORKERS_IN_SERVE": "off"]) { $1 },
            log: directory.appendingPathComponent("serve-1.log"))
        cleanup.add { intake.kill() }
        try await intake.waitForHTTP(port: port)
        let client = LoopbackClient(port: port)
        let token = try await client.register()
        let form = multipart(
            field: "audio", filename: "v.ogg", contentType: "audio/ogg", data: try AudioFixture.make("ogg", seconds: 2))
        let accepted = try await client.send(
            "POST", "/api/v1/diaries", token: token, body: form.body, contentType: form.contentType)
        #expect(accepted.status == 202)
        let diaryID = try #require(accepted.json["id"] as? String)
        intake.terminate()
        await intake.wait()

        // 2. A worker takes the job and is killed while ffmpeg runs.
        let worker = try KindredProcess.start(
            binary, ["worker"], environment: environment, log: directory.appendingPathComponent("worker-1.log"))
        cleanup.add { worker.kill() }
        try await waitUntil("ffmpeg started by the first worker") { lineCount(runs) >= 1 }
        worker.kill()
        await worker.wait()
        if let hung = try? String(contentsOf: runs, encoding: .utf8).split(separator: "\n").first, let pid = Int32(hung)
        {
            Glibc.kill(pid, SIGKILL)
        }
        let store = try StandaloneDatabase(.sqlite(path: databasePath))
        cleanup.add { await store.shutdown() }
        let midway = try await JobRecord.query(on: store.database()).all()
        #expect(midway.count == 1)
        #expect(midway.first?.state == "running", "the dead worker still holds the lease")
        #expect(midway.first?.attempts == 1)

        // 3. Restart: once the lease expires the job runs again and completes.
        let restartPort = try freePort()
        let restarted = try KindredProcess.start(
            binary, ["serve", "--port", "\(restartPort)"], environment: environment,
            log: directory.appendingPathComponent("serve-2.log"))
        cleanup.add { restarted.kill() }
        try await restarted.waitForHTTP(port: restartPort)
        let after = LoopbackClient(port: restartPort)
        try await waitUntil("the diary is ready for analysis", timeout: .seconds(90)) {
            let diary = try await after.send("GET", "/api/v1/diaries/\(diaryID)", token: token)
            return diary.json["status"] as? String == "ready_for_analysis"
        }
        restarted.terminate()
        await restarted.wait()

        let jobs = try await JobRecord.query(on: store.database()).all()
        #expect(jobs.count == 1)
        #expect(jobs.first?.state == "done")
        #expect(jobs.first?.attempts == 2, "one killed run, one completed run")
        #expect(lineCount(runs) == 2, "ffmpeg ran once per attempt, no more")
        let sealed =
            FileManager.default.enumerator(atPath: directory.appendingPathComponent("data/users").path)?
            .allObjects.compactMap { $0 as? String }.filter { $0.hasSuffix(".pcm.wav.sealed") } ?? []
        #expect(sealed.count == 1)
    }

    @Test("several kindred worker processes share one PostgreSQL queue; every job runs once")
    func workersShareThePostgresQueue() async throws {
        try await withCleanup { cleanup in try await workersShareThePostgresQueue(cleanup) }
    }

    func workersShareThePostgresQueue(_ cleanup: Cleanup) async throws {
        guard requireAvailable(KindredHarness.postgresURL != nil, "PostgreSQL (KINDRED_TEST_POSTGRES_URL)"),
            let url = KindredHarness.postgresURL
        else { return }
        let binary = try #require(Self.kindredBinary, "build the kindred executable first (swift build)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kindred-workers-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let schema = try await PostgresSchema.create(on: url, prefix: "w")
        cleanup.add { await schema.drop() }
        let databaseURL = schema.url
        let environment = [
            "KINDRED_DATABASE_URL": databaseURL,
            "KINDRED_ENCRYPTION_KEY": Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString(),
            "KINDRED_DATA_DIR": directory.appendingPathComponent("data").path,
            "KINDRED_BCRYPT_COST": "4",
            "KINDRED_INFERENCE": "off",
            // These tests count jobs: no demo population.
            "KINDRED_DEMO": "off",
            "KINDRED_JOB_POLL_MS": "10",
            "KINDRED_WORKERS_IN_SERVE": "off",
        ]
        let port = try freePort()
        let server = try KindredProcess.start(
            binary, ["serve", "--port", "\(port)"], environment: environment,
            log: directory.appendingPathComponent("serve.log"))
        try await server.waitForHTTP(port: port)
        let client = LoopbackClient(port: port)
        let token = try await client.register()
        let diaries = 40
        for n in 0..<diaries {
            let accepted = try await client.send(
                "POST", "/api/v1/diaries", token: token, json: #"{"text":"день номер \#(n)"}"#)
            #expect(accepted.status == 202)
        }
        let workers = try (0..<2).map { n in
            try KindredProcess.start(
                binary, ["worker"], environment: environment.merging(["KINDRED_WORKER_CONCURRENCY": "4"]) { $1 },
                log: directory.appendingPathComponent("worker-\(n).log"))
        }
        cleanup.add { for worker in workers { worker.kill() } }
        let store = try StandaloneDatabase(DatabaseLocation.parse(databaseURL))
        cleanup.add { await store.shutdown() }
        let queue = JobQueue(database: { store.database() })
        try await waitUntil("all jobs done", timeout: .seconds(90)) { try await queue.counts()[.done] == diaries }
        for worker in workers { worker.terminate() }
        for worker in workers { await worker.wait() }
        server.terminate()
        await server.wait()
        let jobs = try await JobRecord.query(on: store.database()).all()
        #expect(jobs.count == diaries)
        #expect(
            jobs.allSatisfy { $0.state == "done" && $0.attempts == 1 },
            "no job ran twice: \(jobs.filter { $0.attempts != 1 }.map { "\($0.state) \($0.attempts) \($0.lastError ?? "")" })")
    }
}

// MARK: - Process helpers

/// A `kindred` child process with its output in a log file.
final class KindredProcess: @unchecked Sendable {
    let process: Process
    let log: URL

    static func start(_ binary: URL, _ arguments: [String], environment: [String: String], log: URL) throws
        -> KindredProcess
    {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return KindredProcess(process: process, log: log)
    }

    private init(process: Process, log: URL) {
        self.process = process
        self.log = log
    }

    func terminate() { if process.isRunning { process.terminate() } }
    func kill() { if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) } }

    func wait() async {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }

    func waitForHTTP(port: Int) async throws {
        let client = LoopbackClient(port: port)
        try await waitUntil("kindred listening on \(port)", timeout: .seconds(60)) {
            guard self.process.isRunning else {
                let output = (try? String(contentsOf: self.log, encoding: .utf8)) ?? ""
                throw ProcessExited(output: String(output.suffix(3000)))
            }
            return (try? await client.send("GET", "/health").status) == 200
        }
    }

    struct ProcessExited: Error, CustomStringConvertible {
        let output: String
        var description: String { "kindred exited early:\n\(output)" }
    }
}

/// A tiny HTTP client for the child processes.
struct LoopbackClient {
    let port: Int

    struct Answer {
        var status: Int
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    func send(
        _ method: String, _ path: String, token: String? = nil, json: String? = nil, body: Data? = nil,
        contentType: String? = nil
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .init(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        } else if let body {
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Answer(status: Int(response.status.code), body: Data(buffer: buffer))
    }

    func register() async throws -> String {
        let answer = try await send(
            "POST", "/api/v1/auth/register",
            json: """
                {"email":"crash-\(UUID().uuidString.prefix(8).lowercased())@example.com","password":"secret-pass",\
                "displayName":"Вера","birthDate":"1990-06-01","locale":"ru","city":"Новосибирск"}
                """)
        guard answer.status == 201, let token = answer.json["token"] as? String else {
            throw CocoaError(.coderInvalidValue)
        }
        return token
    }
}

/// Things to undo after a test, whether it passed or threw (processes, database pools, schemas).
final class Cleanup: @unchecked Sendable {
    private var steps: [() async -> Void] = []
    func add(_ step: @escaping () async -> Void) { steps.append(step) }
    func run() async {
        for step in steps.reversed() { await step() }
        steps = []
    }
}

func withCleanup(_ body: (Cleanup) async throws -> Void) async throws {
    let cleanup = Cleanup()
    do {
        try await body(cleanup)
    } catch {
        await cleanup.run()
        throw error
    }
    await cleanup.run()
}

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TimedOut(what: what)
}

func lineCount(_ file: URL) -> Int {
    ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n").count
}

/// A loopback port nobody is listening on right now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw CocoaError(.fileReadUnknown) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else { throw CocoaError(.fileReadUnknown) }
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw CocoaError(.fileReadUnknown) }
    return Int(UInt16(bigEndian: address.sin_port))
}

@Suite("kindred analyze")
struct AnalyzeCommandTests {
    @Test("JSON Lines in, one analysis per line out, in order with ids; a bad line gets an error line")
    func jsonl() throws {
        let binary = try #require(CrashRecoveryTests.kindredBinary, "build the kindred executable first (swift build)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("analyze-\(UUID()).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        try """
        {"id":"a","text":"Отдам велосипед, почти новый"}
        not json
        {"id":"c","text":"I need a kettle"}
        """.write(to: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["analyze", "--jsonl", file.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 2, "a bad line makes the exit status non-zero")
        let lines = data.split(separator: 0x0A).map {
            (try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any] ?? [:]
        }
        #expect(lines.count == 3)
        #expect(lines[0]["id"] as? String == "a")
        #expect((lines[0]["offers"] as? [[String: Any]])?.first?["concept"] as? String == "bicycle")
        #expect(lines[1]["error"] != nil)
        #expect(lines[2]["id"] as? String == "c")
        #expect((lines[2]["needs"] as? [[String: Any]])?.first?["concept"] as? String == "kettle")
        #expect((lines[2]["language"] as? [String: Any])?["code"] as? String == "en")
    }
}
