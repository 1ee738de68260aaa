import Foundation

/// Cities and districts people name (`Resources/Lexicons/places.json`): Moscow, Saint Petersburg, Kazan and
/// Novosibirsk with their districts, other large Russian cities and cities abroad Russian speakers often
/// mention, each with coordinates and the word forms people say («в Питере», «из Казани», «на Ваське»).
public struct PlaceDirectory: Sendable {
    public struct Aliases: Codable, Sendable {
        public let ru: [String]
        public let en: [String]
        var all: [String] { ru + en }
    }

    public struct District: Codable, Sendable {
        public let id: String
        public let ru: String
        public let en: String
        public let kind: String?
        public let lat: Double
        public let lon: Double
        public let aliases: Aliases
        /// Forms that are also ordinary words or names shared by several cities («Центральный», «Сокол»):
        /// they count only when the district's city is named in the same text.
        public let ambiguousAliases: Aliases?
    }

    public struct City: Codable, Sendable {
        public let id: String
        public let ru: String
        public let en: String
        public let country: String?
        public let timeZone: String
        public let lat: Double
        public let lon: Double
        public let aliases: Aliases
        /// Forms that are ordinary words too («нижний»): they count after «в/из/по», "in/from/to".
        public let ambiguousAliases: Aliases?
        public let districts: [District]?
    }

    struct File: Codable, Sendable {
        let cities: [City]
    }

    /// A place found in a text.
    public struct Mention: Codable, Sendable, Equatable {
        /// "moscow" or "moscow.arbat".
        public var id: String
        /// city | district
        public var kind: String
        public var city: String
        public var lat: Double
        public var lon: Double
        public var mentions: Int
    }

    enum Target: Sendable, Hashable {
        case city(Int)
        case district(Int, Int)
    }

    public let cities: [City]
    private let plain: PhraseMatcher<Target>
    private let ambiguous: PhraseMatcher<Target>
    private let prepositions: Set<WordKey> = Set(forms: ["в", "во", "из", "по", "до", "под", "in", "from", "to", "near"])

    init(cities: [City], stemming: Stemming = Stemming()) {
        self.cities = cities
        var plain: [(phrase: String, payload: Target)] = []
        var ambiguous: [(phrase: String, payload: Target)] = []
        for (c, city) in cities.enumerated() {
            plain += city.aliases.all.map { ($0, .city(c)) }
            ambiguous += (city.ambiguousAliases?.all ?? []).map { ($0, .city(c)) }
            for (d, district) in (city.districts ?? []).enumerated() {
                plain += district.aliases.all.map { ($0, .district(c, d)) }
                ambiguous += (district.ambiguousAliases?.all ?? []).map { ($0, .district(c, d)) }
            }
        }
        // Place names are matched on word forms: the lexicon lists the cases people say, and stems would
        // join names with ordinary words («Сокол» and «сокол», «Химки» and «химия»).
        self.plain = PhraseMatcher(plain, on: .form, stemming: stemming)
        self.ambiguous = PhraseMatcher(ambiguous, on: .form, stemming: stemming)
    }

    public static func bundled() throws -> PlaceDirectory {
        PlaceDirectory(cities: try bundledLexicon("places", as: File.self).cities)
    }

    public func city(_ id: String) -> City? { cities.first { $0.id == id } }

    /// The city a person typed as their city («Питер», "St Petersburg", «в Казани»), compared case- and
    /// ё-insensitively with its names and word forms; nil for a city the directory does not know.
    public func city(named typed: String) -> City? {
        func fold(_ text: String) -> String {
            text.trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters)).lowercased()
                .replacingOccurrences(of: "ё", with: "е").replacingOccurrences(of: "-", with: " ")
        }
        var wanted = fold(typed)
        for preposition in ["в ", "во ", "из ", "in ", "from "] where wanted.hasPrefix(preposition) {
            wanted = String(wanted.dropFirst(preposition.count))
        }
        guard !wanted.isEmpty else { return nil }
        return cities.first { city in
            ([city.ru, city.en] + city.aliases.all + (city.ambiguousAliases?.all ?? [])).contains { fold($0) == wanted }
        }
    }

    public func read(_ tokens: [StemmedToken]) -> [Mention] {
        var counts: [Target: Int] = [:]
        var order: [Target] = []
        func count(_ target: Target) {
            if counts[target] == nil { order.append(target) }
            counts[target, default: 0] += 1
        }
        let found = plain.matches(in: tokens)
        for match in found { count(match.payload) }
        var namedCities = Set<Int>()
        for target in counts.keys {
            switch target {
            case .city(let c), .district(let c, _): namedCities.insert(c)
            }
        }
        for match in ambiguous.matches(in: tokens) {
            if found.contains(where: { $0.tokens.overlaps(match.tokens) }) { continue }
            switch match.payload {
            case .district(let c, _) where namedCities.contains(c):
                count(match.payload)
            case .city:
                let before = match.tokens.lowerBound - 1
                if before >= 0, prepositions.contains(tokens[before].formKey) { count(match.payload) }
            default: continue
            }
        }
        return order.map { target in
            switch target {
            case .city(let c):
                let city = cities[c]
                return Mention(id: city.id, kind: "city", city: city.id, lat: city.lat, lon: city.lon, mentions: counts[target]!)
            case .district(let c, let d):
                let district = cities[c].districts![d]
                return Mention(
                    id: district.id, kind: "district", city: cities[c].id, lat: district.lat, lon: district.lon,
                    mentions: counts[target]!)
            }
        }
    }
}
