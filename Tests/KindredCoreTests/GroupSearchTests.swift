import Foundation
import Testing

@testable import KindredCore

@Suite("Friend groups and teams of 3 to 8")
struct GroupSearchTests {
    /// Random instances: pool size, target group size, seed. Several pool sizes are not multiples of k.
    static let instances: [(people: Int, groupSize: Int, seed: UInt64)] = [
        (24, 3, 1), (30, 5, 2), (36, 4, 3), (42, 6, 4), (40, 8, 5), (37, 4, 6), (29, 7, 7),
    ]

    /// A symmetric matrix of weights uniform in [0, 1), zero on the diagonal.
    static func randomWeights(people: Int, seed: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed)
        var weights = [Float](repeating: 0, count: people * people)
        for i in 0..<people {
            for j in (i + 1)..<people {
                let weight = Float.random(in: 0..<1, using: &generator)
                weights[i * people + j] = weight
                weights[j * people + i] = weight
            }
        }
        return weights
    }

    /// One to two random skills from 0..<10 per person; skills 0…5 are required.
    static func randomTeam(people: Int, seed: UInt64) -> GroupSearch.TeamTerms {
        var generator = SplitMix64(seed: seed)
        var skills: [Set<Int>] = []
        for _ in 0..<people {
            var own: Set<Int> = []
            for _ in 0..<Int.random(in: 1...2, using: &generator) {
                own.insert(Int.random(in: 0..<10, using: &generator))
            }
            skills.append(own)
        }
        return GroupSearch.TeamTerms(skills: skills, required: Set(0...5), coverageWeight: 2)
    }

    /// F from scratch, written independently of the library: pair weights plus α·(share of required skills).
    static func objective(
        _ groups: [[Int]], weights: [Float], people: Int, team: GroupSearch.TeamTerms?
    ) -> Double {
        var total = 0.0
        for group in groups {
            for (offset, first) in group.enumerated() {
                for second in group.dropFirst(offset + 1) { total += Double(weights[first * people + second]) }
            }
            if let team {
                let present = group.reduce(into: Set<Int>()) { $0.formUnion(team.skills[$1]) }
                let covered = Double(team.required.intersection(present).count) / Double(team.required.count)
                total += Double(team.coverageWeight) * covered
            }
        }
        return total
    }

    static func isClose(_ left: Double, _ right: Double) -> Bool {
        abs(left - right) <= 1e-6 * max(1, abs(right))
    }

    @Test("search never loses to greedy and beats it on some instance")
    func searchBeatsGreedy() throws {
        var strictlyBetter = 0
        for instance in Self.instances {
            let weights = Self.randomWeights(people: instance.people, seed: instance.seed)
            let groups = try GroupSearch(weights: weights, people: instance.people, groupSize: instance.groupSize)
            var generator = SplitMix64(seed: instance.seed)
            let result = groups.search(using: &generator)
            #expect(result.objective >= result.greedyObjective, "\(instance)")
            #expect(result.greedyObjective == groups.greedy().objective)
            if result.objective > result.greedyObjective + 1e-6 { strictlyBetter += 1 }
        }
        #expect(strictlyBetter >= 1)
    }

    @Test("the reported objective equals a from-scratch recomputation")
    func objectiveMatchesRecomputation() throws {
        for instance in Self.instances {
            let weights = Self.randomWeights(people: instance.people, seed: instance.seed)
            for team in [nil, Self.randomTeam(people: instance.people, seed: instance.seed)] {
                let groups = try GroupSearch(
                    weights: weights, people: instance.people, groupSize: instance.groupSize, team: team)
                var generator = SplitMix64(seed: instance.seed)
                let result = groups.search(using: &generator)
                let recomputed = Self.objective(result.groups, weights: weights, people: instance.people, team: team)
                let greedy = Self.objective(
                    result.greedyGroups, weights: weights, people: instance.people, team: team)
                #expect(Self.isClose(result.objective, recomputed), "\(instance)")
                #expect(Self.isClose(result.greedyObjective, greedy), "\(instance)")
                #expect(Self.isClose(result.groupScores.reduce(0, +), result.objective))
                #expect(result.minimumGroupScore == result.groupScores.min())
            }
        }
    }

    @Test("everyone is in exactly one group, and group sizes follow the rule")
    func partitionIsComplete() throws {
        for instance in Self.instances {
            let weights = Self.randomWeights(people: instance.people, seed: instance.seed)
            let groups = try GroupSearch(weights: weights, people: instance.people, groupSize: instance.groupSize)
            var generator = SplitMix64(seed: instance.seed)
            let result = groups.search(using: &generator)
            let expectedSizes = GroupSearch.groupSizes(people: instance.people, target: instance.groupSize)
            for partition in [result.groups, result.greedyGroups] {
                #expect(partition.flatMap { $0 }.sorted() == Array(0..<instance.people), "\(instance)")
                #expect(partition.map(\.count).sorted(by: >) == expectedSizes, "\(instance)")
                #expect(partition.allSatisfy { $0 == $0.sorted() })
                #expect(partition == partition.sorted { $0.lexicographicallyPrecedes($1) })
            }
        }
    }

    @Test("group sizes: about k each, as equal as possible, always 3 to 8")
    func groupSizeRule() {
        #expect(GroupSearch.groupSizes(people: 12, target: 4) == [4, 4, 4])
        #expect(GroupSearch.groupSizes(people: 13, target: 4) == [5, 4, 4])
        #expect(GroupSearch.groupSizes(people: 14, target: 4) == [4, 4, 3, 3])
        #expect(GroupSearch.groupSizes(people: 5, target: 3) == [5])
        #expect(GroupSearch.groupSizes(people: 17, target: 8) == [6, 6, 5])
        #expect(GroupSearch.groupSizes(people: 3, target: 8) == [3])
        #expect(GroupSearch.groupSizes(people: 2, target: 3).isEmpty)
        for target in 3...8 {
            for people in 3...100 {
                let sizes = GroupSearch.groupSizes(people: people, target: target)
                #expect(sizes.reduce(0, +) == people)
                #expect(sizes.allSatisfy { (3...8).contains($0) }, "\(people) in groups of \(target)")
                #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1)
                if people >= target * target {
                    #expect(sizes.allSatisfy { abs($0 - target) <= 1 }, "\(people) in groups of \(target)")
                }
            }
        }
    }

    @Test("with team terms, search covers a skill that greedy left uncovered")
    func searchCoversMissingSkills() throws {
        // Two tight pairs, {0, 1} and {2, 3}, each with one skill, and a friend of each pair (4 and 5): greedy
        // keeps the pairs together, so each team lacks one of the two required skills.
        let people = 6
        var weights = [Float](repeating: 0.1, count: people * people)
        func connect(_ first: Int, _ second: Int, _ weight: Float) {
            weights[first * people + second] = weight
            weights[second * people + first] = weight
        }
        connect(0, 1, 1)
        connect(2, 3, 1)
        connect(0, 4, 0.5)
        connect(1, 4, 0.5)
        connect(2, 5, 0.5)
        connect(3, 5, 0.5)
        let team = GroupSearch.TeamTerms(
            skills: [[10], [10], [11], [11], [], []], required: [10, 11], coverageWeight: 4)
        let groups = try GroupSearch(weights: weights, people: people, groupSize: 3, team: team)
        var generator = SplitMix64(seed: 3)
        let result = groups.search(using: &generator)

        #expect(result.greedyGroups == [[0, 1, 4], [2, 3, 5]])
        #expect(result.groups.count == 2)
        for group in result.groups {
            #expect(group.contains { team.skills[$0].contains(10) }, "\(group)")
            #expect(group.contains { team.skills[$0].contains(11) }, "\(group)")
        }
        #expect(result.objective > result.greedyObjective)
    }

    @Test("the same seed gives the same groups")
    func searchIsDeterministic() throws {
        let weights = Self.randomWeights(people: 40, seed: 99)
        let team = Self.randomTeam(people: 40, seed: 98)
        let groups = try GroupSearch(weights: weights, people: 40, groupSize: 5, team: team)
        var first = SplitMix64(seed: 2024)
        var second = SplitMix64(seed: 2024)
        #expect(groups.search(using: &first) == groups.search(using: &second))
    }

    @Test("a pool of fewer than 3 forms no group, and bad input is refused")
    func edgeCases() throws {
        let pair = try GroupSearch(weights: [0, 1, 1, 0], people: 2, groupSize: 3)
        var generator = SplitMix64(seed: 1)
        #expect(pair.search(using: &generator).groups.isEmpty)
        #expect(throws: GroupSearch.SearchError.groupSizeOutOfRange(2)) {
            _ = try GroupSearch(weights: [0, 1, 1, 0], people: 2, groupSize: 2)
        }
        #expect(throws: GroupSearch.SearchError.weightsNotSquare(count: 3, people: 2)) {
            _ = try GroupSearch(weights: [0, 1, 1], people: 2, groupSize: 3)
        }
    }
}
