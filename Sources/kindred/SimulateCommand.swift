import ArgumentParser
import Foundation
import KindredAI
import KindredApp
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

    @ArgumentParser.Option(help: "Questions each person answers after each diary (the next best ones).")
    var questionsPerDay: Int = 3

    @ArgumentParser.Option(
        help: "People (the first N) whose diaries also go through the configured chat model: retold by it in other words, then its extraction refines the analysis, as the pipeline does; tokens and cost reported. 0: no model calls."
    )
    var modelPeople: Int = 0

    @ArgumentParser.Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard (2...1_000_000).contains(users) else { throw ValidationError("--users must be 2…1,000,000") }
        guard (1...365).contains(days) else { throw ValidationError("--days must be 1…365") }
        guard (0...97).contains(questionsPerDay) else { throw ValidationError("--questions-per-day must be 0…97") }
        guard (0...users).contains(modelPeople) else { throw ValidationError("--model-people must be 0…--users") }
    }

    /// What a model stage used.
    struct ModelUsage: Encodable {
        var calls = 0
        var failures = 0
        /// Calls the gateway kept local (a task routed to the lexicons when only the small local model is there).
        var skipped = 0
        var promptTokens = 0
        var completionTokens = 0
        var costUSD = 0.0
        var tokens: Int { promptTokens + completionTokens }

        mutating func add<T>(_ reply: GatewayReply<T>, usage: TokenUsage) {
            calls += 1
            promptTokens += usage.promptTokens
            completionTokens += usage.completionTokens
            costUSD += reply.costUSD
        }
    }

    struct Report: Encodable {
        var users: Int
        var days: Int
        var seed: UInt64
        var diaries: Int
        var answers: Int
        var secondsPerStage: [String: Double]
        /// Pearson r between a latent trait and the profile's estimate, over the people whose profile has one.
        var traitCorrelation: [String: Double]
        /// How many people the correlation of each trait is over.
        var traitPeople: [String: Int]
        /// Share of people whose recovered stance / dominant mode is the latent one.
        var accuracy: [String: Double]
        var precisionRecall: [String: [String: Double]]
        var compatibilityAUC: Double
        /// The AUC against the matchmaker's own ranking of perfectly known people, and Pearson r with it.
        var oracleAUC: Double
        var oracleCorrelation: Double
        /// Pearson r between each level's score on the pipeline's profiles and on perfectly known people.
        var levelRecovery: [String: Double]
        /// The same for the weighted sum of the levels both know (communication has no latent counterpart).
        var sharedLevelRecovery: Double
        /// The AUC of each level's score alone.
        var levelAUC: [String: Double]
        var pairsScored: Int
        var pairsFiltered: Int
        /// Where the candidates the matcher proposes sit in the latent compatibility of everyone it could
        /// have proposed (0.5 = no better than chance, 1 = always the truly best).
        var candidatePercentile: Double
        var candidateQueries: Int
        var modelTokens: Int
        /// Per model stage (`paraphrase`, `refine`): calls, failures, tokens, cost.
        var modelStages: [String: ModelUsage]
        var modelPeople: Int
        var residentMegabytes: Double
    }

    func run() async throws {
        guard modelPeople > 0 else { return try await simulate(models: nil) }
        let configuration = try loadConfiguration()
        try await withModels(configuration) { models in
            guard models.hasChatModel else {
                FileHandle.standardError.write(
                    Data("no chat model is configured (KINDRED_LLM_*, KINDRED_YANDEX_*): the model stages are skipped\n".utf8))
                return try await simulate(models: nil)
            }
            try await simulate(models: models)
        }
    }

    /// Retells a diary in other words through the model (the generator's facts kept); nil when it fails.
    func paraphrase(_ text: String, language: String, models: ModelGateway, usage: inout ModelUsage) async -> String? {
        let instruction =
            language == "ru"
            ? "Перескажи эту запись дневника своими словами, как сказал бы тот же человек в другой день: те же факты, вещи, нужды и чувства, разговорно, по-русски, ничего не добавляй. Ответь только текстом."
            : "Retell this diary entry in other words, as the same person would say it another day: the same facts, things, needs and feelings, colloquial, in English, adding nothing. Reply with the text only."
        do {
            let reply = try await models.chat(
                ChatRequest(messages: [.system(instruction), .user(text)], temperature: 0.8, maxTokens: 600, cache: .never),
                context: ModelCallContext(task: ModelTask.paraphrase))
            usage.add(reply, usage: reply.value.usage)
            let retold = reply.value.text.trimmingCharacters(in: .whitespacesAndNewlines)
            return retold.isEmpty ? nil : retold
        } catch {
            usage.failures += 1
            return nil
        }
    }

    /// The pipeline's refinement: the model's JSON extraction merged into the local analysis.
    func refine(
        _ analysis: DiaryAnalysis, text: String, analyzer: DiaryAnalyzer, models: ModelGateway, usage: inout ModelUsage
    ) async -> DiaryAnalysis {
        do {
            let reply = try await models.chat(
                ChatRequest(
                    messages: AnalysisRefinement.messages(for: text), temperature: 0, maxTokens: 500,
                    responseSchema: try AnalysisRefinement.schema()),
                context: ModelCallContext(task: ModelTask.analysisRefine))
            usage.add(reply, usage: reply.value.usage)
            guard let extraction = AnalysisRefinement.parse(reply.value.text) else {
                usage.failures += 1
                return analysis
            }
            return analyzer.refine(analysis, with: extraction, text: text, tier: reply.tier.rawValue)
        } catch ModelGatewayError.localTask {
            usage.skipped += 1
            return analysis
        } catch {
            usage.failures += 1
            return analysis
        }
    }

    func simulate(models: ModelGateway?) async throws {
        let clock = ContinuousClock()
        var times: [String: Double] = [:]
        func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
            let started = clock.now
            defer { times[stage, default: 0] += (clock.now - started).inSeconds }
            return try body()
        }
        let generator = try PopulationGenerator(seed: seed)
        let analyzer = try DiaryAnalyzer()
        let life = SimulatedLife(analyzer: analyzer, bank: try QuestionBank.bundled(), questionsPerDay: questionsPerDay)
        var modelStages: [String: ModelUsage] = [:]
        let respondent = SyntheticRespondent()
        let people = timed("generate people") { (0..<users).map(generator.person) }
        // The pipeline's side: sign-up facts, then only what each day's diary and answers give it.
        var lives = people.map { SimulatedLife.State(account: SyntheticAccount(signUpOf: $0)) }
        var exchange = [String: QualityEvaluation.Score]()
        var diaryCount = 0
        for day in 0..<days {
            for person in people {
                var (text, truth) = timed("write diaries") { generator.diary(of: person, day: day) }
                let analysis: DiaryAnalysis
                if let models, person.id < modelPeople {
                    // Through the model: retold, then analysed and refined as the pipeline would.
                    var started = clock.now
                    var paraphrasing = modelStages["paraphrase"] ?? ModelUsage()
                    if let retold = await paraphrase(text, language: person.language, models: models, usage: &paraphrasing) {
                        text = retold
                    }
                    modelStages["paraphrase"] = paraphrasing
                    times["model: paraphrase", default: 0] += (clock.now - started).inSeconds
                    let local = timed("analyse and update profiles") { analyzer.analyze(text) }
                    started = clock.now
                    var refining = modelStages["refine"] ?? ModelUsage()
                    analysis = await refine(local, text: text, analyzer: analyzer, models: models, usage: &refining)
                    modelStages["refine"] = refining
                    times["model: refine", default: 0] += (clock.now - started).inSeconds
                    timed("analyse and update profiles") { life.take(analysis, of: text, day: day, state: &lives[person.id]) }
                } else {
                    analysis = timed("analyse and update profiles") { life.write(day: day, diary: text, state: &lives[person.id]) }
                }
                var random = SplitMix64(seed: seed &+ UInt64(person.id) &* 31 &+ UInt64(day) << 40)
                timed("ask and answer questions") {
                    life.ask(day: day, state: &lives[person.id]) { respondent.answer($0, by: person, random: &random) }
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
        let profiles = lives.map(\.profile)
        var correlation: [String: Double] = [:]
        var counted: [String: Int] = [:]
        func correlate(_ name: String, _ pairs: [(Double, Double)]) {
            counted[name] = pairs.count
            correlation[name] = pearson(pairs.map(\.0), pairs.map(\.1))
        }
        for value in FeatureVector.valueOrder {
            correlate("values.\(value) (diaries)", people.map { ($0.values[value] ?? 0.5, profiles[$0.id].values[value]?.value ?? 0) })
            correlate(
                "values.\(value) (answers)",
                people.compactMap { p in profiles[p.id].answers["values.\(value)"].map { (p.values[value] ?? 0.5, $0.value) } })
        }
        for trait in FeatureVector.bigFiveOrder {
            correlate(
                "bigFive.\(trait)",
                people.compactMap { p in profiles[p.id].answers["bigfive.\(trait)"].map { (p.bigFive[trait] ?? 0.5, $0.value) } })
        }
        for dimension in ["anxiety", "avoidance"] {
            correlate(
                "attachment.\(dimension)",
                people.compactMap { p in profiles[p.id].answers["attachment.\(dimension)"].map { (p.attachment[dimension] ?? 0.5, $0.value) } })
        }
        correlate("neuroticism~valence (diaries)", people.map { ($0.bigFive["neuroticism"] ?? 0.5, profiles[$0.id].valence.value) })
        var accuracy: [String: Double] = [:]
        for topic in ["children", "marriage", "relocation", "career", "lifestyle"] {
            let known = people.compactMap { p in profiles[p.id].goals[topic]?.stance.map { ($0, p.goals[topic]) } }
            accuracy["goals.\(topic) (n=\(known.count))"] = known.isEmpty ? 0 : Double(known.filter { $0.0 == $0.1 }.count) / Double(known.count)
        }
        let modes = people.compactMap { p -> Bool? in
            let scores = ConflictReader.modes.compactMap { m in profiles[p.id].conflict["mode.\(m)"].map { (m, $0.value) } }
            guard let top = scores.max(by: { $0.1 < $1.1 }) else { return nil }
            return top.0 == p.conflictMode
        }
        accuracy["conflict mode (n=\(modes.count), chance 0.2)"] = modes.isEmpty ? 0 : Double(modes.filter { $0 }.count) / Double(modes.count)
        var interests = QualityEvaluation.Score()
        for person in people {
            let found = Set(profiles[person.id].interests.filter { $0.value.value >= 0.15 }.keys)
            interests.add(expected: Set(person.interests), found: found)
        }
        // Compatibility: random pairs, the latent compatibility (similar values, shared interests, both stable,
        // the same stance on children) against the matchmaker's score; AUC of telling the top third apart.
        let matchmaker = Matchmaker(scorer: CompatibilityScorer(explains: false))
        var random = SplitMix64(seed: seed &+ 99)
        var scored: [(latent: Double, predicted: Double, levels: [CompatibilityLevel: Double], oracle: Double)] = []
        var levelPairs: [CompatibilityLevel: [(Double, Double)]] = [:]
        // The levels both the pipeline and the perfectly known people have, combined with the domain's weights.
        var sharedLevels: [(known: Double, found: Double)] = []
        var levelSpread: [CompatibilityLevel: [(score: Double, confidence: Double)]] = [:]
        let weights = MatchDomain.romance.weights
        let oracles = people.map { PreparedProfile(MatchProfile(oracleOf: $0)) }
        var filtered = 0
        let prepared = timed("prepare profiles") { lives.map { PreparedProfile(MatchProfile($0)) } }
        timed("compatibility") {
            for _ in 0..<min(20_000, users * 10) {
                let a = Int(random.next() % UInt64(users))
                let b = Int(random.next() % UInt64(users))
                guard a != b else { continue }
                let assessment = matchmaker.assess(prepared[a], prepared[b], domain: .romance)
                if !assessment.filtered.isEmpty {
                    filtered += 1
                    continue
                }
                let oracle = matchmaker.assess(oracles[a], oracles[b], domain: .romance)
                scored.append(
                    (latentCompatibility(people[a], people[b]), assessment.score, assessment.levels.mapValues(\.score),
                     oracle.score))
                for (level, estimate) in assessment.levels { levelSpread[level, default: []].append((estimate.score, estimate.confidence)) }
                var known = 0.0
                var found = 0.0
                var weight = 0.0
                for (level, truth) in oracle.levels where truth.confidence > 0 {
                    if let estimate = assessment.levels[level], estimate.confidence > 0 {
                        levelPairs[level, default: []].append((truth.score, estimate.score))
                        let w = weights[level] ?? 0
                        known += w * truth.score
                        found += w * estimate.score
                        weight += w
                    }
                }
                if weight > 0 { sharedLevels.append((known / weight, found / weight)) }
            }
        }
        let cut = scored.map(\.latent).sorted(by: >)[max(0, scored.count / 3 - 1)]
        let auc = Self.auc(scored.map { ($0.predicted, $0.latent >= cut) })
        // Recovery apart from the theory: the same matchmaker on perfectly known people (the latent traits as
        // profiles) ranks the pairs; how well does the pipeline's score tell its top third apart?
        let oracleCut = scored.map(\.oracle).sorted(by: >)[max(0, scored.count / 3 - 1)]
        let oracleAUC = Self.auc(scored.map { ($0.predicted, $0.oracle >= oracleCut) })
        let oracleCorrelation = pearson(scored.map(\.oracle), scored.map(\.predicted))
        let sharedRecovery = pearson(sharedLevels.map(\.known), sharedLevels.map(\.found))
        var levelRecovery: [String: Double] = [:]
        for (level, pairs) in levelPairs { levelRecovery[level.rawValue] = pearson(pairs.map(\.0), pairs.map(\.1)) }
        // Each level alone: which of them carries the signal.
        var levelAUC: [String: Double] = [:]
        for level in CompatibilityLevel.allCases {
            levelAUC[level.rawValue] = Self.auc(scored.map { ($0.levels[level] ?? 0, $0.latent >= cut) })
        }
        // Candidates as the app finds them: the vector index of each city, the best 50 re-scored, the top 10
        // proposed; each proposal placed in the latent compatibility of everyone the person could be matched with.
        var index = CandidateIndex()
        timed("index candidates") {
            for (id, profile) in prepared.enumerated() {
                let vectors = FeatureVector.make(profile.profile, domain: .romance)
                try? index.upsert(id: id, block: people[id].city, selfVector: vectors.0, wants: vectors.1)
            }
        }
        var percentiles: [Double] = []
        let queries = min(users, 300)
        timed("find candidates") {
            let byCity = Dictionary(grouping: people.map(\.id), by: { people[$0].city })
            for _ in 0..<queries {
                let id = Int(random.next() % UInt64(users))
                let eligible = (byCity[people[id].city] ?? []).filter {
                    $0 != id && matchmaker.assess(prepared[id], prepared[$0], domain: .romance).filtered.isEmpty
                }
                guard eligible.count >= 20 else { continue }
                let allowed = Set(eligible)
                let proposed = index.topK(for: id, k: 50) { !allowed.contains($0) }
                    .map { ($0.id, matchmaker.assess(prepared[id], prepared[$0.id], domain: .romance).score) }
                    .sorted { $0.1 > $1.1 }.prefix(10)
                let latent = eligible.map { latentCompatibility(people[id], people[$0]) }
                for (other, _) in proposed {
                    let own = latentCompatibility(people[id], people[other])
                    percentiles.append(Double(latent.filter { $0 < own }.count) / Double(latent.count - 1))
                }
            }
        }
        let candidatePercentile = percentiles.isEmpty ? 0 : percentiles.reduce(0, +) / Double(percentiles.count)
        func rounded(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
        let report = Report(
            users: users, days: days, seed: seed, diaries: diaryCount, answers: lives.map(\.account.answers.count).reduce(0, +),
            secondsPerStage: times.mapValues { ($0 * 100).rounded() / 100 },
            traitCorrelation: correlation.mapValues(rounded), traitPeople: counted, accuracy: accuracy.mapValues(rounded),
            precisionRecall: Dictionary(
                uniqueKeysWithValues: (exchange.map { ($0.key, $0.value) } + [("interests", interests)]).map {
                    ($0.0, ["precision": rounded($0.1.precision), "recall": rounded($0.1.recall)])
                }),
            compatibilityAUC: rounded(auc), oracleAUC: rounded(oracleAUC), oracleCorrelation: rounded(oracleCorrelation), levelRecovery: levelRecovery.mapValues(rounded), sharedLevelRecovery: rounded(sharedRecovery), levelAUC: levelAUC.mapValues(rounded), pairsScored: scored.count, pairsFiltered: filtered,
            candidatePercentile: rounded(candidatePercentile), candidateQueries: queries,
            modelTokens: modelStages.values.map(\.tokens).reduce(0, +), modelStages: modelStages,
            modelPeople: models == nil ? 0 : modelPeople, residentMegabytes: Bench.Matching.residentMegabytes())
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        let modelLine =
            models == nil
            ? "no model (0 tokens)"
            : "the first \(modelPeople) people through the model: \(report.modelTokens) tokens"
                + String(format: ", $%.4f", modelStages.values.map(\.costUSD).reduce(0, +))
        print("\(users) people × \(days) days = \(diaryCount) diaries and \(report.answers) answers (seed \(seed)), \(modelLine)\n")
        if !modelStages.isEmpty {
            print("| model stage | calls | kept local | failures | prompt tokens | completion tokens | tokens per diary | cost, $ |\n|---|---|---|---|---|---|---|---|")
            for (stage, usage) in modelStages.sorted(by: { $0.key < $1.key }) {
                let perDiary = usage.calls > 0 ? usage.tokens / usage.calls : 0
                print(
                    "| \(stage) | \(usage.calls) | \(usage.skipped) | \(usage.failures) | \(usage.promptTokens) | \(usage.completionTokens) | \(perDiary) | \(String(format: "%.4f", usage.costUSD)) |")
            }
            print()
        }
        print("| stage | seconds |\n|---|---|")
        for (stage, seconds) in report.secondsPerStage.sorted(by: { $0.key < $1.key }) { print("| \(stage) | \(seconds) |") }
        print("| total | \((times.values.reduce(0, +) * 100).rounded() / 100) |")
        print("\n| trait | r (latent vs profile) | people |\n|---|---|---|")
        for (trait, r) in report.traitCorrelation.sorted(by: { $0.key < $1.key }) { print("| \(trait) | \(r) | \(counted[trait] ?? 0) |") }
        print("\n| recovered | share right |\n|---|---|")
        for (name, share) in report.accuracy.sorted(by: { $0.key < $1.key }) { print("| \(name) | \(share) |") }
        print("\n| field | precision | recall |\n|---|---|---|")
        for (field, pr) in report.precisionRecall.sorted(by: { $0.key < $1.key }) {
            print("| \(field) | \(pr["precision"] ?? 0) | \(pr["recall"] ?? 0) |")
        }
        print("\ncompatibility AUC (matchmaker score vs the latent top third): \(report.compatibilityAUC) over \(scored.count) pairs (\(filtered) filtered)")
        print("against the matchmaker on perfectly known people (recovery): AUC \(report.oracleAUC), r \(report.oracleCorrelation)")
        print("weighted levels both know (all but communication), r with perfectly known people: \(report.sharedLevelRecovery)")
        print("level recovery (r with perfectly known people): " + report.levelRecovery.sorted(by: { $0.key < $1.key }).map {
            "\($0.key) \($0.value) (\(levelPairs[CompatibilityLevel(rawValue: $0.key) ?? .basic]?.count ?? 0) pairs)"
        }.joined(separator: ", "))
        print("level score spread (sd) and mean confidence: " + CompatibilityLevel.allCases.map { level in
            let items = levelSpread[level] ?? []
            let mean = items.map(\.score).reduce(0, +) / Double(max(1, items.count))
            let sd = (items.map { ($0.score - mean) * ($0.score - mean) }.reduce(0, +) / Double(max(1, items.count))).squareRoot()
            let confidence = items.map(\.confidence).reduce(0, +) / Double(max(1, items.count))
            return "\(level.rawValue) sd \(String(format: "%.3f", sd)) conf \(String(format: "%.2f", confidence))"
        }.joined(separator: ", "))
        print("by level alone: " + CompatibilityLevel.allCases.map { "\($0.rawValue) \(report.levelAUC[$0.rawValue] ?? 0)" }.joined(separator: ", "))
        print("proposed candidates (top 10 of the index's 50, re-scored) sit at the \(report.candidatePercentile) percentile of latent compatibility among everyone eligible (0.5 = chance), \(percentiles.count) proposals")
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
