import Foundation

/// Friend groups and teams of 3 to 8 from a pool (issue 5 item 6; matching-science.md §7).
///
/// The pool's people are indices `0..<people`, and `weights` is their pair-score matrix, `people × people`
/// row-major (`weights[i * people + j]` = w_ij, e.g. the mutual score of §1 for the domain). The search
/// maximizes
///
///     F = Σ_groups Σ_{i<j in g} w_ij  +  α · Σ_groups cover(g)
///
/// where the second term is present only with ``TeamTerms``: `cover(g)` is the share of the required skills
/// that at least one member has (§7's `cover`, with skills as yes/no). Without team terms this is the
/// maximally diverse grouping problem (MDGP, also called equitable k-partition), NP-hard (Feo & Khellaf 1990),
/// so the search is a heuristic:
///
/// 1. ``greedy()``: seed each group with the best remaining pair, grow it by the person with the best average
///    affinity to the group (§7's baseline);
/// 2. ``search(annealingSteps:using:)``: greedy, then first-improvement swap local search with O(1) swap deltas
///    from the affinity table `A[x][g] = Σ_{y∈g} w_xy` (the gain bookkeeping of Kernighan & Lin 1970), then
///    simulated annealing with linear cooling (Kirkpatrick, Gelatt & Vecchi 1983), then local search again.
///    Team coverage is recomputed only for the two groups a swap touches, O(k·|R|/64).
///
/// Group sizes follow ``groupSizes(people:target:)`` and never change during the search (only swaps, no moves).
public struct GroupSearch: Sendable {
    /// The group sizes a search may be asked for.
    public static let allowedGroupSizes = 3...8

    /// Why a search could not be set up.
    public enum SearchError: Error, Equatable, Sendable {
        /// The target group size was outside 3…8.
        case groupSizeOutOfRange(Int)
        /// `weights` did not have `people × people` entries.
        case weightsNotSquare(count: Int, people: Int)
        /// A weight was NaN or infinite.
        case nonFiniteWeight(row: Int, column: Int)
        /// ``TeamTerms/skills`` did not have one entry per person.
        case skillsCountMismatch(skills: Int, people: Int)
    }

    /// The team part of the objective: required-skill coverage (§7's `cover(g)`; the weight α is a Kindred
    /// heuristic [H] for calibration to replace).
    public struct TeamTerms: Sendable {
        /// Each person's skills, one set per person, in pool order.
        public var skills: [Set<Int>]
        /// The skills a team needs; skills outside this set are ignored.
        public var required: Set<Int>
        /// α: what covering every required skill in one group is worth, in units of pair weight.
        public var coverageWeight: Float

        /// Team terms with skills per person (in pool order), the required skills and their weight α.
        public init(skills: [Set<Int>], required: Set<Int>, coverageWeight: Float) {
            self.skills = skills
            self.required = required
            self.coverageWeight = coverageWeight
        }
    }

    /// A partition of the pool and what it scores.
    public struct Grouping: Equatable, Sendable {
        /// The groups, each sorted by id, ordered by their first member.
        public let groups: [[Int]]
        /// F of ``groups``, recomputed from scratch in Double.
        public let objective: Double
        /// Each group's share of F (its pair weights plus α·cover), parallel to ``groups``.
        public let groupScores: [Double]
        /// The worst group's score: greedy's last groups are leftovers, and this is where the search helps most.
        public let minimumGroupScore: Double
        /// The greedy baseline's groups, to show what the search changed.
        public let greedyGroups: [[Int]]
        /// F of ``greedyGroups``: what the search gained is `objective − greedyObjective`.
        public let greedyObjective: Double
    }

    /// Pool size.
    public let people: Int
    /// The target group size k.
    public let groupSize: Int
    /// Symmetrized weights with a zero diagonal, `people × people` row-major.
    private let weights: [Float]
    private let coverage: SkillCoverage?
    /// Swaps must gain more than this to count, so rounding noise never loops the local search.
    private let tolerance: Float

