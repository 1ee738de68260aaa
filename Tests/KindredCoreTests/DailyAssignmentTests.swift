import Foundation
import Testing

@testable import KindredCore

@Suite("Capacity-constrained daily recommendations")
struct DailyAssignmentTests {
    typealias Pair = DailyAssignment.Pair
    typealias Candidates = [Int: [(id: Int, score: Float)]]

    /// A synthetic city with symmetric mutual scores `s_ij = (pop_i + pop_j)/2 + u_ij`, u uniform in [0, 1):
    /// the first `popular` people have popularity 2, so each of them outranks everyone else in every list.
    struct Population {
        let size: Int
        let scores: [Float]

        init(size: Int, popular: Int, seed: UInt64) {
            var generator = SplitMix64(seed: seed)
            var scores = [Float](repeating: 0, count: size * size)
            let popularity = (0..<size).map { $0 < popular ? Float(2) : 0 }
            for i in 0..<size {
                for j in (i + 1)..<size {
                    let score = (popularity[i] + popularity[j]) / 2 + Float.random(in: 0..<1, using: &generator)
                    scores[i * size + j] = score
                    scores[j * size + i] = score
                }
            }
            self.size = size
            self.scores = scores
        }

        /// Everyone's top `k` by the price-adjusted score (ties by id), carrying the unadjusted score.
        func lists(k: Int, prices: [Int: Float]) -> Candidates {
            var lists: Candidates = [:]
            for person in 0..<size {
                var others: [(id: Int, score: Float)] = []
                for other in 0..<size where other != person {
                    others.append((id: other, score: scores[person * size + other]))
                }
                others.sort { left, right in
                    let leftValue = DailyAssignment.adjusted(score: left.score, price: prices[left.id] ?? 0)
                    let rightValue = DailyAssignment.adjusted(score: right.score, price: prices[right.id] ?? 0)
                    return leftValue != rightValue ? leftValue > rightValue : left.id < right.id
                }
                lists[person] = Array(others.prefix(k))
            }
            return lists
        }
    }

    /// Each of `people` lists up to `listLength` random others with random scores in (0, 1].
    static func randomCandidates(people: Int, listLength: Int, seed: UInt64) -> Candidates {
        var generator = SplitMix64(seed: seed)
        var lists: Candidates = [:]
        for person in 0..<people {
            var others = (0..<people).filter { $0 != person }
            others.shuffle(using: &generator)
            lists[person] = others.prefix(listLength).map { other in
                (id: other, score: Float.random(in: 0.01...1, using: &generator))
            }
        }
        return lists
    }

    @Test("nobody gets more proposals than their capacity")
    func degreesRespectCapacity() {
        let lists = Self.randomCandidates(people: 60, listLength: 8, seed: 21)
        let capacity: (Int) -> Int = { $0 % 4 }
        var prices: [Int: Float] = [:]
        let result = DailyAssignment().assign(candidates: lists, capacity: capacity, prices: &prices)
        #expect(!result.proposals.isEmpty)
        for person in 0..<60 {
            #expect(result.degree(of: person) <= capacity(person), "person \(person)")
        }
        let pairs = result.proposals.map(\.pair)
        #expect(Set(pairs).count == pairs.count)
        #expect(pairs.allSatisfy { $0.low < $0.high })
    }

    @Test("a skipped pair is never proposed, even when it is the heaviest")
    func skippedPairsAreNeverChosen() {
        let lists: Candidates = [
            0: [(id: 1, score: 0.9), (id: 2, score: 0.5)],
            1: [(id: 0, score: 0.9), (id: 2, score: 0.4)],
            2: [(id: 0, score: 0.5), (id: 1, score: 0.4)],
        ]
        var prices: [Int: Float] = [:]
        let result = DailyAssignment().assign(
            candidates: lists, capacity: { _ in 1 }, skipping: [Pair(1, 0)], prices: &prices)
        #expect(result.proposals == [DailyAssignment.Proposal(pair: Pair(0, 2), weight: 0.5)])

        let crowd = Self.randomCandidates(people: 40, listLength: 6, seed: 22)
        var skipped: Set<Pair> = []
        for (person, list) in crowd {
            for entry in list.prefix(3) { skipped.insert(Pair(entry.id, person)) }
        }
        let chosen = DailyAssignment().assign(
            candidates: crowd, capacity: { _ in 3 }, skipping: skipped, prices: &prices)
        #expect(!chosen.proposals.isEmpty)
        #expect(chosen.proposals.allSatisfy { !skipped.contains($0.pair) })
    }

