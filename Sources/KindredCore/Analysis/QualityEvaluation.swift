import Foundation

/// Measures the local analysis against a labelled set (`Tests/Quality/diaries.jsonl`): precision, recall
/// and F1 per field, overall and per language. Needs and offers match on stance and concept, skills on
/// concept, interests on id, goals on topic and stance; the emotion is the dominant one (or none).
public struct QualityEvaluation: Sendable {
    public struct Labelled: Codable, Sendable {
        public struct Item: Codable, Sendable {
            public var kind: String
            public var concept: String
        }

        public struct Goal: Codable, Sendable {
            public var goal: String
            public var stance: String
        }

        public var id: String
        public var lang: String
        public var text: String
        public var needs: [Item]
        public var offers: [Item]
        public var skills: [Item]
        public var interests: [String]
        public var emotion: String?
        public var goals: [Goal]
        public var note: String?
    }

    public struct Score: Codable, Sendable, Equatable {
        public var truePositives = 0
        public var falsePositives = 0
        public var falseNegatives = 0

        public init(truePositives: Int = 0, falsePositives: Int = 0, falseNegatives: Int = 0) {
            self.truePositives = truePositives
            self.falsePositives = falsePositives
            self.falseNegatives = falseNegatives
        }

        public var precision: Double {
            truePositives + falsePositives == 0 ? 1 : Double(truePositives) / Double(truePositives + falsePositives)
        }
        public var recall: Double {
            truePositives + falseNegatives == 0 ? 1 : Double(truePositives) / Double(truePositives + falseNegatives)
        }
        public var f1: Double {
            precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
        }

        public mutating func add(expected: Set<String>, found: Set<String>) {
            truePositives += expected.intersection(found).count
            falsePositives += found.subtracting(expected).count
            falseNegatives += expected.subtracting(found).count
        }
    }

    public struct Report: Codable, Sendable {
        public var snippets: Int
        /// field → language (`all`, `ru`, `en`, `mixed`) → score.
        public var fields: [String: [String: Score]]
        /// Dominant emotion right (including "none" for neutral snippets), per language.
        public var emotionAccuracy: [String: Double]
        /// Mistakes on the hard cases, by the case named in the label's note.
        public var hardCaseErrors: [String: Int]
        public var hardCaseCounts: [String: Int]
    }

    public static let fields = ["needs+offers", "skills", "interests", "goals"]

    public static func load(_ data: Data) throws -> [Labelled] {
        var result: [Labelled] = []
        for (number, line) in data.split(separator: 0x0A, omittingEmptySubsequences: true).enumerated() {
            do {
                result.append(try JSONDecoder().decode(Labelled.self, from: Data(line)))
            } catch {
                throw LexiconError.missing("a valid quality-set line \(number + 1) (\(error))")
            }
        }
        return result
    }

    /// The dominant emotion of a reading, or nil when it is too weak to name (valence and evidence low).
    public static func dominantEmotion(_ reading: EmotionReading) -> String? {
        guard reading.evidence > 0, let top = reading.emotions.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }),
            top.value >= 0.25
        else { return nil }
        return top.key
    }

    public static func evaluate(_ set: [Labelled], analyzer: DiaryAnalyzer) -> Report {
        var fields: [String: [String: Score]] = [:]
        var emotionRight: [String: (right: Int, total: Int)] = [:]
        var hardErrors: [String: Int] = [:]
        var hardCounts: [String: Int] = [:]
        for item in set {
            let analysis = analyzer.analyze(item.text)
            let expected: [String: Set<String>] = [
                "needs+offers": Set(item.needs.map { "need:\($0.concept)" } + item.offers.map { "offer:\($0.concept)" }),
                "skills": Set(item.skills.map(\.concept)),
                "interests": Set(item.interests),
                "goals": Set(item.goals.map { "\($0.goal):\($0.stance)" }),
            ]
            let found: [String: Set<String>] = [
                "needs+offers": Set(
                    analysis.needs.map { "need:\($0.concept)" } + analysis.offers.map { "offer:\($0.concept)" }),
                "skills": Set(analysis.skills.map(\.concept)),
                "interests": Set(analysis.interests.map(\.id)),
                "goals": Set(analysis.goals.map { "\($0.goal):\($0.stance)" }),
            ]
            var wrong = false
            for field in Self.fields {
                for language in ["all", item.lang] {
                    fields[field, default: [:]][language, default: Score()]
                        .add(expected: expected[field]!, found: found[field]!)
                }
                if expected[field] != found[field], field != "goals" { wrong = true }
            }
            let right = dominantEmotion(analysis.emotions) == item.emotion
            for language in ["all", item.lang] {
                emotionRight[language, default: (0, 0)].total += 1
                if right { emotionRight[language, default: (0, 0)].right += 1 }
            }
            for tag in hardCases(item.note) {
                hardCounts[tag, default: 0] += 1
                if wrong { hardErrors[tag, default: 0] += 1 }
            }
        }
        return Report(
            snippets: set.count, fields: fields,
            emotionAccuracy: emotionRight.mapValues { Double($0.right) / Double(max(1, $0.total)) },
            hardCaseErrors: hardErrors, hardCaseCounts: hardCounts)
    }

    /// `hard case: negation, past tense — why` → ["negation", "past tense"].
    static func hardCases(_ note: String?) -> [String] {
        guard let note, let range = note.range(of: "hard case:") else { return [] }
        var tags = String(note[range.upperBound...])
        if let dash = tags.range(of: " — ") { tags = String(tags[..<dash.lowerBound]) }
        return tags.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The report as a Markdown table (what docs/QUALITY.md quotes).
    public static func markdown(_ report: Report) -> String {
        func cell(_ score: Score?) -> String {
            guard let score else { return "—" }
            return String(format: "%.2f / %.2f / **%.2f**", score.precision, score.recall, score.f1)
        }
        var lines = [
            "| field | all (P / R / F1) | ru | en | mixed |", "|---|---|---|---|---|",
        ]
        for field in fields {
            let scores = report.fields[field] ?? [:]
            lines.append(
                "| \(field) | \(cell(scores["all"])) | \(cell(scores["ru"])) | \(cell(scores["en"])) | \(cell(scores["mixed"])) |")
        }
        let emotion = report.emotionAccuracy
        lines.append(
            String(
                format: "| dominant emotion (accuracy) | %.2f | %.2f | %.2f | %.2f |", emotion["all"] ?? 0,
                emotion["ru"] ?? 0, emotion["en"] ?? 0, emotion["mixed"] ?? 0))
        lines.append("")
        lines.append("| hard case | snippets | with a mistake in needs/offers/skills/interests |")
        lines.append("|---|---|---|")
        for (tag, count) in report.hardCaseCounts.sorted(by: { $0.key < $1.key }) {
            lines.append("| \(tag) | \(count) | \(report.hardCaseErrors[tag] ?? 0) |")
        }
        return lines.joined(separator: "\n")
    }
}