    /// Sets up a search. The matrix is symmetrized as (w_ij + w_ji)/2, which leaves a symmetric matrix
    /// unchanged, and its diagonal is ignored.
    public init(weights: [Float], people: Int, groupSize: Int, team: TeamTerms? = nil) throws(SearchError) {
        guard Self.allowedGroupSizes.contains(groupSize) else { throw SearchError.groupSizeOutOfRange(groupSize) }
        guard people >= 0, weights.count == people * people else {
            throw SearchError.weightsNotSquare(count: weights.count, people: people)
        }
        var symmetric = [Float](repeating: 0, count: people * people)
        var largest: Float = 0
        for row in 0..<people {
            for column in 0..<people where column != row {
                let weight = weights[row * people + column]
                guard weight.isFinite else { throw SearchError.nonFiniteWeight(row: row, column: column) }
                symmetric[row * people + column] = (weight + weights[column * people + row]) / 2
                largest = max(largest, abs(weight))
            }
        }
        if let team {
            guard team.skills.count == people else {
                throw SearchError.skillsCountMismatch(skills: team.skills.count, people: people)
            }
        }
        self.people = people
        self.groupSize = groupSize
        self.weights = symmetric
        coverage = team.flatMap { SkillCoverage($0) }
        tolerance = 1e-5 * max(largest, coverage?.weight ?? 0, 1e-30)
    }

    /// The sizes of the groups a pool of `people` is split into, largest first, for a target size `target`
    /// (clamped to 3…8). The rule: round(people / target) groups, half up, clamped so that no group has fewer
    /// than 3 or more than 8 people, with sizes as equal as possible (they differ by at most one). Every
    /// person is in exactly one group when `people` ≥ 3; a pool of fewer forms no group. When
    /// `people` ≥ target², every group has target − 1, target or target + 1 people.
    public static func groupSizes(people: Int, target: Int) -> [Int] {
        guard people >= 3 else { return [] }
        let size = min(max(target, allowedGroupSizes.lowerBound), allowedGroupSizes.upperBound)
        let fewest = (people + allowedGroupSizes.upperBound - 1) / allowedGroupSizes.upperBound
        let most = people / allowedGroupSizes.lowerBound
        let count = min(max((2 * people + size) / (2 * size), fewest), most)
        let base = people / count
        let larger = people % count
        return (0..<count).map { $0 < larger ? base + 1 : base }
    }

    /// The greedy baseline alone (§7): for each group, the best remaining pair, then repeatedly the remaining
    /// person with the largest summed weight to the group (the same argmax as the best average affinity, the
    /// group size being common to all). Team terms are not looked at; the search adds them. O(G·n²).
    public func greedy() -> Grouping {
        let groups = Self.normalized(greedyGroups())
        let scores = groups.map(score(ofGroup:))
        let value = scores.reduce(0, +)
        return Grouping(
            groups: groups, objective: value, groupScores: scores, minimumGroupScore: scores.min() ?? 0,
            greedyGroups: groups, greedyObjective: value)
    }

    /// Greedy, then swap local search, then simulated annealing over `annealingSteps` random swaps (default
    /// 40·n²/k, §7), then local search again. The result is never worse than greedy. The same generator
    /// state gives the same groups.
    public func search<Generator: RandomNumberGenerator>(
        annealingSteps: Int? = nil, using generator: inout Generator
    ) -> Grouping {
        let baseline = greedy()
        guard baseline.groups.count >= 2 else { return baseline }
        var partition = makePartition(baseline.groups)
        improveLocally(&partition)
        let steps = annealingSteps ?? 40 * people * people / groupSize
        let annealed = anneal(partition, steps: steps, using: &generator)
        // A fresh affinity table: the annealing updated it incrementally many times.
        partition = makePartition(annealed)
        improveLocally(&partition)

        let groups = Self.normalized(partition.members)
        let scores = groups.map(score(ofGroup:))
        let value = scores.reduce(0, +)
        // The search only accepts gains, so this guards against nothing but float rounding.
        guard value >= baseline.objective else { return baseline }
        return Grouping(
            groups: groups, objective: value, groupScores: scores, minimumGroupScore: scores.min() ?? 0,
            greedyGroups: baseline.groups, greedyObjective: baseline.objective)
    }

    /// One group's share of F, from scratch in Double: its pair weights plus α·cover. Members must be pool
    /// indices (`0..<people`).
    public func score(ofGroup members: [Int]) -> Double {
        var sum = 0.0
        for first in members.indices {
            for second in (first + 1)..<members.count {
                sum += Double(weights[members[first] * people + members[second]])
            }
        }
        if let coverage { sum += Double(coverage.weight) * Double(coverage.cover(members)) }
        return sum
    }

    // MARK: - Search state

    /// A partition with its affinity table.
    private struct Partition {
        var members: [[Int]]
        var groupOf: [Int]
        /// `affinity[x * groupCount + g]` = A[x][g] = Σ_{y∈g} w_xy.
        var affinity: [Float]
        /// cover(g) per group (0 without team terms).
        var cover: [Float]
        var groupCount: Int { members.count }
    }

