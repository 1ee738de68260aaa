import Foundation
import KindredCore
import Vapor

/// Any JSON value. Request bodies are read into this first so that every mistake (bad UTF-8, wrong
/// type, unknown field, unknown enum value, explicit null) gets its own clear problem.
enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A JSON object from a request body, with accessors that throw the right problem.
struct JSONObject: Sendable {
    let members: [String: JSONValue]

    func has(_ key: String) -> Bool { members[key] != nil }

    /// Refuses members the endpoint does not know, so a typo is not silently ignored.
    func rejectUnknown(allowed: Set<String>) throws {
        let unknown = Set(members.keys).subtracting(allowed)
        guard unknown.isEmpty else {
            throw Problem(.unprocessableEntity, "unknown-field", ["fields": unknown.sorted().joined(separator: ", ")])
        }
    }

    func string(_ key: String) throws -> String {
        guard let value = members[key], value != .null else { throw Problem.missingField(key) }
        guard case .string(let string) = value else {
            throw Problem.invalidField(key, "expected a string, got \(value.typeName)")
        }
        return string
    }

    /// nil when absent; `.some(nil)` when explicitly null (PATCH: clear the field).
    func optionalString(_ key: String) throws -> String?? {
        guard let value = members[key] else { return nil }
        switch value {
        case .null: return .some(nil)
        case .string(let string): return .some(string)
        default: throw Problem.invalidField(key, "expected a string or null, got \(value.typeName)")
        }
    }

    func optionalNumber(_ key: String) throws -> Double?? {
        guard let value = members[key] else { return nil }
        switch value {
        case .null: return .some(nil)
        case .number(let number): return .some(number)
        default: throw Problem.invalidField(key, "expected a number or null, got \(value.typeName)")
        }
    }

    func optionalInteger(_ key: String) throws -> Int?? {
        guard let number = try optionalNumber(key) else { return nil }
        guard let number else { return .some(nil) }
        guard number.rounded() == number, abs(number) < 1e9 else {
            throw Problem.invalidField(key, "expected a whole number")
        }
        return .some(Int(number))
    }

    func optionalBool(_ key: String) throws -> Bool? {
        guard let value = members[key] else { return nil }
        guard case .bool(let bool) = value else {
            throw Problem.invalidField(key, "expected true or false, got \(value.typeName)")
        }
        return bool
    }

    func optionalObject(_ key: String) throws -> JSONObject? {
        guard let value = members[key] else { return nil }
        guard case .object(let object) = value else {
            throw Problem.invalidField(key, "expected an object, got \(value.typeName)")
        }
        return JSONObject(members: object)
    }

    func optionalArray(_ key: String) throws -> [JSONValue]? {
        guard let value = members[key] else { return nil }
        if value == .null { return [] }
        guard case .array(let array) = value else {
            throw Problem.invalidField(key, "expected an array, got \(value.typeName)")
        }
        return array
    }

    /// A string member that must be one of an enum's raw values.
    func enumValue<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws -> E
    where E.RawValue == String {
        let raw = try string(key)
        guard let value = E(rawValue: raw) else {
            throw Problem.unknownValue(key, raw, allowed: E.allCases.map(\.rawValue))
        }
        return value
    }

    static func enumValue<E: RawRepresentable & CaseIterable>(_ raw: String, field: String, _ type: E.Type) throws -> E
    where E.RawValue == String {
        guard let value = E(rawValue: raw) else {
            throw Problem.unknownValue(field, raw, allowed: E.allCases.map(\.rawValue))
        }
        return value
    }
}

extension Request {
    /// Reads the body as a JSON object: checks the content type, the UTF-8, the syntax.
    func jsonObject() throws -> JSONObject {
        guard let contentType = headers.contentType,
            contentType.type == "application", contentType.subType == "json" || contentType.subType.hasSuffix("+json")
        else {
            throw Problem(
                .unsupportedMediaType, "unsupported-media-type",
                ["expected": "application/json", "actual": headers.contentType?.serialize() ?? "no Content-Type"])
        }
        guard let buffer = body.data, buffer.readableBytes > 0 else {
            throw Problem(.badRequest, "malformed-json", ["detail": "the body is empty"])
        }
        let bytes = buffer.readableBytesView
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw Problem(.badRequest, "bad-utf8")
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw Problem(.badRequest, "malformed-json", ["detail": Self.describe(error)])
        }
        guard case .object(let members) = value else {
            throw Problem(.badRequest, "malformed-json", ["detail": "expected a JSON object, got \(value.typeName)"])
        }
        return JSONObject(members: members)
    }

    private static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            if let underlying = context.underlyingError as NSError? {
                return underlying.userInfo[NSDebugDescriptionErrorKey] as? String ?? context.debugDescription
            }
            return context.debugDescription
        }
        return "\(error)"
    }
}
