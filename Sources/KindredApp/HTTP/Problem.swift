import Foundation
import KindredCore
import Vapor

/// An HTTP problem (RFC 9457): a status, a stable code and a message from the localisation table.
/// Rendered as `application/problem+json` by `ProblemMiddleware` in the caller's language.
struct Problem: Error, Sendable {
    var status: HTTPResponseStatus
    var code: String
    var arguments: [String: String]
    /// Extra members of the problem object (for example `field`).
    var extensions: [String: String]
    var headers: HTTPHeaders

    init(
        _ status: HTTPResponseStatus, _ code: String, _ arguments: [String: String] = [:],
        extensions: [String: String] = [:], headers: HTTPHeaders = [:]
    ) {
        self.status = status
        self.code = code
        self.arguments = arguments
        self.extensions = extensions
        self.headers = headers
    }

    static func invalidField(_ field: String, _ detail: String) -> Problem {
        Problem(
            .unprocessableEntity, "invalid-field", ["field": field, "detail": detail], extensions: ["field": field])
    }

    static func missingField(_ field: String) -> Problem {
        Problem(.unprocessableEntity, "missing-field", ["field": field], extensions: ["field": field])
    }

    static func unknownValue(_ field: String, _ value: String, allowed: [String]) -> Problem {
        Problem(
            .unprocessableEntity, "unknown-value",
            ["field": field, "value": value, "allowed": allowed.joined(separator: ", ")], extensions: ["field": field])
    }

    static let notFound = Problem(.notFound, "not-found")

    static let unauthorized = Problem(
        .unauthorized, "unauthorized", headers: ["WWW-Authenticate": "Bearer realm=\"kindred\""])

    /// The problem for a domain error: status chosen by what went wrong.
    static func from(_ error: any UserFacingError) -> Problem {
        let status: HTTPResponseStatus
        switch error {
        case let diary as DiaryError:
            switch diary {
            case .audioTooLarge: status = .payloadTooLarge
            case .unsupportedAudio: status = .unsupportedMediaType
            case .missingAudio: status = .badRequest
            case .emptyText, .textTooLong, .audioTooLong: status = .unprocessableEntity
            }
        default:
            status = .unprocessableEntity
        }
        return Problem(status, error.code, error.messageArguments)
    }
}

/// The JSON body of a problem.
struct ProblemBody: Content {
    var type: String
    var title: String
    var status: Int
    var detail: String
    var instance: String
    var code: String
    var requestId: String
    var field: String?
}
