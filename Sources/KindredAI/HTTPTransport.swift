import AsyncHTTPClient
import Foundation
import KindredCore
import NIOCore
import NIOHTTP1

/// The little HTTP layer the providers share: JSON in, JSON out, errors classified as
/// `ModelProviderError` (status, Retry-After, transport, timeout).
struct HTTPTransport: Sendable {
    let client: HTTPClient
    /// Largest response body accepted (a transcript or a completion is small; an embedding batch less so).
    var maxResponseBytes = 32 * 1024 * 1024

    func post(
        _ url: String, headers: HTTPHeaders, body: Data, timeout: Duration
    ) async throws -> (status: Int, headers: HTTPHeaders, body: Data) {
        let response = try await open(url, headers: headers, body: body, timeout: timeout)
        do {
            let bytes = try await response.body.collect(upTo: maxResponseBytes)
            return (Int(response.status.code), response.headers, Data(bytes.readableBytesView))
        } catch {
            throw Self.classify(error)
        }
    }

    /// Sends a POST and checks the status (an error status becomes `ModelProviderError.http` with the
    /// provider's own message); the body is left to the caller, whole (`post`) or chunk by chunk (streams).
    func open(_ url: String, headers: HTTPHeaders, body: Data, timeout: Duration) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers = headers
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: timeAmount(timeout))
        } catch {
            throw Self.classify(error)
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let bytes = try? await response.body.collect(upTo: 1 << 20)
            throw ModelProviderError.http(
                status: status, retryAfterSeconds: Self.retryAfter(response.headers),
                message: Self.errorMessage(bytes.map { Data($0.readableBytesView) } ?? Data()))
        }
        return response
    }

    func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    static func classify(_ error: Error) -> ModelProviderError {
        if let error = error as? ModelProviderError { return error }
        if let error = error as? HTTPClientError {
            if [.deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout].contains(error) { return .timeout }
            if error == .bodyLengthMismatch { return .invalidResponse("\(error)") }
            if error == .cancelled { return .cancelled }
            return .transport("\(error)")
        }
        if error is NIOTooManyBytesError { return .invalidResponse("the answer is larger than allowed") }
        if error is CancellationError { return .cancelled }
        return .transport("\(error)")
    }

    /// `Retry-After` in seconds or as an HTTP date (RFC 9110 §10.2.3).
    static func retryAfter(_ headers: HTTPHeaders) -> Double? {
        guard let raw = headers.first(name: "retry-after")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(raw), seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: raw) else { return nil }
        return max(0, date.timeIntervalSinceNow)
    }

    /// The provider's own words from an error body: OpenAI's `{"error":{"message"}}`, Yandex's
    /// `{"error":{"message"}}` or `{"message"}`, or the first bytes of whatever came.
    static func errorMessage(_ data: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let error = object["error"] as? [String: Any], let message = error["message"] as? String {
                return message
            }
            if let message = object["error"] as? String { return message }
            if let message = object["message"] as? String { return message }
        }
        return String(decoding: data.prefix(300), as: UTF8.self)
    }

    static func json(_ object: Any) throws -> Data {
        do {
            return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        } catch {
            throw ModelProviderError.invalidRequest("the request could not be encoded: \(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw ModelProviderError.invalidResponse("\(error)")
        }
    }
}

/// Server-sent events as OpenAI-compatible servers stream them: `data: {...}` lines separated by blank
/// lines, ending with `data: [DONE]`.
struct ServerSentEventLines {
    private var pending = Data()

    /// Feeds bytes; returns every complete `data:` payload seen so far.
    mutating func feed(_ bytes: Data) -> [String] {
        pending.append(bytes)
        var payloads: [String] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = pending[pending.startIndex..<newline]
            pending = Data(pending[(newline + 1)...])
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("data:") {
                payloads.append(String(text.dropFirst(5)).trimmingCharacters(in: .whitespaces))
            }
        }
        return payloads
    }
}
