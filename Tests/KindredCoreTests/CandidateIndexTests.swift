import Foundation
import Testing

@testable import KindredCore

@Suite("Candidate search over profile vectors")
struct CandidateIndexTests {
    typealias Vectors = (selfVector: [Float], wants: [Float])

    /// A random half whose lanes are multiples of 1/8 in [−1, 1]: every product and partial sum is then exact
    /// in Float32, so the SIMD scan and the scalar reference agree bit for bit whatever order they add in, and
    /// equal scores are common enough to exercise the id tie-break.
    static func randomHalf(_ generator: inout SplitMix64) -> [Float] {
        var half: [Float] = []
        for _ in 0..<CandidateIndex.halfDimensions {
            half.append(Float(Int.random(in: -8...8, using: &generator)) / 8)
        }
        return half
    }

    /// A unit vector along `lane`.
    static func oneHot(_ lane: Int) -> [Float] {
        var half = [Float](repeating: 0, count: CandidateIndex.halfDimensions)
        half[lane] = 1
        return half
    }

    /// Random profiles with the given ids in `block`; returns their vectors too.
    static func populate(
        _ index: inout CandidateIndex, ids: Range<Int>, block: String, seed: UInt64
    ) throws -> [Int: Vectors] {
        var generator = SplitMix64(seed: seed)
        var vectors: [Int: Vectors] = [:]
        for id in ids {
            let profile = (selfVector: randomHalf(&generator), wants: randomHalf(&generator))
            try index.upsert(id: id, block: block, selfVector: profile.selfVector, wants: profile.wants)
            vectors[id] = profile
        }
        return vectors
    }

    /// The mutual score from the vectors the test stored, independent of the index's rows.
    static func expectedMutual(_ first: Vectors, _ second: Vectors) -> Float {
        var sum: Float = 0
        for lane in 0..<CandidateIndex.halfDimensions {
            sum += first.wants[lane] * second.selfVector[lane] + second.wants[lane] * first.selfVector[lane]
        }
        return sum
    }

    @Test("the SIMD scan finds the same candidates as brute force on 2,000 profiles")
    func simdScanMatchesBruteForce() throws {
        var index = CandidateIndex()
        _ = try Self.populate(&index, ids: 0..<2_000, block: "kazan/romance", seed: 42)
        for k in [1, 10, 50, 200] {
            for id in [0, 17, 999, 1_999] {
                let fast = index.topK(for: id, k: k)
                let reference = index.topKReference(for: id, k: k)
                #expect(fast.count == k)
                #expect(fast.map { $0.id } == reference.map { $0.id }, "k \(k), id \(id)")
                #expect(fast.map { $0.score } == reference.map { $0.score }, "k \(k), id \(id)")
                #expect(!fast.contains { $0.id == id })
                for (better, worse) in zip(fast, fast.dropFirst()) {
                    #expect(better.score > worse.score || (better.score == worse.score && better.id < worse.id))
                }
            }
        }
    }

    @Test("upserting an existing id replaces its vectors")
    func upsertReplacesVectors() throws {
        var index = CandidateIndex()
        try index.upsert(id: 0, block: "kazan/romance", selfVector: Self.oneHot(0), wants: Self.oneHot(1))
        try index.upsert(id: 1, block: "kazan/romance", selfVector: Self.oneHot(1), wants: Self.oneHot(0))
        try index.upsert(id: 2, block: "kazan/romance", selfVector: Self.oneHot(1), wants: Self.oneHot(9))
        #expect(index.mutualScore(0, 1) == 2)

        try index.upsert(id: 1, block: "kazan/romance", selfVector: Self.oneHot(5), wants: Self.oneHot(6))
        #expect(index.count(block: "kazan/romance") == 3)
        #expect(index.count == 3)
        #expect(index.mutualScore(0, 1) == 0)
        let found = index.topK(for: 0, k: 2)
        #expect(found.map { $0.id } == [2, 1])
        #expect(found.map { $0.score } == [1, 0])
    }

    @Test("moving an id to another block removes it from the first")
    func movingBetweenBlocks() throws {
        var index = CandidateIndex()
        _ = try Self.populate(&index, ids: 0..<10, block: "kazan/romance", seed: 1)
        _ = try Self.populate(&index, ids: 10..<20, block: "moscow/romance", seed: 2)
        var generator = SplitMix64(seed: 3)
        try index.upsert(
            id: 5, block: "moscow/romance", selfVector: Self.randomHalf(&generator),
            wants: Self.randomHalf(&generator))

        #expect(index.count(block: "kazan/romance") == 9)
        #expect(index.count(block: "moscow/romance") == 11)
        #expect(index.block(of: 5) == "moscow/romance")
        #expect(!index.topK(for: 0, k: 100).contains { $0.id == 5 })
        #expect(index.topK(for: 10, k: 100).contains { $0.id == 5 })
        #expect(Set(index.topK(for: 5, k: 100).map { $0.id }) == Set(10..<20))
        #expect(Set(index.topK(for: 0, k: 100).map { $0.id }) == Set(0..<10).subtracting([0, 5]))
    }

