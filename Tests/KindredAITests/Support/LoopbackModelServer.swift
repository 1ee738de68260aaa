import Foundation
import NIOCore
import NIOHTTP1
import Vapor

// The model servers the providers talk to in these tests are real HTTP servers on 127.0.0.1 (an ephemeral
// port each), so the requests go through AsyncHTTPClient, TCP and a real HTTP parser exactly as in
// production. The doubles that speak each provider's protocol are in OpenAICompatibleDouble.swift and
// YandexGPTDouble.swift; this file holds what they share: the server, the script of behaviours and the log
// of what was received.

/// What a double does with one request, chosen by the request's arrival number.
enum Behaviour: Sendable {
    /// Answer as the protocol says; `text` replaces the reply the double would make up from the request.
    case ok(String? = nil)
    /// Answer with an error status in the provider's own error format, with `Retry-After` when given.
    case fail(status: Int, retryAfter: String? = nil, message: String = "scripted failure")
    /// Wait, then behave as `then`.
    indirect case delayed(milliseconds: Int, then: Behaviour)

    /// Waits `milliseconds`, then answers normally.
    static func delay(_ milliseconds: Int) -> Behaviour { .delayed(milliseconds: milliseconds, then: .ok()) }
}

/// One part of a multipart/form-data body as the double parsed it.
struct FormPart: Sendable, Hashable {
    var name: String?
    var filename: String?
    var contentType: String?
    var data: Data

    var text: String { String(decoding: data, as: UTF8.self) }
}

/// A request as the double received it.
struct RecordedRequest: Sendable {
    /// 0 for the first request the double received.
    var number: Int
    var path: String
    var headers: HTTPHeaders
    var body: Data
    /// The parts of a multipart/form-data body (empty for JSON bodies).
    var parts: [FormPart]

    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] { JSONText.object(body) ?? [:] }

    func header(_ name: String) -> String? { headers.first(name: name) }

    func part(_ name: String) -> FormPart? { parts.first { $0.name == name } }
}

/// Token counts a double reports instead of the ones it would count (for cost and budget arithmetic).
struct ReportedUsage: Sendable, Hashable {
    var prompt: Int
    var completion: Int
}

/// The scriptable, thread-safe memory of a double: what to do with each request, what was received, and
/// how many requests were being handled at once.
final class RequestLog: @unchecked Sendable {
    private let lock = NSLock()
    private var scripted: [Behaviour] = []
    private var scriptStart = 0
    private var otherwise: Behaviour = .ok()
    private var received: [RecordedRequest] = []
    private var inFlight = 0
    private var peak = 0
    private var usage: ReportedUsage?

    /// The next requests get `behaviours` in order; every request after them gets `otherwise`.
    func script(_ behaviours: [Behaviour], then otherwise: Behaviour = .ok()) {
        lock.withLock {
            scripted = behaviours
            scriptStart = received.count
            self.otherwise = otherwise
        }
    }

    /// Every request from now on gets `behaviour`.
    func always(_ behaviour: Behaviour) { script([], then: behaviour) }

    /// Makes the double report these token counts on every answer.
    func reportUsage(prompt: Int, completion: Int) {
        lock.withLock { usage = ReportedUsage(prompt: prompt, completion: completion) }
    }

    var reportedUsage: ReportedUsage? { lock.withLock { usage } }

    /// How many requests the double has received (answered or not).
    var count: Int { lock.withLock { received.count } }
    var requests: [RecordedRequest] { lock.withLock { received } }
    var last: RecordedRequest? { lock.withLock { received.last } }
    /// The most requests the double was handling at the same time.
    var maxInFlight: Int { lock.withLock { peak } }

    func requests(to path: String) -> [RecordedRequest] { lock.withLock { received.filter { $0.path == path } } }

    /// Records an arriving request and picks its behaviour.
    fileprivate func arrive(path: String, headers: HTTPHeaders, body: Data, parts: [FormPart]) -> (
        RecordedRequest, Behaviour
    ) {
        lock.withLock {
            let number = received.count
            let recorded = RecordedRequest(number: number, path: path, headers: headers, body: body, parts: parts)
            received.append(recorded)
            inFlight += 1
            peak = max(peak, inFlight)
            let position = number - scriptStart
            let behaviour = position >= 0 && position < scripted.count ? scripted[position] : otherwise
            return (recorded, behaviour)
        }
    }