    private func makePartition(_ groups: [[Int]]) -> Partition {
        var groupOf = [Int](repeating: -1, count: people)
        for (group, members) in groups.enumerated() {
            for member in members { groupOf[member] = group }
        }
        var affinity = [Float](repeating: 0, count: people * groups.count)
        for person in 0..<people {
            for other in 0..<people where groupOf[other] >= 0 {
                affinity[person * groups.count + groupOf[other]] += weights[person * people + other]
            }
        }
        let cover = groups.map { coverage?.cover($0) ?? 0 }
        return Partition(members: groups, groupOf: groupOf, affinity: affinity, cover: cover)
    }

    /// The change in F from swapping `x` and `y` (in different groups g and h), in O(1) plus the team terms:
    /// Δ = (A[y][g] − w_xy) − A[x][g] + (A[x][h] − w_xy) − A[y][h]  (§7; Kernighan & Lin 1970's swap gain).
    private func swapGain(_ x: Int, _ y: Int, in partition: Partition) -> Float {
        let g = partition.groupOf[x]
        let h = partition.groupOf[y]
        let count = partition.groupCount
        let weightXY = weights[x * people + y]
        var gain = (partition.affinity[y * count + g] - weightXY) - partition.affinity[x * count + g]
        gain += (partition.affinity[x * count + h] - weightXY) - partition.affinity[y * count + h]
        if let coverage {
            let newG = coverage.cover(partition.members[g], replacing: x, with: y)
            let newH = coverage.cover(partition.members[h], replacing: y, with: x)
            gain += coverage.weight * (newG - partition.cover[g] + newH - partition.cover[h])
        }
        return gain
    }

    /// Swaps `x` and `y` and updates the affinity table in O(n):
    /// A[·][g] += w[·][y] − w[·][x];  A[·][h] += w[·][x] − w[·][y]  (§7).
    private func applySwap(_ x: Int, _ y: Int, to partition: inout Partition) {
        let g = partition.groupOf[x]
        let h = partition.groupOf[y]
        let count = partition.groupCount
        for person in 0..<people {
            let towardX = weights[person * people + x]
            let towardY = weights[person * people + y]
            partition.affinity[person * count + g] += towardY - towardX
            partition.affinity[person * count + h] += towardX - towardY
        }
        if let index = partition.members[g].firstIndex(of: x) { partition.members[g][index] = y }
        if let index = partition.members[h].firstIndex(of: y) { partition.members[h][index] = x }
        partition.groupOf[x] = h
        partition.groupOf[y] = g
        if let coverage {
            partition.cover[g] = coverage.cover(partition.members[g])
            partition.cover[h] = coverage.cover(partition.members[h])
        }
    }

    /// First-improvement swap local search: take any swap that gains, until a full pass finds none.
    private func improveLocally(_ partition: inout Partition) {
        // Every accepted swap gains more than `tolerance`, so this ends; the cap is only a backstop.
        let maximumPasses = 10_000
        var passes = 0
        var improved = true
        while improved && passes < maximumPasses {
            improved = false
            passes += 1
            for x in 0..<people {
                for y in (x + 1)..<people where partition.groupOf[x] != partition.groupOf[y] {
                    if swapGain(x, y, in: partition) > tolerance {
                        applySwap(x, y, to: &partition)
                        improved = true
                    }
                }
            }
        }
    }

    /// Simulated annealing over random swaps: a gain is always taken, a loss Δ < 0 with probability
    /// exp(Δ/T), with T falling linearly from T₀ to 0 over `steps` (§7). Returns the best groups seen, which
    /// are the starting groups when nothing better was found.
    private func anneal<Generator: RandomNumberGenerator>(
        _ start: Partition, steps: Int, using generator: inout Generator
    ) -> [[Int]] {
        var partition = start
        // T₀ [H]: the mean loss of sampled worsening swaps over ln 2, so a typical worsening swap is taken
        // with probability ½ at the start.
        var totalLoss = 0.0
        var losses = 0
        for _ in 0..<200 {
            guard let swap = randomSwap(in: partition, using: &generator) else { continue }
            let gain = swapGain(swap.x, swap.y, in: partition)
            if gain < 0 {
                totalLoss -= Double(gain)
                losses += 1
            }
        }
        guard steps > 0, losses > 0 else { return start.members }
        let startTemperature = totalLoss / Double(losses) / log(2.0)

        var current = 0.0
        var best = 0.0
        var bestMembers = start.members
        for step in 0..<steps {
            guard let swap = randomSwap(in: partition, using: &generator) else { continue }
            let gain = Double(swapGain(swap.x, swap.y, in: partition))
            let temperature = startTemperature * (1 - Double(step) / Double(steps))
            if gain <= 0 {
                guard temperature > 0, Double.random(in: 0..<1, using: &generator) < exp(gain / temperature) else {
                    continue
                }
            }
            applySwap(swap.x, swap.y, to: &partition)
            current += gain
            if current > best + Double(tolerance) {
                best = current
                bestMembers = partition.members
            }
        }
        return bestMembers
    }