    @Test("an edge listed from one side counts, at the larger of the two scores")
    func symmetrizedWeightIsTheMaximum() {
        let lists: Candidates = [
            0: [(id: 1, score: 0.3)],
            1: [(id: 0, score: 0.7)],
            2: [(id: 3, score: 0.2)],
        ]
        var prices: [Int: Float] = [:]
        let result = DailyAssignment().assign(candidates: lists, capacity: { _ in 1 }, prices: &prices)
        #expect(
            result.proposals == [
                DailyAssignment.Proposal(pair: Pair(0, 1), weight: 0.7),
                DailyAssignment.Proposal(pair: Pair(2, 3), weight: 0.2),
            ])
    }

    @Test("people in everyone's top-k get at most b proposals")
    func popularPeopleAreNotFlooded() {
        let city = Population(size: 120, popular: 4, seed: 31)
        var prices: [Int: Float] = [:]
        let lists = city.lists(k: 5, prices: prices)
        let result = DailyAssignment().assign(candidates: lists, capacity: { _ in 3 }, prices: &prices)
        // Plain top-5 shows each popular person to all 119 others.
        #expect(result.maxInListCount == 119)
        for popular in 0..<4 {
            #expect(result.inListCount[popular] == 119)
            #expect(result.degree(of: popular) <= 3)
        }
        #expect(result.degree.values.allSatisfy { $0 <= 3 })
    }

    @Test("prices carried across days spread the lists: day 8's most-listed person is listed far less")
    func pricesLowerTheMaximumInListCount() {
        let city = Population(size: 120, popular: 4, seed: 32)
        let assignment = DailyAssignment()
        var prices: [Int: Float] = [:]
        var maximumInList: [Int] = []
        for _ in 1...8 {
            // Each day re-ranks the candidate lists by the adjusted score s_ij − λ_j.
            let lists = city.lists(k: 5, prices: prices)
            let result = assignment.assign(candidates: lists, capacity: { _ in 3 }, prices: &prices)
            maximumInList.append(result.maxInListCount)
            #expect(result.degree.values.allSatisfy { $0 <= 3 })
        }
        // A Python model of the same schedule went 119 → about 12 over 8 days on five seeds.
        #expect(maximumInList[0] == 119)
        #expect(maximumInList[7] * 3 < maximumInList[0], "\(maximumInList)")
        #expect((0..<4).allSatisfy { (prices[$0] ?? 0) > 0 })
    }

    @Test("each price moves one subgradient step toward the target in-list count")
    func priceStep() throws {
        let lists: Candidates = [
            0: [(id: 9, score: 0.5)],
            1: [(id: 9, score: 0.5)],
            2: [(id: 9, score: 0.5)],
            3: [(id: 4, score: 0.5)],
        ]
        var prices: [Int: Float] = [7: 0.1]
        // Lists of length 1, so L = 2: λ_9 = 0.05·(3 − 2)/2, λ_4 = max(0, 0.05·(1 − 2)/2), λ_7 = 0.1 − 0.05.
        _ = DailyAssignment().assign(candidates: lists, capacity: { _ in 1 }, prices: &prices)
        let overListed = try #require(prices[9])
        let unlisted = try #require(prices[7])
        #expect(abs(overListed - 0.025) < 1e-6)
        #expect(prices[4] == nil)
        #expect(abs(unlisted - 0.05) < 1e-6)
    }

    @Test("greedy reaches at least half the optimum on tiny instances (b = 1)")
    func greedyIsAHalfApproximation() {
        var generator = SplitMix64(seed: 41)
        for instance in 0..<200 {
            let people = Int.random(in: 2...7, using: &generator)
            let listLength = Int.random(in: 1...(people - 1), using: &generator)
            let lists = Self.randomCandidates(people: people, listLength: listLength, seed: generator.next())
            var weights = [[Float]](repeating: [Float](repeating: 0, count: people), count: people)
            for (person, list) in lists {
                for entry in list {
                    weights[person][entry.id] = max(weights[person][entry.id], entry.score)
                    weights[entry.id][person] = weights[person][entry.id]
                }
            }
            var prices: [Int: Float] = [:]
            let result = DailyAssignment().assign(candidates: lists, capacity: { _ in 1 }, prices: &prices)
            let optimum = Self.bestMatching(weights, matched: 0)
            #expect(result.degree.values.allSatisfy { $0 <= 1 })
            #expect(result.totalWeight >= 0.5 * optimum - 1e-5, "instance \(instance)")
            #expect(result.totalWeight <= optimum + 1e-5, "instance \(instance)")
        }
    }

    /// The maximum-weight matching by exhaustive search: the lowest unmatched person stays alone or pairs with
    /// any unmatched neighbour. Fine for n ≤ 7.
    static func bestMatching(_ weights: [[Float]], matched: Int) -> Float {
        let people = weights.count
        guard let first = (0..<people).first(where: { matched & (1 << $0) == 0 }) else { return 0 }
        var best = bestMatching(weights, matched: matched | (1 << first))
        for other in (first + 1)..<people where matched & (1 << other) == 0 && weights[first][other] > 0 {
            let rest = bestMatching(weights, matched: matched | (1 << first) | (1 << other))
            best = max(best, weights[first][other] + rest)
        }
        return best
    }
}
