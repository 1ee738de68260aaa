import Foundation

/// Looks up user-facing texts in the one localisation table per language (`Resources/Localization/<lang>.json`).
/// Templates use `{name}` placeholders.
public struct Localizer: Sendable {
    private let tables: [KindredLocale: [String: String]]

    /// The tables shipped with KindredCore.
    public static let shared = Localizer(bundle: .module)

    public init(bundle: Bundle) {
        var tables: [KindredLocale: [String: String]] = [:]
        for locale in KindredLocale.allCases {
            if let url = bundle.url(
                forResource: locale.rawValue, withExtension: "json", subdirectory: "Resources/Localization")
                ?? bundle.url(forResource: locale.rawValue, withExtension: "json"),
                let data = try? Data(contentsOf: url),
                let table = try? JSONDecoder().decode([String: String].self, from: data)
            {
                tables[locale] = table
            }
        }
        self.tables = tables
    }

    public init(tables: [KindredLocale: [String: String]]) {
        self.tables = tables
    }

    /// All keys of a locale's table (used by tests to prove both languages say everything).
    public func keys(for locale: KindredLocale) -> Set<String> {
        Set(tables[locale]?.keys.map { $0 } ?? [])
    }

    /// The text for `key` in `locale`, falling back to the other language, then to the key itself.
    public func text(_ key: String, _ locale: KindredLocale, _ arguments: [String: String] = [:]) -> String {
        let template = tables[locale]?[key] ?? tables[.en]?[key] ?? tables[.ru]?[key] ?? key
        var result = template
        for (name, value) in arguments {
            result = result.replacingOccurrences(of: "{\(name)}", with: value)
        }
        return result
    }
}

/// An error that a person can read: a stable code, and a message key with arguments in the localisation table.
public protocol UserFacingError: Error {
    /// Stable machine-readable code, used as the last segment of the problem `type` URI.
    var code: String { get }
    var messageArguments: [String: String] { get }
}

extension UserFacingError {
    public var messageArguments: [String: String] { [:] }

    /// The message in the given language.
    public func message(_ locale: KindredLocale, localizer: Localizer = .shared) -> String {
        localizer.text("error.\(code)", locale, messageArguments)
    }
}

extension AccountError: UserFacingError {
    public var code: String {
        switch self {
        case .invalidEmail: "invalid-email"
        case .passwordTooShort: "password-too-short"
        case .passwordTooLong: "password-too-long"
        case .invalidDisplayName: "invalid-display-name"
        case .invalidBirthDate: "invalid-birth-date"
        case .underage: "underage"
        case .implausibleBirthDate: "implausible-birth-date"
        case .invalidCity: "invalid-city"
        case .invalidDistrict: "invalid-district"
        case .invalidCoordinates: "invalid-coordinates"
        case .invalidAgeRange: "invalid-age-range"
        }
    }

    public var messageArguments: [String: String] {
        switch self {
        case .passwordTooShort(let minimum): ["minimum": "\(minimum)"]
        case .passwordTooLong(let maximum): ["maximum": "\(maximum)"]
        case .invalidDisplayName(let maximum), .invalidCity(let maximum), .invalidDistrict(let maximum):
            ["maximum": "\(maximum)"]
        case .invalidBirthDate(let value): ["value": value]
        case .underage(let minimumAge): ["minimum": "\(minimumAge)"]
        default: [:]
        }
    }
}

extension DiaryError: UserFacingError {
    public var code: String {
        switch self {
        case .emptyText: "empty-diary"
        case .textTooLong: "diary-too-long"
        case .audioTooLarge: "audio-too-large"
        case .audioTooLong: "audio-too-long"
        case .unsupportedAudio: "unsupported-audio"
        case .missingAudio: "missing-audio"
        }
    }

    public var messageArguments: [String: String] {
        switch self {
        case .textTooLong(let characters, let limit): ["characters": "\(characters)", "limit": "\(limit)"]
        case .audioTooLarge(let bytes, let limit):
            ["megabytes": String(format: "%.1f", Double(bytes) / 1_048_576), "limit": "\(limit / 1_048_576)"]
        case .audioTooLong(let seconds, let limit): ["seconds": "\(seconds)", "limit": "\(limit / 60)"]
        case .unsupportedAudio(let detail): ["detail": detail]
        default: [:]
        }
    }
}
