import Foundation
import KindredCore
import Vapor

/// Turns every error into an RFC 9457 problem, in the caller's language, and never lets one escape.
/// Server-side failures are logged with the request id; their details never reach the client.
struct ProblemMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            return Self.response(for: error, request: request)
        }
    }

    static func problem(for error: any Error, request: Request) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let userFacing as any UserFacingError:
            return Problem.from(userFacing)
        case let decoding as DecodingError:
            // Query strings and multipart forms decoded by Vapor (JSON bodies go through `jsonObject()`).
            let (field, detail) = Self.describe(decoding)
            return Problem(
                .badRequest, "invalid-field", ["field": field, "detail": detail], extensions: ["field": field])
        case let abort as any AbortError:
            switch abort.status {
            case .notFound: return .notFound
            case .payloadTooLarge: return Problem(.payloadTooLarge, "payload-too-large")
            case .methodNotAllowed: return Problem(.methodNotAllowed, "method-not-allowed")
            case .unsupportedMediaType:
                return Problem(
                    .unsupportedMediaType, "unsupported-media-type",
                    ["expected": "application/json", "actual": request.headers.contentType?.description ?? "nothing"])
            case .unauthorized: return .unauthorized
            case .badRequest:
                return Problem(.badRequest, "malformed-json", ["detail": abort.reason])
            default:
                if abort.status.code >= 500 {
                    request.logger.error("request failed", metadata: ["error": "\(error)"])
                    return Problem(abort.status, "internal")
                }
                return Problem(abort.status, "invalid-field", ["field": "request", "detail": abort.reason])
            }
        default:
            request.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            return Problem(.internalServerError, "internal")
        }
    }

    static func describe(_ error: DecodingError) -> (field: String, detail: String) {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let context): return (path(context.codingPath), "expected \(type)")
        case .valueNotFound(_, let context): return (path(context.codingPath), "a value is required")
        case .keyNotFound(let key, let context): return (path(context.codingPath + [key]), "a value is required")
        case .dataCorrupted(let context): return (path(context.codingPath), context.debugDescription)
        @unknown default: return ("request", "could not be read")
        }
    }

    static func response(for error: any Error, request: Request) -> Response {
        let problem = problem(for: error, request: request)
        let locale =
            request.storage[CurrentUserKey.self].map(\.kindredLocale)
            ?? KindredLocale.negotiate(request.headers.first(name: .acceptLanguage))
        let body = ProblemBody(
            type: "https://kindred.example/problems/\(problem.code)",
            title: problem.status.reasonPhrase,
            status: Int(problem.status.code),
            detail: Localizer.shared.text("error.\(problem.code)", locale, problem.arguments),
            instance: request.url.path,
            code: problem.code,
            requestId: request.id,
            field: problem.extensions["field"])
        var headers = problem.headers
        headers.contentType = HTTPMediaType(
            type: "application", subType: "problem+json", parameters: ["charset": "utf-8"])
        headers.replaceOrAdd(name: .contentLanguage, value: locale.rawValue)
        let response = Response(status: problem.status, headers: headers)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            response.body = .init(data: try encoder.encode(body))
        } catch {
            response.body = .init(string: "{\"status\":\(problem.status.code)}")
        }
        return response
    }
}

/// Echoes the request id (Vapor takes `X-Request-Id` from the client or makes one) so a person reporting
/// a problem can quote it, and it appears in every log line of the request.
struct RequestIDMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        response.headers.replaceOrAdd(name: .xRequestId, value: request.id)
        return response
    }
}
