import ArgumentParser
import Foundation
import KindredCore

/// `kindred simulate`: a synthetic population through the real analysis, profiles, answers and
/// compatibility, measured against the population's hidden truth.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a synthetic population through the pipeline and report how well it recovers the truth.",
        discussion: """
            People are drawn from latent traits (same seed, same population) and write diaries in Russian or \
            English for --days days; the pipeline sees only the diaries and the answers (Mini-IPIP answered from \
            the latent Big Five with noise). Reported: trait recovery (Pearson r per trait), interests and \
            needs/offers/skills precision and recall, the compatibility ranking's AUC against the latent \
            compatibility, time per stage, and model tokens (0 without a model).
            """)

    @ArgumentParser.Option(help: "People in the population.")
    var users: Int = 1_000

    @ArgumentParser.Option(help: "Seed of the population.")
    var seed: UInt64 = 1

    @ArgumentParser.Option(help: "Days of diaries per person.")
    var days: Int = 7

    @ArgumentParser.Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard (2...1_000_000).contains(users) else { throw ValidationError("--users must be 2…1,000,000") }
        guard (1...365).contains(days) else { throw ValidationError("--days must be 1…365") }
    }

    struct Report: Encodable {
        var users: Int
        var days: Int
        var seed: UInt64
        var diaries: Int
        var secondsPerStage: [String: Double]
        var traitCorrelation: [String: Double]
        var precisionRecall: [String: [String: Double]]
        var compatibilityAUC: Double
        var pairsScored: Int
        var pairsFiltered: Int
        var modelTokens: Int
        var residentMegabytes: Double
    }

    func run() async throws {
        let clock = ContinuousClock()
        var times: [String: Double] = [:]
        func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
            let started = clock.now
            defer { times[stage, default: 0] += (clock.now - started).inSeconds }
            return try body()
        }
        let generator = try PopulationGenerator(seed: seed)
        let analyzer = try DiaryAnalyzer()
        let bank = try QuestionBank.bundled()
        let people = timed("generate people") { (0..<users).map(generator.person) }
        var profiles = [Profile](repeating: Profile(), count: users)
        var exchange = [String: QualityEvaluation.Score]()
        var diaryCount = 0
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        for day in 0..<days {
            for person in people {
                let (text, truth) = timed("write diaries") { generator.diary(of: person, day: day) }
                let analysis = timed("analyse") { analyzer.analyze(text) }
                timed("update profiles") {
                    profiles[person.id] = profiles[person.id].applying(analysis, at: start.addingTimeInterval(Double(day) * 86_400))
                }
                diaryCount += 1
                for (field, expected, found) in [
                    ("needs", truth.needs, analysis.needs.map(\.concept)),
                    ("offers", truth.offers, analysis.offers.map(\.concept)),
                    ("skills", truth.skills, analysis.skills.map(\.concept)),
                ] {
                    exchange[field, default: .init()].add(expected: Set(expected), found: Set(found))
                }
            }
        }
        // Answers: the Mini-IPIP items, from the latent Big Five with noise (a person is not a perfect rater).
        timed("answer questions") {
            for person in people {
                var random = SplitMix64(seed: seed &+ UInt64(person.id) &* 31)
                for question in bank.questions where question.trait.hasPrefix("bigfive.") {
                    let trait = String(question.trait.dropFirst("bigfive.".count))
                    let x = person.bigFive[trait] ?? 0.5
                    let keyed = (question.keyed ?? 1) < 0 ? 1 - x : x
                    let noise = (Double(random.next() % 1_000) / 1_000 - 0.5) * 1.2
                    let likert = min(5, max(1, Int((1 + 4 * keyed + noise).rounded())))
                    profiles[person.id] = profiles[person.id].applying(
                        answer: .scale(likert), to: question, at: start.addingTimeInterval(Double(days) * 86_400))
                }
            }
        }
        var correlation: [String: Double] = [:]
        for value in FeatureVector.valueOrder {
            correlation["values.\(value)"] = pearson(
                people.map { $0.values[value] ?? 0.5 }, people.map { profiles[$0.id].values[value]?.value ?? 0 })
        }
        for trait in FeatureVector.bigFiveOrder {
            correlation["bigFive.\(trait)"] = pearson(
                people.map { $0.bigFive[trait] ?? 0.5 }, people.map { profiles[$0.id].answers["bigfive.\(trait)"]?.value ?? 0.5 })
        }
        correlation["neuroticism~valence"] = pearson(
            people.map { $0.bigFive["neuroticism"] ?? 0.5 }, people.map { profiles[$0.id].valence.value })
        var interests = QualityEvaluation.Score()
        for person in people {
            let found = Set(profiles[person.id].interests.filter { $0.value.value >= 0.15 }.keys)
            interests.add(expected: Set(person.interests), found: found)
        }
        // Compatibility: random pairs, the latent compatibility (similar values, shared interests, both stable,
        // the same stance on children) against the matchmaker's score; AUC of telling the top third apart.
        let matchmaker = Matchmaker(scorer: CompatibilityScorer(explains: false))
        var random = SplitMix64(seed: seed &+ 99)
        var scored: [(latent: Double, predicted: Double)] = []
        var filtered = 0
        timed("compatibility") {
            let prepared = people.map { person in
                PreparedProfile(
                    MatchProfile(
                        profiles[person.id], id: "\(person.id)",
                        person: .init(age: person.age, gender: person.gender, city: person.city, lat: person.lat, lon: person.lon)))
            }
            for _ in 0..<min(20_000, users * 10) {
                let a = Int(random.next() % UInt64(users))
                let b = Int(random.next() % UInt64(users))
                guard a != b else { continue }
                let assessment = matchmaker.assess(prepared[a], prepared[b], domain: .romance)
                if !assessment.filtered.isEmpty {
                    filtered += 1
                    continue
                }
                scored.append((latentCompatibility(people[a], people[b]), assessment.score))
            }
        }
        let cut = scored.map(\.latent).sorted(by: >)[max(0, scored.count / 3 - 1)]
        let auc = Self.auc(scored.map { ($0.predicted, $0.latent >= cut) })
        let report = Report(
            users: users, days: days, seed: seed, diaries: diaryCount, secondsPerStage: times.mapValues { ($0 * 100).rounded() / 100 },
            traitCorrelation: correlation.mapValues { ($0 * 1000).rounded() / 1000 },
            precisionRecall: Dictionary(
                uniqueKeysWithValues: (exchange.map { ($0.key, $0.value) } + [("interests", interests)]).map {
                    ($0.0, ["precision": ($0.1.precision * 1000).rounded() / 1000, "recall": ($0.1.recall * 1000).rounded() / 1000])
                }),
            compatibilityAUC: (auc * 1000).rounded() / 1000, pairsScored: scored.count, pairsFiltered: filtered,
            modelTokens: 0, residentMegabytes: Bench.Matching.residentMegabytes())
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("\(users) people × \(days) days = \(diaryCount) diaries (seed \(seed)), no model (0 tokens)\n")
        print("| stage | seconds |\n|---|---|")
        for (stage, seconds) in report.secondsPerStage.sorted(by: { $0.key < $1.key }) { print("| \(stage) | \(seconds) |") }
        print("\n| trait | r (latent vs profile) |\n|---|---|")
        for (trait, r) in report.traitCorrelation.sorted(by: { $0.key < $1.key }) { print("| \(trait) | \(r) |") }
        print("\n| field | precision | recall |\n|---|---|---|")
        for (field, pr) in report.precisionRecall.sorted(by: { $0.key < $1.key }) {
            print("| \(field) | \(pr["precision"]!) | \(pr["recall"]!) |")
        }
        print("\ncompatibility AUC (matchmaker score vs the latent top third): \(report.compatibilityAUC) over \(scored.count) pairs (\(filtered) filtered)")
        print(String(format: "resident memory: %.0f MB", report.residentMegabytes))
    }

    /// The compatibility the population was built with (never shown to the pipeline).
    func latentCompatibility(_ a: SyntheticPerson, _ b: SyntheticPerson) -> Double {
        let values = 1 - FeatureVector.valueOrder.map { abs((a.values[$0] ?? 0.5) - (b.values[$0] ?? 0.5)) }.reduce(0, +) / 10
        let shared = Double(Set(a.interests).intersection(b.interests).count) / Double(max(1, Set(a.interests).union(b.interests).count))
        let stability = 1 - ((a.bigFive["neuroticism"] ?? 0.5) + (b.bigFive["neuroticism"] ?? 0.5)) / 2
        let children = a.goals["children"] == b.goals["children"] ? 1.0 : 0.0
        return 0.35 * values + 0.2 * shared + 0.3 * stability + 0.15 * children
    }

    /// Area under the ROC curve by ranks (ties count half).
    static func auc(_ items: [(score: Double, positive: Bool)]) -> Double {
        let sorted = items.sorted { $0.score < $1.score }
        var rankSum = 0.0
        var index = 0
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count, sorted[end + 1].score == sorted[index].score { end += 1 }
            let rank = Double(index + end) / 2 + 1
            for k in index...end where sorted[k].positive { rankSum += rank }
            index = end + 1
        }
        let positives = Double(sorted.filter(\.positive).count)
        let negatives = Double(sorted.count) - positives
        guard positives > 0, negatives > 0 else { return 0.5 }
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives)
    }
}

func pearson(_ x: [Double], _ y: [Double]) -> Double {
    guard x.count == y.count, x.count > 2 else { return 0 }
    let mx = x.reduce(0, +) / Double(x.count)
    let my = y.reduce(0, +) / Double(y.count)
    var sxy = 0.0
    var sxx = 0.0
    var syy = 0.0
    for (a, b) in zip(x, y) {
        sxy += (a - mx) * (b - my)
        sxx += (a - mx) * (a - mx)
        syy += (b - my) * (b - my)
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0
}