    /// Two people in different groups, uniformly at random; nil when 32 draws found none.
    private func randomSwap<Generator: RandomNumberGenerator>(
        in partition: Partition, using generator: inout Generator
    ) -> (x: Int, y: Int)? {
        for _ in 0..<32 {
            let x = Int.random(in: 0..<people, using: &generator)
            let y = Int.random(in: 0..<people, using: &generator)
            if partition.groupOf[x] != partition.groupOf[y] { return (x: x, y: y) }
        }
        return nil
    }

    private func greedyGroups() -> [[Int]] {
        var unassigned = [Bool](repeating: true, count: people)
        var toGroup = [Float](repeating: 0, count: people)
        var groups: [[Int]] = []
        for size in Self.groupSizes(people: people, target: groupSize) {
            // The best remaining pair; ties go to the lowest ids.
            var first = -1
            var second = -1
            var bestWeight = -Float.infinity
            for i in 0..<people where unassigned[i] {
                for j in (i + 1)..<people where unassigned[j] && weights[i * people + j] > bestWeight {
                    bestWeight = weights[i * people + j]
                    first = i
                    second = j
                }
            }
            guard first >= 0 else { break }
            var group = [first, second]
            unassigned[first] = false
            unassigned[second] = false
            for person in 0..<people {
                toGroup[person] = weights[person * people + first] + weights[person * people + second]
            }
            while group.count < size {
                var next = -1
                var bestGain = -Float.infinity
                for person in 0..<people where unassigned[person] && toGroup[person] > bestGain {
                    next = person
                    bestGain = toGroup[person]
                }
                guard next >= 0 else { break }
                group.append(next)
                unassigned[next] = false
                for person in 0..<people { toGroup[person] += weights[person * people + next] }
            }
            groups.append(group)
        }
        return groups
    }

    /// Members sorted, groups ordered by their members: one canonical form, so equal partitions compare equal.
    private static func normalized(_ groups: [[Int]]) -> [[Int]] {
        groups.map { $0.sorted() }.sorted { $0.lexicographicallyPrecedes($1) }
    }
}

/// Required-skill coverage as bit masks: bit s of a person's mask is set when they have the s-th required
/// skill, so a group's coverage is the popcount of its members' OR.
private struct SkillCoverage: Sendable {
    /// 64-bit words per person.
    let words: Int
    /// `masks[person * words + word]`.
    let masks: [UInt64]
    let requiredCount: Int
    /// α.
    let weight: Float

    /// Nil when there is nothing to cover or nothing to gain from it.
    init?(_ team: GroupSearch.TeamTerms) {
        guard !team.required.isEmpty, team.coverageWeight != 0, team.coverageWeight.isFinite else { return nil }
        let bitOfSkill = Dictionary(uniqueKeysWithValues: team.required.sorted().enumerated().map { ($1, $0) })
        words = (bitOfSkill.count + 63) / 64
        var masks = [UInt64](repeating: 0, count: team.skills.count * words)
        for (person, skills) in team.skills.enumerated() {
            for skill in skills {
                guard let bit = bitOfSkill[skill] else { continue }
                masks[person * words + bit / 64] |= 1 << UInt64(bit % 64)
            }
        }
        self.masks = masks
        requiredCount = bitOfSkill.count
        weight = team.coverageWeight
    }

    /// cover(g): the share of required skills that some member has, with `removed` left out and `added`
    /// put in (−1: nobody), which is how a swap is evaluated without building the new group.
    func cover(_ members: [Int], replacing removed: Int = -1, with added: Int = -1) -> Float {
        var covered = 0
        for word in 0..<words {
            var bits: UInt64 = 0
            for member in members where member != removed { bits |= masks[member * words + word] }
            if added >= 0 { bits |= masks[added * words + word] }
            covered += bits.nonzeroBitCount
        }
        return Float(covered) / Float(requiredCount)
    }
}
