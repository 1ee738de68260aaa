import ArgumentParser
import Dispatch
import Foundation
import KindredCore

extension Bench {
    /// `kindred bench matching`: candidate search, re-scoring and the daily assignment at scale, for
    /// docs/PERFORMANCE.md.
    struct Matching: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Candidate search and the daily refresh for N synthetic profiles in one city.")

        @ArgumentParser.Option(help: "Profiles in the city.")
        var profiles: Int = 100_000

        @ArgumentParser.Option(help: "Candidates per person.")
        var candidates: Int = 50

        @ArgumentParser.Option(help: "People whose single top-k query is timed.")
        var queries: Int = 1_000

        @ArgumentParser.Option(help: "People in the timed daily refresh (0: everyone; fewer: extrapolated).")
        var refresh: Int = 0

        @ArgumentParser.Option(help: "Threads for the daily refresh.")
        var threads: Int = 2

        func validate() throws {
            guard (100...5_000_000).contains(profiles) else { throw ValidationError("--profiles must be 100…5,000,000") }
            guard (1...500).contains(candidates) else { throw ValidationError("--candidates must be 1…500") }
            guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1…64") }
        }

        func run() async throws {
            let clock = ContinuousClock()
            var started = clock.now
            let people = (0..<profiles).map { Self.synthetic($0) }
            print(String(format: "%d synthetic profiles made in %.1f s", profiles, (clock.now - started).inSeconds))

            started = clock.now
            var index = CandidateIndex()
            // Blocks by city, domain and gender: a woman seeking men is compared with the block of men.
            func block(_ id: Int) -> String { "kazan/romance/" + (people[id].person?.gender ?? "") }
            for (id, _) in people.enumerated() {
                let vectors = FeatureVector.make(people[id], domain: .romance)
                try index.upsert(id: id, block: block(id), selfVector: vectors.0, wants: vectors.1)
            }
            let wantedBlocks = people.map { "kazan/romance/" + ($0.preferences?.genders?.first ?? "") }
            @Sendable func wanted(_ id: Int) -> String { wantedBlocks[id] }
            let build = (clock.now - started).inSeconds
            print(
                String(
                    format: "index built in %.2f s (%.1f µs per profile); vectors and maps: %.1f MB",
                    build, build / Double(profiles) * 1e6, Double(index.memoryBytes) / 1_048_576))

            // One person's top-k in the block of the people they want to meet.
            var latencies: [Double] = []
            var generator = SplitMix64(seed: 7)
            for _ in 0..<queries {
                let id = Int(generator.next() % UInt64(profiles))
                let t = clock.now
                let found = index.topK(for: id, k: candidates, in: wanted(id))
                latencies.append((clock.now - t).inMilliseconds)
                precondition(found.count == min(candidates, profiles / 2 - 1) || found.count <= candidates)
            }
            latencies.sort()
            print(
                String(
                    format: "top-%d for one person: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d queries)", candidates,
                    latencies[latencies.count / 2], latencies[latencies.count * 99 / 100], latencies.last!, queries))

            // The daily refresh: top-k for everyone, re-scored on five levels, then the capacity-constrained
            // assignment.
            let count = refresh == 0 ? profiles : min(refresh, profiles)
            let matchmaker = Matchmaker(scorer: CompatibilityScorer(explains: false))
            let prepareStarted = clock.now
            let prepared = people.map(PreparedProfile.init)
            print(String(format: "profiles prepared for scoring in %.2f s", (clock.now - prepareStarted).inSeconds))
            let chunk = (count + threads - 1) / threads
            let lists = Lists(count: count)
            let searchIndex = index
            started = clock.now
            let searchTime = Atomic()
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                let range = (thread * chunk)..<min(count, (thread + 1) * chunk)
                var searching = 0.0
                for id in range {
                    let s = ContinuousClock.now
                    let found = searchIndex.topK(for: id, k: candidates, in: wanted(id))
                    searching += (ContinuousClock.now - s).inSeconds
                    var scored: [(id: Int, score: Float)] = []
                    scored.reserveCapacity(found.count)
                    for candidate in found {
                        let assessment = matchmaker.assess(prepared[id], prepared[candidate.id], domain: .romance)
                        if assessment.filtered.isEmpty { scored.append((candidate.id, Float(assessment.lower))) }
                    }
                    lists.set(id, scored)
                }
                searchTime.add(searching)
            }
            let scoring = (clock.now - started).inSeconds
            started = clock.now
            var prices: [Int: Float] = [:]
            let result = DailyAssignment().assign(
                candidates: lists.dictionary(), capacity: { _ in 3 }, prices: &prices)
            let assignment = (clock.now - started).inSeconds
            let total = scoring + assignment
            let scale = Double(profiles) / Double(count)
            print(
                String(
                    format: "daily refresh of %d people on %d threads: search+re-score %.1f s (search %.1f s of thread time), assignment %.2f s, total %.1f s%@",
                    count, threads, scoring, searchTime.value, assignment, total,
                    count < profiles ? String(format: " → extrapolated to %d people: %.0f s", profiles, total * scale) : ""))
            print(
                "proposals: \(result.proposals.count), most lists one person is in: \(result.maxInListCount), "
                    + "people with a proposal: \(result.degree.count)")
            print(String(format: "resident memory: %.0f MB", Self.residentMegabytes()))
        }

        /// A synthetic adult in Kazan: random traits with plausible confidences (deterministic per id).
        static func synthetic(_ id: Int) -> MatchProfile {
            var random = SplitMix64(seed: UInt64(id) &* 0x9E37_79B9_7F4A_7C15 &+ 1)
            func unit() -> Double { Double(random.next() % 10_000) / 10_000 }
            var p = MatchProfile()
            p.id = "s\(id)"
            let female = id % 2 == 0
            p.person = .init(
                age: 20 + Int(random.next() % 30), gender: female ? "female" : "male", city: "kazan",
                lat: 55.75 + unit() * 0.1, lon: 49.05 + unit() * 0.15, languages: ["ru"])
            p.preferences = .init(genders: [female ? "male" : "female"], ageMin: 18, ageMax: 60, maxDistanceKm: 50)
            for value in FeatureVector.valueOrder { p.values[value] = .init(unit(), confidence: 0.5 + unit() / 2) }
            for trait in FeatureVector.bigFiveOrder { p.bigFive[trait] = .init(unit(), confidence: 0.6) }
            p.attachment = ["anxiety": .init(unit() * 0.8, confidence: 0.6), "avoidance": .init(unit() * 0.8, confidence: 0.6)]
            p.valence = .init(unit() * 1.4 - 0.6, confidence: 0.7)
            for mode in ConflictReader.modes { p.conflict["mode.\(mode)"] = .init(unit(), confidence: 0.5) }
            p.conflict["horseman.criticism"] = .init(unit() * 0.4, confidence: 0.5)
            let children = ["wants", "does_not_want", "undecided", "has"][Int(random.next() % 4)]
            p.goals = [
                "children": .init(stance: children, confidence: 0.4 + unit() * 0.6),
                "lifestyle": .init(stance: ["active", "homebody", "urban"][Int(random.next() % 3)], confidence: 0.7),
            ]
            for _ in 0..<(3 + Int(random.next() % 4)) {
                p.interests[interestIDs[Int(random.next() % UInt64(interestIDs.count))]] = .init(0.3 + unit() * 0.7, confidence: 0.8)
            }
            for category in FunctionWordProfile.categories {
                p.style["fw.\(category)"] = .init(unit() * 0.1, confidence: 0.7)
            }
            p.style["wordsPerSentence"] = .init(6 + unit() * 14, confidence: 0.8)
            p.style["questionRate"] = .init(unit() * 0.3, confidence: 0.8)
            p.diaries = 5 + Int(random.next() % 40)
            return p
        }

        static let interestIDs = [
            "hiking", "chess", "cooking", "yoga", "running", "reading", "movies", "travel", "photography", "music",
            "board_games", "cycling", "dancing", "gardening", "video_games", "theatre", "swimming", "dogs", "cats",
            "coffee",
        ]

        static func residentMegabytes() -> Double {
            guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
            else { return 0 }
            let kilobytes = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kilobytes / 1024
        }
    }
}

/// Candidate lists filled from several threads, each writing its own slots.
private final class Lists: @unchecked Sendable {
    private var lists: [[(id: Int, score: Float)]]
    private let lock = NSLock()

    init(count: Int) { lists = Array(repeating: [], count: count) }

    func set(_ id: Int, _ list: [(id: Int, score: Float)]) { lock.withLock { lists[id] = list } }

    func dictionary() -> [Int: [(id: Int, score: Float)]] {
        lock.withLock { Dictionary(uniqueKeysWithValues: lists.enumerated().map { ($0.offset, $0.element) }) }
    }
}

private final class Atomic: @unchecked Sendable {
    private var total = 0.0
    private let lock = NSLock()

    func add(_ value: Double) { lock.withLock { total += value } }
    var value: Double { lock.withLock { total } }
}