    fileprivate func depart() {
        lock.withLock { inFlight -= 1 }
    }

    /// Records `request`, plays its scripted behaviour (delay, failure) and otherwise lets `answer` reply
    /// with the text the script gave (nil: the double's own reply).
    func play(
        _ request: Request, parts: [FormPart] = [],
        failure: (_ status: Int, _ message: String, _ retryAfter: String?) -> Response,
        answer: (RecordedRequest, String?) async throws -> Response
    ) async throws -> Response {
        let body = request.body.data.map { Data($0.readableBytesView) } ?? Data()
        let (recorded, scripted) = arrive(path: request.url.path, headers: request.headers, body: body, parts: parts)
        defer { depart() }
        var behaviour = scripted
        while case .delayed(let milliseconds, let next) = behaviour {
            try await Task.sleep(for: .milliseconds(milliseconds))
            behaviour = next
        }
        switch behaviour {
        case .fail(let status, let retryAfter, let message):
            return failure(status, message, retryAfter)
        case .ok(let text):
            return try await answer(recorded, text)
        case .delayed:
            preconditionFailure("delays were played above")
        }
    }
}

struct ServerStartFailure: Error, CustomStringConvertible {
    var description: String { "the loopback server has no port" }
}

/// A Vapor server on 127.0.0.1 with an ephemeral port, started the way KindredHarness starts Kindred.
final class LoopbackModelServer: @unchecked Sendable {
    let app: Application
    /// `http://127.0.0.1:<port>`, no path.
    let baseURL: String
    let log: RequestLog

    static func start(log: RequestLog, routes: (Application) -> Void) async throws -> LoopbackModelServer {
        let app = try await Application.make(.testing)
        app.logger.logLevel = .warning
        // Audio uploads are larger than Vapor's 16 KB default for collected bodies.
        app.routes.defaultMaxBodySize = "32mb"
        routes(app)
        do {
            try await app.asyncBoot()
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        guard let port = app.http.server.shared.localAddress?.port else {
            await app.server.shutdown()
            try? await app.asyncShutdown()
            throw ServerStartFailure()
        }
        return LoopbackModelServer(app: app, baseURL: "http://127.0.0.1:\(port)", log: log)
    }

    private init(app: Application, baseURL: String, log: RequestLog) {
        self.app = app
        self.baseURL = baseURL
        self.log = log
    }

    func stop() async {
        await app.server.shutdown()
        try? await app.asyncShutdown()
    }

    /// A loopback URL where nothing listens: a server was bound there and has been stopped.
    static func closedPortURL() async throws -> String {
        let server = try await start(log: RequestLog()) { _ in }
        await server.stop()
        return server.baseURL
    }
}

// MARK: Building answers

enum JSONText {
    /// Canonical JSON (sorted keys), so that equal objects are equal bytes.
    static func data(_ object: Any) -> Data {
        // Test code: every object passed here is made of JSON types.
        try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed])
    }

    static func string(_ object: Any) -> String { String(decoding: data(object), as: UTF8.self) }

    static func object(_ data: Data) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// Whether two JSON values are the same (compared as canonical text).
    static func same(_ left: Any?, _ right: Any?) -> Bool {
        guard let left, let right else { return left == nil && right == nil }
        return data(left) == data(right)
    }
}

extension Response {
    static func json(_ status: Int = 200, _ object: Any, headers extra: [(String, String)] = []) -> Response {
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "application/json")
        for (name, value) in extra { headers.add(name: name, value: value) }
        return Response(
            status: HTTPResponseStatus(statusCode: status), headers: headers, body: .init(data: JSONText.data(object)))
    }

    /// A chunked answer written line by line. Every line goes out in two writes split in its middle (which
    /// may be inside a UTF-8 character), so a client that does not buffer partial lines fails.
    static func streamed(contentType: String, lines: [Data]) -> Response {
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: contentType)
        headers.add(name: .cacheControl, value: "no-cache")
        return Response(
            status: .ok, headers: headers,
            body: .init(managedAsyncStream: { writer in
                for line in lines {
                    let middle = line.count / 2
                    try await writer.writeBuffer(ByteBuffer(bytes: line.prefix(middle)))
                    try await Task.sleep(for: .milliseconds(2))
                    try await writer.writeBuffer(ByteBuffer(bytes: line.dropFirst(middle)))
                }
            }))
    }
}

