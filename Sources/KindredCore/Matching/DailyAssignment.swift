import Foundation

/// Capacity-constrained daily recommendations (issue 5 item 5; matching-science.md §6): nobody gets flooded
/// and nobody popular is shown to everyone.
///
/// Plain top-k floods: when everyone ranks by their own relevance, a few popular people land in almost every
/// list (Tu et al. 2014, arXiv:1401.8042; Su, Bayoumi & Joachims 2022, arXiv:2106.01941). Instead, each day:
///
/// 1. Candidate lists come from ``CandidateIndex/topK(for:k:excluding:)`` ranked by the price-adjusted score
///    ``adjusted(score:price:)``, `s_ij − λ_j`, so a person who was in too many lists yesterday costs more today.
/// 2. ``assign(candidates:capacity:skipping:prices:)`` turns the directed lists into undirected edges and picks
///    proposals by greedy b-matching: every person i gets at most `b_i` proposals, and a proposal is one pair
///    shown to both people (double opt-in), so a popular person is shown at most `b_i` times by construction.
/// 3. It then moves each price one subgradient step toward the target in-list count L (a Lagrangian relaxation
///    of the exposure cap, one step per day, so prices converge across days with no inner loop; §6 [H]).
public struct DailyAssignment: Sendable {
    /// An unordered pair of people, stored low id first, so `Pair(a, b) == Pair(b, a)`.
    public struct Pair: Hashable, Comparable, Sendable {
        public let low: Int
        public let high: Int

        /// The pair {first, second}, in either order.
        public init(_ first: Int, _ second: Int) {
            low = min(first, second)
            high = max(first, second)
        }

        /// Orders pairs by (low, high): the fixed tie-break between equal weights.
        public static func < (left: Pair, right: Pair) -> Bool {
            (left.low, left.high) < (right.low, right.high)
        }

        /// Whether `id` is one of the two people.
        public func contains(_ id: Int) -> Bool { low == id || high == id }
    }

    /// One proposal: a pair shown to both people, weighted by their mutual score.
    public struct Proposal: Equatable, Sendable {
        public let pair: Pair
        public let weight: Float

        /// A proposal of `pair` with weight `weight`.
        public init(pair: Pair, weight: Float) {
            self.pair = pair
            self.weight = weight
        }
    }

    /// What one day's assignment chose.
    public struct Result: Sendable {
        /// The proposals, heaviest first (the order greedy took them).
        public let proposals: [Proposal]
        /// Proposals per person; people with none are absent (see ``degree(of:)``).
        public let degree: [Int: Int]
        /// In how many candidate lists each person appeared today (`inlist_j`); people in none are absent.
        public let inListCount: [Int: Int]
        /// The largest in-list count: what plain top-k would have done to the most popular person.
        public let maxInListCount: Int

        /// Proposals for `id` today.
        public func degree(of id: Int) -> Int { degree[id] ?? 0 }

        /// The summed weight of the proposals, the quantity greedy b-matching approximately maximizes.
        public var totalWeight: Float { proposals.reduce(0) { $0 + $1.weight } }
    }

    /// η, the price step per day (§6: 0.05 [H]).
    public var priceStep: Float
    /// L, the in-list count a person may reach before their price rises; nil means 2·C, where C is the
    /// length of the longest candidate list given (§6: L = 2C [H]). The mean in-list count is C, so only
    /// people listed twice as often as average pay.
    public var targetInList: Int?

    /// An assignment with §6's defaults, η = 0.05 and L = 2C.
    public init(priceStep: Float = 0.05, targetInList: Int? = nil) {
        self.priceStep = priceStep
        self.targetInList = targetInList
    }

    /// The score a caller ranks candidates by: the mutual score less the candidate's price λ (§6's
    /// `s_ij − λ_j`). Prices decide who enters a list; edge weights stay the unadjusted scores.
    public static func adjusted(score: Float, price: Float) -> Float {
        score - price
    }