    @Test("swap-remove keeps every other id findable with its own vectors")
    func removeKeepsOthersFindable() throws {
        var index = CandidateIndex()
        var vectors = try Self.populate(&index, ids: 0..<50, block: "kazan/friendship", seed: 7)
        // The first row; the last id, which that removal moved into row 0; a middle row; one more.
        for id in [0, 49, 25, 7] {
            let removed = index.remove(id: id)
            #expect(removed)
            vectors[id] = nil
        }
        let removedTwice = index.remove(id: 25)
        #expect(!removedTwice)
        #expect(index.count(block: "kazan/friendship") == 46)

        for (id, own) in vectors {
            #expect(index.contains(id))
            let found = index.topK(for: id, k: 100)
            #expect(Set(found.map { $0.id }) == Set(vectors.keys).subtracting([id]))
            for candidate in found {
                let other = try #require(vectors[candidate.id])
                #expect(candidate.score == Self.expectedMutual(own, other), "\(id) → \(candidate.id)")
            }
        }
    }

    @Test("excluded ids are never returned, and the rest matches brute force")
    func excludingLeavesThemOut() throws {
        var index = CandidateIndex()
        _ = try Self.populate(&index, ids: 0..<300, block: "kazan/romance", seed: 11)
        let isEven: (Int) -> Bool = { $0 % 2 == 0 }
        let found = index.topK(for: 1, k: 20, excluding: isEven)
        #expect(found.count == 20)
        #expect(found.allSatisfy { $0.id % 2 == 1 && $0.id != 1 })
        #expect(found.map { $0.id } == index.topKReference(for: 1, k: 20, excluding: isEven).map { $0.id })
    }

    @Test("a block of one gives no candidates, nor does an unknown id or k of 0")
    func blockOfOneIsEmpty() throws {
        var index = CandidateIndex()
        _ = try Self.populate(&index, ids: 0..<1, block: "tiny/romance", seed: 5)
        _ = try Self.populate(&index, ids: 1..<5, block: "other/romance", seed: 6)
        #expect(index.topK(for: 0, k: 10).isEmpty)
        #expect(index.topK(for: 99, k: 10).isEmpty)
        #expect(index.topK(for: 1, k: 0).isEmpty)
    }

    @Test("k larger than the block returns everyone else, best first")
    func largeKReturnsAllOthers() throws {
        var index = CandidateIndex()
        _ = try Self.populate(&index, ids: 0..<7, block: "kazan/team", seed: 9)
        let found = index.topK(for: 3, k: 50)
        #expect(found.count == 6)
        #expect(Set(found.map { $0.id }) == Set(0..<7).subtracting([3]))
        #expect(found.map { $0.id } == index.topKReference(for: 3, k: 50).map { $0.id })
    }

    @Test("vectors of the wrong length or with NaN are rejected")
    func invalidVectorsAreRejected() {
        let short = [Float](repeating: 0, count: CandidateIndex.halfDimensions - 1)
        let full = [Float](repeating: 0, count: CandidateIndex.halfDimensions)
        #expect(throws: CandidateIndex.IndexError.wrongDimensions(selfCount: 31, wantsCount: 32, expected: 32)) {
            var index = CandidateIndex()
            try index.upsert(id: 1, block: "kazan/romance", selfVector: short, wants: full)
        }
        #expect(throws: CandidateIndex.IndexError.nonFiniteValue(id: 2)) {
            var index = CandidateIndex()
            var poisoned = full
            poisoned[3] = .nan
            try index.upsert(id: 2, block: "kazan/romance", selfVector: full, wants: poisoned)
        }
    }

    @Test("the memory estimate covers the vectors without wild overcounting")
    func memoryEstimateIsHonest() throws {
        var index = CandidateIndex()
        _ = try Self.populate(&index, ids: 0..<2_000, block: "kazan/romance", seed: 13)
        let vectorBytes = 2_000 * 2 * CandidateIndex.halfDimensions * MemoryLayout<Float>.stride
        #expect(index.memoryBytes >= vectorBytes)
        #expect(index.memoryBytes < 4 * vectorBytes)
    }
}
