import Foundation
import Testing

@testable import KindredCore

@Suite("The labelled quality set and its evaluation")
struct QualityEvaluationTests {
    static let setURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Quality/diaries.jsonl")

    @Test("precision, recall and F1 count matches, extras and misses")
    func score() {
        var score = QualityEvaluation.Score()
        score.add(expected: ["a", "b"], found: ["b", "c", "d"])
        #expect(score == QualityEvaluation.Score(truePositives: 1, falsePositives: 2, falseNegatives: 1))
        #expect(abs(score.precision - 1.0 / 3) < 1e-12)
        #expect(score.recall == 0.5)
        #expect(abs(score.f1 - 0.4) < 1e-12)
        #expect(QualityEvaluation.hardCases("hard case: negation, past tense — why") == ["negation", "past tense"])
    }

    @Test("the held-out set (never tuned against): every label a real id, no snippet shared with the tuning set")
    func heldOutSet() throws {
        let url = Self.setURL.deletingLastPathComponent().appendingPathComponent("holdout.jsonl")
        let heldOut = try QualityEvaluation.load(try Data(contentsOf: url))
        let tuning = try QualityEvaluation.load(try Data(contentsOf: Self.setURL))
        #expect(heldOut.count >= 80)
        #expect(Set(heldOut.map(\.text)).isDisjoint(with: tuning.map(\.text)))
        let exchangeIDs = Set(try ConceptLexicon.bundled("exchange").concepts.map(\.id))
        let interestIDs = Set(try ConceptLexicon.bundled("interests").concepts.map(\.id))
        for item in heldOut {
            for label in item.needs + item.offers + item.skills {
                #expect(exchangeIDs.contains(label.concept), "\(item.id): \(label.concept)")
            }
            for id in item.interests { #expect(interestIDs.contains(id), "\(item.id): \(id)") }
        }
    }

    @Test("the set: at least 150 snippets in both languages, every label a real id, the hard cases present")
    func labelledSet() async throws {
        let set = try QualityEvaluation.load(try Data(contentsOf: Self.setURL))
        #expect(set.count >= 150)
        #expect(Set(set.map(\.id)).count == set.count)
        #expect(set.filter { $0.lang == "ru" }.count >= 60)
        #expect(set.filter { $0.lang == "en" }.count >= 40)
        let exchange = try ConceptLexicon.bundled("exchange")
        let interests = try ConceptLexicon.bundled("interests")
        let exchangeIDs = Set(exchange.concepts.map(\.id))
        let interestIDs = Set(interests.concepts.map(\.id))
        for item in set {
            for label in item.needs + item.offers + item.skills {
                #expect(exchangeIDs.contains(label.concept), "\(item.id): \(label.concept)")
            }
            for id in item.interests { #expect(interestIDs.contains(id), "\(item.id): \(id)") }
        }
        let tags = Set(set.flatMap { QualityEvaluation.hardCases($0.note) })
        for required in ["negation", "past tense", "someone else's need", "irony", "colloquial/typo"] {
            #expect(tags.contains(required), "\(required)")
        }
        // The evaluation runs over the whole set (its numbers are reported in docs/QUALITY.md, not pinned).
        let analyzer = try DiaryAnalyzer()
        let report = await offPool { QualityEvaluation.evaluate(set, analyzer: analyzer) }
        #expect(report.snippets == set.count)
        #expect(report.fields["needs+offers"]?["all"] != nil)
    }
}
