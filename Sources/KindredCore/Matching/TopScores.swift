import Foundation

/// The `capacity` best `(id, score)` pairs of a stream, kept in a bounded binary min-heap whose root is the
/// worst pair kept (Williams 1964, heapsort's heap). A scan compares each new score with the root only, so
/// most rows of a candidate search cost one comparison; finding the top k of N costs O(N + k·log k·ln(N/k))
/// on random input (matching-science.md §8), and no memory is allocated after `init`.
///
/// "Better" is the order every ranked list in matching uses: higher score first, and on equal scores the lower
/// id, so results never depend on scan order.
struct TopScores {
    let capacity: Int
    private var ids: [Int]
    private var scores: [Float]

    /// An empty heap that will keep at most `capacity` pairs (none when `capacity` ≤ 0).
    init(capacity: Int) {
        self.capacity = max(0, capacity)
        ids = []
        scores = []
        ids.reserveCapacity(self.capacity)
        scores.reserveCapacity(self.capacity)
    }

    var count: Int { ids.count }

    /// Whether `(id, score)` would be kept: the heap has room, or the pair beats the worst one kept.
    @inline(__always)
    func admits(score: Float, id: Int) -> Bool {
        if ids.count < capacity { return true }
        guard capacity > 0 else { return false }
        return Self.ranksBelow(scores[0], ids[0], score, id)
    }

    /// Keeps `(id, score)` if ``admits(score:id:)`` says so, dropping the worst pair when full.
    mutating func offer(score: Float, id: Int) {
        guard admits(score: score, id: id) else { return }
        if ids.count < capacity {
            ids.append(id)
            scores.append(score)
            siftUp(from: ids.count - 1)
        } else {
            ids[0] = id
            scores[0] = score
            siftDown(from: 0)
        }
    }

    /// The kept pairs, best first: score descending, then id ascending.
    func sortedDescending() -> [(id: Int, score: Float)] {
        var result: [(id: Int, score: Float)] = []
        result.reserveCapacity(ids.count)
        for index in ids.indices { result.append((id: ids[index], score: scores[index])) }
        result.sort { Self.ranksBelow($1.score, $1.id, $0.score, $0.id) }
        return result
    }

    /// Whether `(leftID, leftScore)` ranks below `(rightID, rightScore)`: a lower score, or the same score and a
    /// higher id.
    @inline(__always)
    static func ranksBelow(_ leftScore: Float, _ leftID: Int, _ rightScore: Float, _ rightID: Int) -> Bool {
        leftScore < rightScore || (leftScore == rightScore && leftID > rightID)
    }

    private func worse(_ left: Int, _ right: Int) -> Bool {
        Self.ranksBelow(scores[left], ids[left], scores[right], ids[right])
    }

    private mutating func exchange(_ left: Int, _ right: Int) {
        ids.swapAt(left, right)
        scores.swapAt(left, right)
    }

    private mutating func siftUp(from start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard worse(child, parent) else { return }
            exchange(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var worst = parent
            if left < ids.count && worse(left, worst) { worst = left }
            if right < ids.count && worse(right, worst) { worst = right }
            guard worst != parent else { return }
            exchange(parent, worst)
            parent = worst
        }
    }
}
