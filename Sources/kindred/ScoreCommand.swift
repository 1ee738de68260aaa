import ArgumentParser
import Foundation
import KindredCore

/// `kindred score --pairs FILE`: compatibility of pairs of public profiles (docs/profile-format.md).
struct Score: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score compatibility: --pairs FILE with {\"a\": profile, \"b\": profile, \"domain\"} per line.",
        discussion: """
            Prints one JSON line per input, in order: {"score", "confidence", "lower", "display", "levels", \
            "levelConfidence", "reasons", "risks", "filtered"} (docs/matching.md). Profiles are in the public \
            format (docs/profile-format.md); every part is optional.
            """)

    @ArgumentParser.Option(help: "A JSON Lines file of {\"a\": profile, \"b\": profile, \"domain\": \"romance|friendship|team\"}.")
    var pairs: String?

    @ArgumentParser.Option(
        help: "A JSON Lines file of {\"people\": [profile…], \"size\": 3…8, \"domain\": \"friendship|team\", \"required\": [skills]}.")
    var groups: String?

    @ArgumentParser.Option(help: "Random seed of the group search (the same seed gives the same groups).")
    var seed: UInt64 = 1

    @ArgumentParser.Option(help: "The language of reasons and risks: ru or en.")
    var locale: String = "ru"

    struct Pair: Decodable {
        var id: String?
        var a: MatchProfile
        var b: MatchProfile
        var domain: MatchDomain?
    }

    struct Output: Encodable {
        var id: String?
        var domain: String?
        var score: Double?
        var confidence: Double?
        var lower: Double?
        var display: String?
        var levels: [String: Double]?
        var levelConfidence: [String: Double]?
        var reasons: [String]?
        var risks: [String]?
        var filtered: [String]?
        var error: String?
    }

    func validate() throws {
        guard ["ru", "en"].contains(locale) else { throw ValidationError("--locale must be ru or en") }
        guard (pairs == nil) != (groups == nil) else { throw ValidationError("give one of --pairs FILE or --groups FILE") }
    }

    func run() async throws {
        if let groups {
            try scoreGroups(groups)
            return
        }
        guard let pairs else { return }
        let names = InsightBuilder.interestNames(try ConceptLexicon.bundled("interests"))
        let matchmaker = Matchmaker(scorer: CompatibilityScorer(interestNames: names))
        func text(_ localized: LocalizedText) -> String { locale == "en" ? localized.en : localized.ru }
        func round(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
        try Self.eachLine(of: pairs, expected: #"{"a": profile, "b": profile, "domain"}"#, error: { Output(error: $0) }) { line in
            let pair = try JSONDecoder().decode(Pair.self, from: line)
            let assessment = matchmaker.assess(pair.a, pair.b, domain: pair.domain ?? .romance)
            return Output(
                id: pair.id, domain: assessment.domain.rawValue, score: round(assessment.score),
                confidence: round(assessment.confidence), lower: round(assessment.lower),
                display: text(assessment.display),
                levels: Dictionary(uniqueKeysWithValues: assessment.levels.map { ($0.key.rawValue, round($0.value.score)) }),
                levelConfidence: Dictionary(
                    uniqueKeysWithValues: assessment.levels.map { ($0.key.rawValue, round($0.value.confidence)) }),
                reasons: assessment.reasons.map(text), risks: assessment.risks.map(text),
                filtered: assessment.filtered.map(\.rawValue))
        }
    }

    struct Pool: Decodable {
        var id: String?
        var people: [MatchProfile]
        var size: Int?
        var domain: MatchDomain?
        var required: [String]?
    }

    struct GroupsOutput: Encodable {
        struct Group: Encodable {
            var members: [String]
            /// Mean pairwise mutual score of the group.
            var score: Double
            var display: String
            var reasons: [String]
            var risks: [String]
        }
        var id: String?
        var domain: String?
        var groups: [Group]?
        var objective: Double?
        var greedyObjective: Double?
        var error: String?
    }

    /// Friend groups and teams: pairwise mutual scores (the lower end, as shown) as weights, a filtered pair
    /// weighted −10 so it never shares a group, skills covered for teams, then the group search.
    func scoreGroups(_ path: String) throws {
        let names = InsightBuilder.interestNames(try ConceptLexicon.bundled("interests"))
        let matchmaker = Matchmaker(scorer: CompatibilityScorer(interestNames: names, explains: false))
        func text(_ localized: LocalizedText) -> String { locale == "en" ? localized.en : localized.ru }
        func round(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
        try Self.eachLine(
            of: path, expected: #"{"people": [profile…], "size", "domain"}"#, error: { GroupsOutput(error: $0) }
        ) { line in
            let pool = try JSONDecoder().decode(Pool.self, from: line)
            let domain = pool.domain ?? .friendship
            guard domain != .romance else { throw MatchProfileError.invalid("groups are for friendship or team") }
            let size = pool.size ?? 4
            guard GroupSearch.allowedGroupSizes.contains(size) else { throw MatchProfileError.invalid("size must be 3…8") }
            guard (3...500).contains(pool.people.count) else { throw MatchProfileError.invalid("people: 3…500 profiles") }
            let prepared = pool.people.map(PreparedProfile.init)
            let n = prepared.count
            var weights = [Float](repeating: 0, count: n * n)
            var pairScore = [Double](repeating: 0, count: n * n)
            for i in 0..<n {
                for j in (i + 1)..<n {
                    let assessment = matchmaker.assess(prepared[i], prepared[j], domain: domain)
                    let weight: Float = assessment.filtered.isEmpty ? Float(assessment.lower) : -10
                    weights[i * n + j] = weight
                    weights[j * n + i] = weight
                    pairScore[i * n + j] = assessment.lower
                    pairScore[j * n + i] = assessment.lower
                }
            }
            var team: GroupSearch.TeamTerms?
            if domain == .team {
                let all = Array(Set(pool.people.flatMap(\.skills))).sorted()
                let number = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($0.element, $0.offset) })
                let required = Set((pool.required ?? all).compactMap { number[$0] })
                team = GroupSearch.TeamTerms(
                    skills: pool.people.map { Set($0.skills.compactMap { number[$0] }) }, required: required,
                    coverageWeight: Float(size))
            }
            let search = try GroupSearch(weights: weights, people: n, groupSize: size, team: team)
            var generator = SplitMix64(seed: seed)
            let result = search.search(using: &generator)
            let groups = result.groups.map { members -> GroupsOutput.Group in
                var pairs: [Double] = []
                for x in members.indices {
                    for y in (x + 1)..<members.count { pairs.append(pairScore[members[x] * n + members[y]]) }
                }
                let average = pairs.isEmpty ? 0 : pairs.reduce(0, +) / Double(pairs.count)
                // Interests at least half the group shares are what it can start from.
                var counts: [String: Int] = [:]
                for member in members { for interest in pool.people[member].interests.keys { counts[interest, default: 0] += 1 } }
                let shared = counts.filter { $0.value * 2 >= members.count && $0.value >= 2 }.keys.sorted().prefix(3)
                var reasons: [String] = []
                if !shared.isEmpty {
                    let named = shared.map { names[$0] ?? LocalizedText(ru: String($0), en: String($0)) }
                    reasons.append(
                        locale == "en"
                            ? "common ground: " + named.map(\.en).joined(separator: ", ")
                            : "общее: " + named.map(\.ru).joined(separator: ", "))
                }
                var risks: [String] = []
                if let weakest = pairs.min(), weakest < 0.4 {
                    risks.append(locale == "en" ? "two of you fit each other less well" : "двое в группе подходят друг другу меньше остальных")
                }
                let confidence = members.map { prepared[$0].effectiveTraits }.min() ?? 0
                return GroupsOutput.Group(
                    members: members.map { pool.people[$0].id ?? "#\($0)" }, score: round(average),
                    display: text(Calibration.display(average, confidence: min(1, confidence / 20), effectiveTraits: confidence)),
                    reasons: reasons, risks: risks)
            }
            return GroupsOutput(
                id: pool.id, domain: domain.rawValue, groups: groups, objective: round(result.objective),
                greedyObjective: round(result.greedyObjective))
        }
    }

    /// Reads a JSON Lines file and prints one output line per input, in order; a bad line gets an error line
    /// in its place, the rest go on, and the exit status is 2.
    static func eachLine<Output: Encodable>(
        of path: String, expected shape: String, error: (String) -> Output, _ body: (Data) throws -> Output
    ) throws {
        guard let content = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var failures = 0
        for (number, line) in content.split(separator: 0x0A, omittingEmptySubsequences: true).enumerated() {
            var output: Output
            do {
                output = try body(Data(line))
            } catch let failure as MatchProfileError {
                failures += 1
                output = error("line \(number + 1): \(failure)")
            } catch let DecodingError.dataCorrupted(context) {
                failures += 1
                output = error("line \(number + 1): \(context.underlyingError.map { "\($0)" } ?? context.debugDescription)")
            } catch let failure {
                failures += 1
                output = error("line \(number + 1): expected \(shape) JSON (\(describe(failure)))")
            }
            var data = try encoder.encode(output)
            data.append(0x0A)
            FileHandle.standardOutput.write(data)
        }
        if failures > 0 { throw ExitCode(2) }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            "missing \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "\(error)"
        }
    }
}