    /// Chooses today's proposals and updates the prices once.
    ///
    /// - Parameters:
    ///   - candidates: each person's directed candidate list, `(id, score)` with the *unadjusted* mutual score
    ///     (rank by ``adjusted(score:price:)``, but pass the raw score). An entry naming the person themself, or
    ///     with a non-finite score, is ignored. Lists should not repeat an id: each entry counts toward in-lists.
    ///   - capacity: `b_i`, the most proposals person i may get today (romance 3, friendship 5, 0 when paused);
    ///     asked at most once per person, and a negative answer counts as 0.
    ///   - skipped: pairs never to propose (already seen within the cooldown, blocked, declined).
    ///   - prices: λ per person, carried across days; absent means 0, and a price that falls to 0 is removed.
    /// - Returns: the proposals, every person's degree, and the in-list counts the prices were updated from.
    ///
    /// O(E log E) time and O(E) memory for E candidate entries (§6: ≤ 5M at 100k people × 50 candidates).
    public func assign(
        candidates: [Int: [(id: Int, score: Float)]],
        capacity: (Int) -> Int,
        skipping skipped: Set<Pair> = [],
        prices: inout [Int: Float]
    ) -> Result {
        var inList: [Int: Int] = [:]
        var longestList = 0
        var directed: [Proposal] = []
        directed.reserveCapacity(candidates.values.reduce(0) { $0 + $1.count })
        for (person, list) in candidates {
            longestList = max(longestList, list.count)
            for entry in list where entry.id != person {
                inList[entry.id, default: 0] += 1
                let pair = Pair(person, entry.id)
                guard entry.score.isFinite, !skipped.contains(pair) else { continue }
                directed.append(Proposal(pair: pair, weight: entry.score))
            }
        }

        let proposals = Self.greedyBMatching(Self.symmetrized(directed), capacity: capacity)
        var degree: [Int: Int] = [:]
        for proposal in proposals {
            degree[proposal.pair.low, default: 0] += 1
            degree[proposal.pair.high, default: 0] += 1
        }

        let target = Float(max(1, targetInList ?? 2 * longestList))
        prices = updatedPrices(prices, inList: inList, target: target)
        return Result(
            proposals: proposals, degree: degree, inListCount: inList,
            maxInListCount: inList.values.max() ?? 0)
    }

    /// Undirected edges from directed entries: {i, j} exists if either lists the other. Its weight is the
    /// larger of the two directed scores. The mutual score is symmetric by construction (§8), so when both
    /// list each other the two scores agree up to rescoring noise; taking the maximum keeps an edge seen from
    /// one side only at full weight instead of penalizing it for the other side's list being full.
    static func symmetrized(_ directed: [Proposal]) -> [Proposal] {
        let byPair = directed.sorted { $0.pair < $1.pair }
        var edges: [Proposal] = []
        edges.reserveCapacity(byPair.count)
        for entry in byPair {
            if let last = edges.last, last.pair == entry.pair {
                if entry.weight > last.weight { edges[edges.count - 1] = entry }
            } else {
                edges.append(entry)
            }
        }
        return edges
    }

    /// Greedy b-matching: edges by weight descending (ties by (low, high) id, so the answer never depends on
    /// dictionary order), each taken when both ends still have capacity. Greedy is a ½-approximation of the
    /// maximum-weight matching for non-negative weights (Avis 1983), and of b-matching too, b-matching being a
    /// 2-extendible system (Mestre 2006, "Greedy in approximation algorithms", ESA'06) [R: §6 asks to verify].
    static func greedyBMatching(_ edges: [Proposal], capacity: (Int) -> Int) -> [Proposal] {
        let ordered = edges.sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.pair < $1.pair }
        var remaining: [Int: Int] = [:]
        var taken: [Proposal] = []
        for edge in ordered {
            let low = edge.pair.low
            let high = edge.pair.high
            let lowLeft = remaining[low] ?? max(0, capacity(low))
            let highLeft = remaining[high] ?? max(0, capacity(high))
            guard lowLeft > 0, highLeft > 0 else {
                remaining[low] = lowLeft
                remaining[high] = highLeft
                continue
            }
            remaining[low] = lowLeft - 1
            remaining[high] = highLeft - 1
            taken.append(edge)
        }
        return taken
    }

    /// One subgradient step per person (§6): `λ_j ← max(0, λ_j + η·(inlist_j − L)/L)`. A person in no list has
    /// `inlist_j = 0`, so their price falls by η a day until it is 0.
    private func updatedPrices(_ prices: [Int: Float], inList: [Int: Int], target: Float) -> [Int: Float] {
        var updated: [Int: Float] = [:]
        func step(_ person: Int, _ count: Int) {
            let price = max(0, (prices[person] ?? 0) + priceStep * (Float(count) - target) / target)
            if price > 0 { updated[person] = price }
        }
        for (person, count) in inList { step(person, count) }
        for person in prices.keys where inList[person] == nil { step(person, 0) }
        return updated
    }
}