/// What the doubles say, made up deterministically from the request.
enum MadeUpReply {
    /// The reply to a chat: an echo of the last user message.
    static func text(lastUserMessage: String) -> String { "reply to: \(lastUserMessage)" }

    /// A whitespace-separated word count: the doubles' token count.
    static func words(_ text: String) -> Int { text.split(whereSeparator: \.isWhitespace).count }

    /// The text cut to `limit` words, and whether it was cut.
    static func truncated(_ text: String, toWords limit: Int?) -> (String, Bool) {
        guard let limit else { return (text, false) }
        let words = text.split(whereSeparator: \.isWhitespace)
        guard words.count > limit else { return (text, false) }
        return (words.prefix(limit).joined(separator: " "), true)
    }

    /// The text in pieces of four characters, as a model streams tokens.
    static func pieces(_ text: String) -> [String] {
        let characters = Array(text)
        return stride(from: 0, to: characters.count, by: 4).map {
            String(characters[$0..<min($0 + 4, characters.count)])
        }
    }

    /// A JSON value that satisfies `schema`: every property filled, strings with "x", numbers with 1,
    /// booleans with true, arrays with one item when they need one, enums with their first value.
    static func instance(of schema: [String: Any]) -> Any {
        if let choices = schema["enum"] as? [Any], let first = choices.first { return first }
        var type = schema["type"] as? String
        if let types = schema["type"] as? [String] { type = types.first { $0 != "null" } ?? "null" }
        if type == nil, schema["properties"] != nil { type = "object" }
        switch type {
        case "object":
            var object: [String: Any] = [:]
            for (name, property) in schema["properties"] as? [String: Any] ?? [:] {
                object[name] = instance(of: property as? [String: Any] ?? [:])
            }
            return object
        case "array":
            let minimum = schema["minItems"] as? Int ?? 0
            guard minimum > 0, let items = schema["items"] as? [String: Any] else { return [Any]() }
            return Array(repeating: instance(of: items), count: minimum)
        case "number", "integer": return 1
        case "boolean": return true
        case "null": return NSNull()
        default: return "x"
        }
    }

    /// A short readable message for a body that does not decode.
    static func describe(_ error: Error) -> String {
        guard let error = error as? DecodingError else { return "the body is not valid JSON" }
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing required parameter: '\(path(context.codingPath + [key]))'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "invalid type for '\(path(context.codingPath))'"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "the body is not valid JSON" : "invalid value for '\(path(context.codingPath))'"
        @unknown default:
            return "invalid request body"
        }
    }
}

/// Parses a multipart/form-data body (RFC 7578) with MultipartKit's parser, which is independent of the
/// provider's encoder. nil when the body is not multipart or does not parse.
func parseFormData(_ body: Data, contentType: HTTPMediaType?) -> [FormPart]? {
    guard let contentType, contentType.type == "multipart", contentType.subType == "form-data",
        let boundary = contentType.parameters["boundary"], !boundary.isEmpty
    else { return nil }
    let parser = MultipartParser(boundary: boundary)
    var parts: [FormPart] = []
    var headers = HTTPHeaders()
    var bytes = Data()
    parser.onHeader = { name, value in headers.add(name: name, value: value) }
    parser.onBody = { buffer in bytes.append(contentsOf: buffer.readableBytesView) }
    parser.onPartComplete = {
        let disposition = headers.contentDisposition
        parts.append(
            FormPart(
                name: disposition?.name, filename: disposition?.filename,
                contentType: headers.first(name: .contentType),
                data: bytes))
        headers = HTTPHeaders()
        bytes = Data()
    }
    do {
        try parser.execute(ByteBuffer(bytes: body))
    } catch {
        return nil
    }
    return parts
}
