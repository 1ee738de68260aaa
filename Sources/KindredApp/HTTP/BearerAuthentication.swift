import Foundation
import KindredStore
import Vapor

struct CurrentUserKey: StorageKey {
    typealias Value = UserRecord
}

struct BearerTokenKey: StorageKey {
    typealias Value = String
}

/// Requires `Authorization: Bearer <token>` and loads the person it belongs to (token and user in one
/// query). Anything else is a 401 problem.
struct BearerAuthenticationMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let token = request.headers.bearerAuthorization?.token, !token.isEmpty,
            let user = try await request.kindred.accounts.user(forToken: token), user.isActive
        else {
            throw Problem.unauthorized
        }
        request.storage[CurrentUserKey.self] = user
        request.storage[BearerTokenKey.self] = token
        request.logger[metadataKey: "user"] = "\(user.id?.uuidString ?? "?")"
        return try await next.respond(to: request)
    }
}

extension Request {
    /// The authenticated person. Only call behind `BearerAuthenticationMiddleware`.
    func currentUser() throws -> UserRecord {
        guard let user = storage[CurrentUserKey.self] else { throw Problem.unauthorized }
        return user
    }
}
