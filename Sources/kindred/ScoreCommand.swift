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
    var pairs: String

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
    }

    func run() async throws {
        guard let content = FileManager.default.contents(atPath: pairs) else {
            throw ValidationError("cannot read \(pairs)")
        }
        let names = InsightBuilder.interestNames(try ConceptLexicon.bundled("interests"))
        let matchmaker = Matchmaker(scorer: CompatibilityScorer(interestNames: names))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func text(_ localized: LocalizedText) -> String { locale == "en" ? localized.en : localized.ru }
        func round(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
        var failures = 0
        for (number, line) in content.split(separator: 0x0A, omittingEmptySubsequences: true).enumerated() {
            var output: Output
            do {
                let pair = try JSONDecoder().decode(Pair.self, from: Data(line))
                let assessment = matchmaker.assess(pair.a, pair.b, domain: pair.domain ?? .romance)
                output = Output(
                    id: pair.id, domain: assessment.domain.rawValue, score: round(assessment.score),
                    confidence: round(assessment.confidence), lower: round(assessment.lower),
                    display: text(assessment.display),
                    levels: Dictionary(uniqueKeysWithValues: assessment.levels.map { ($0.key.rawValue, round($0.value.score)) }),
                    levelConfidence: Dictionary(
                        uniqueKeysWithValues: assessment.levels.map { ($0.key.rawValue, round($0.value.confidence)) }),
                    reasons: assessment.reasons.map(text), risks: assessment.risks.map(text),
                    filtered: assessment.filtered.map(\.rawValue))
            } catch let error as MatchProfileError {
                failures += 1
                output = Output(error: "line \(number + 1): \(error)")
            } catch let DecodingError.dataCorrupted(context) {
                failures += 1
                output = Output(error: "line \(number + 1): \(context.underlyingError.map { "\($0)" } ?? context.debugDescription)")
            } catch {
                failures += 1
                output = Output(
                    error: "line \(number + 1): expected {\"a\": profile, \"b\": profile, \"domain\"} JSON (\(Self.describe(error)))")
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
