import AsyncHTTPClient
import Foundation
import KindredApp
import KindredStore
import NIOCore
import NIOHTTP1
import SQLKit
import Testing
import Vapor

enum Backend: String, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// Says whether a test that needs an outside tool or server can run; in CI a missing one is a failure.
func requireAvailable(_ available: Bool, _ what: String) -> Bool {
    if available { return true }
    if ProcessInfo.processInfo.environment["CI"] != nil {
        Issue.record("\(what) is required in CI but is not available")
    } else {
        print("◇ skipped: \(what) is not available here")
    }
    return false
}

/// An HTTP answer, with the body parsed as JSON when it is JSON.
struct HTTPResult: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: Data

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
    }
    var text: String { String(decoding: body, as: UTF8.self) }
    var contentType: String { headers.first(name: .contentType) ?? "" }
    var isProblem: Bool { contentType.hasPrefix("application/problem+json") }
    var problemCode: String? { json["code"] as? String }
}

/// A real Kindred server (real HTTP on a loopback port, real database, real workers) private to one test.
final class KindredHarness: @unchecked Sendable {
    let app: Application
    let directory: URL
    let baseURL: String
    private let schema: PostgresSchema?

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["KINDRED_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// nil when the backend is unavailable here (and that was reported).
    static func start(_ backend: Backend = .sqlite, environment overrides: [String: String] = [:], demo: Bool = false) async throws
        -> KindredHarness?
    {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kindred-app-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var environment: [String: String] = [
            "KINDRED_DATA_DIR": directory.appendingPathComponent("data").path,
            "KINDRED_KEY_FILE": directory.appendingPathComponent("kindred.key").path,
            "KINDRED_BCRYPT_COST": "4",
            "KINDRED_JOB_POLL_MS": "20",
            "KINDRED_JOB_BACKOFF_SECONDS": "0.05",
            "KINDRED_LOG_LEVEL": "warning",
            // Model tests opt in to the local sidecar explicitly.
            "KINDRED_INFERENCE": "off",
        ]
        var schema: PostgresSchema?
        switch backend {
        case .sqlite:
            environment["KINDRED_DATABASE_URL"] = "sqlite:" + directory.appendingPathComponent("kindred.sqlite").path
        case .postgres:
            guard requireAvailable(Self.postgresURL != nil, "PostgreSQL (KINDRED_TEST_POSTGRES_URL)"),
                let url = Self.postgresURL
            else { return nil }
            let created = try await PostgresSchema.create(on: url, prefix: "a")
            schema = created
            environment["KINDRED_DATABASE_URL"] = created.url
            environment["KINDRED_ENCRYPTION_KEY"] = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
                .base64EncodedString()
        }
        environment.merge(overrides) { $1 }

        let configuration = try KindredConfiguration(environment: environment)
        let app = try await Application.make(.testing)
        do {
            try await KindredApplication.configure(app, configuration: configuration, runWorkers: true, demo: demo)
            try await app.asyncBoot()
            // A test that must know the port before the start (a webhook URL) passes KINDRED_PORT.
            try await app.server.start(address: .hostname("127.0.0.1", port: Int(environment["KINDRED_PORT"] ?? "") ?? 0))
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        guard let port = app.http.server.shared.localAddress?.port else {
            try? await app.asyncShutdown()
            throw Abort(.internalServerError, reason: "server has no port")
        }
        return KindredHarness(
            app: app, directory: directory, baseURL: "http://127.0.0.1:\(port)", schema: schema)
    }

    private init(app: Application, directory: URL, baseURL: String, schema: PostgresSchema?) {
        self.app = app
        self.directory = directory
        self.baseURL = baseURL
        self.schema = schema
    }

    func stop() async {
        await app.server.shutdown()
        try? await app.asyncShutdown()
        await schema?.drop()
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: HTTP

    func request(
        _ method: HTTPMethod, _ path: String, token: String? = nil, json: String? = nil, body: Data? = nil,
        contentType: String? = nil, headers extra: [(String, String)] = []
    ) async throws -> HTTPResult {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let json {
            request.headers.add(name: "Content-Type", value: contentType ?? "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        } else if let body {
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        for (name, value) in extra { request.headers.replaceOrAdd(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let buffer = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return HTTPResult(status: response.status, headers: response.headers, body: Data(buffer: buffer))
    }

    struct Account {
        var token: String
        var id: String
        var email: String
    }

    /// Registers a fresh adult and returns their session.
    func register(
        email: String = "person-\(UUID().uuidString.prefix(8).lowercased())@example.com", locale: String = "ru",
        password: String = "correct horse"
    ) async throws -> Account {
        let result = try await request(
            .POST, "/api/v1/auth/register",
            json: """
                {"email":"\(email)","password":"\(password)","displayName":"Маша","birthDate":"1994-03-08",\
                "locale":"\(locale)","city":"Москва"}
                """)
        #expect(result.status == .created, "\(result.text)")
        let user = try #require(result.json["user"] as? [String: Any])
        return Account(
            token: try #require(result.json["token"] as? String), id: try #require(user["id"] as? String), email: email)
    }

    /// Polls a diary until its status is one of `statuses` (or gives up after `timeout`).
    func waitForDiary(_ id: String, token: String, statuses: Set<String>, timeout: Duration = .seconds(60)) async throws
        -> [String: Any]
    {
        let deadline = ContinuousClock.now + timeout
        var last: [String: Any] = [:]
        while ContinuousClock.now < deadline {
            last = try await request(.GET, "/api/v1/diaries/\(id)", token: token).json
            if let status = last["status"] as? String, statuses.contains(status) { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("diary \(id) did not reach \(statuses); last: \(last)")
        return last
    }
}

/// Runs `body` with a started harness and always stops it.
func withKindred(
    _ backend: Backend = .sqlite, environment: [String: String] = [:], demo: Bool = false,
    _ body: (KindredHarness) async throws -> Void
) async throws {
    guard let harness = try await KindredHarness.start(backend, environment: environment, demo: demo) else { return }
    do {
        try await body(harness)
    } catch {
        await harness.stop()
        throw error
    }
    await harness.stop()
}

/// A multipart/form-data body with one file field.
func multipart(field: String, filename: String, contentType: String, data: Data) -> (body: Data, contentType: String) {
    let boundary = "kindred-\(UUID().uuidString)"
    var body = Data()
    body.append(Data("--\(boundary)\r\n".utf8))
    body.append(Data("Content-Disposition: form-data; name=\"\(field)\"; filename=\"\(filename)\"\r\n".utf8))
    body.append(Data("Content-Type: \(contentType)\r\n\r\n".utf8))
    body.append(data)
    body.append(Data("\r\n--\(boundary)--\r\n".utf8))
    return (body, "multipart/form-data; boundary=\(boundary)")
}

/// Recordings made with ffmpeg's tone generator, in each accepted container.
enum AudioFixture {
    static var ffmpegAvailable: Bool {
        ["/usr/bin/ffmpeg", "/usr/local/bin/ffmpeg"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Encodes `seconds` of a 440 Hz tone as `format` (ogg, webm, wav, mp3, m4a).
    static func make(_ format: String, seconds: Double) throws -> Data {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kindred-audio-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let codec: [String]
        switch format {
        case "ogg", "webm": codec = ["-c:a", "libopus", "-b:a", "16k"]
        case "mp3": codec = ["-c:a", "libmp3lame", "-b:a", "32k"]
        case "m4a": codec = ["-c:a", "aac", "-b:a", "32k"]
        default: codec = ["-c:a", "pcm_s16le"]
        }
        let output = directory.appendingPathComponent("fixture.\(format)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                "ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                "sine=frequency=440:sample_rate=48000:duration=\(seconds)", "-ac", "1",
            ] + codec + ["-y", output.path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        return try Data(contentsOf: output)
    }
}
