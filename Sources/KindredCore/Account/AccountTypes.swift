import Foundation

/// The two languages every user-facing text exists in. Russian is first.
public enum KindredLocale: String, Codable, Sendable, CaseIterable {
    case ru
    case en

    /// Picks the best supported locale from an `Accept-Language` header or a Telegram `language_code`.
    /// Anything that is not clearly English falls back to Russian, the product's first language.
    public static func negotiate(_ header: String?) -> KindredLocale {
        guard let header, !header.isEmpty else { return .ru }
        // RFC 9110 §12.5.4: comma-separated language ranges with optional q-weights.
        var best: (locale: KindredLocale, q: Double)?
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = pieces.first?.lowercased() else { continue }
            let primary = tag.split(separator: "-").first.map(String.init) ?? tag
            guard let locale = KindredLocale(rawValue: primary) else { continue }
            var q = 1.0
            for parameter in pieces.dropFirst() where parameter.hasPrefix("q=") {
                q = Double(parameter.dropFirst(2)) ?? 0
            }
            if best == nil || q > best!.q { best = (locale, q) }
        }
        return best?.locale ?? .ru
    }
}

/// Gender as the person states it; used only for the "who do you want to meet" filter.
public enum Gender: String, Codable, Sendable, CaseIterable {
    case female
    case male
    case nonbinary
}

/// Subscription plan. Changes go through billing, not through the profile endpoint.
public enum Plan: String, Codable, Sendable, CaseIterable {
    case free
    case premium
}

/// The areas of life a person can opt into separately. Nothing is matched in a domain without consent.
public enum ConsentDomain: String, Codable, Sendable, CaseIterable {
    case dating
    case friendship
    case exchange
    case jobs
}

/// Per-domain consent flags. All off by default: consent is given, never assumed.
public struct Consents: Codable, Sendable, Equatable {
    public var dating: Bool
    public var friendship: Bool
    public var exchange: Bool
    public var jobs: Bool

    public init(dating: Bool = false, friendship: Bool = false, exchange: Bool = false, jobs: Bool = false) {
        self.dating = dating
        self.friendship = friendship
        self.exchange = exchange
        self.jobs = jobs
    }

    public subscript(domain: ConsentDomain) -> Bool {
        get {
            switch domain {
            case .dating: dating
            case .friendship: friendship
            case .exchange: exchange
            case .jobs: jobs
            }
        }
        set {
            switch domain {
            case .dating: dating = newValue
            case .friendship: friendship = newValue
            case .exchange: exchange = newValue
            case .jobs: jobs = newValue
            }
        }
    }
}
