import Foundation

/// Candidate search over compact profile vectors (issue 5 item 5; matching-science.md §8).
///
/// Every profile is two Float32 vectors of ``halfDimensions`` lanes, aligned lane by lane: `self`, what the
/// person is, and `wants`, what they look for. One score covers both directions of a pair,
///
///     mutual(i, j) = wants_i · self_j + wants_j · self_i
///
/// which is §8's single dot product of i's row with its halves swapped against j's row. It is a linear proxy
/// that only decides who gets the expensive five-level rescoring; it is symmetric by construction.
///
/// Profiles are grouped into blocks (city, domain and hard filters, e.g. `"kazan/romance"`), and a query scans
/// only its own block. A block keeps its vectors in one contiguous `[Float]` per half (row-major, stride
/// ``halfDimensions``), a parallel array of external ids and an id → row map: a scan streams memory with SIMD
/// loads and allocates nothing per row. Removal moves the last row into the hole (swap-remove), so rows stay
/// dense and a change costs O(``halfDimensions``), which keeps the index incrementally updatable when a
/// profile changes.
public struct CandidateIndex: Sendable {
    /// Lanes in each half of a profile: 32 `self` + 32 `wants` = 64 Float32, 256 bytes a profile (§8).
    /// The scan reads each half as two `SIMD16<Float>`, so this must stay a multiple of 16.
    public static let halfDimensions = 32

    /// Why a profile could not be stored.
    public enum IndexError: Error, Equatable, Sendable {
        /// A half had the wrong number of lanes: build both with ``CandidateIndex/halfDimensions`` values.
        case wrongDimensions(selfCount: Int, wantsCount: Int, expected: Int)
        /// A lane was NaN or infinite, which would poison every score it touches: fix the feature that made it.
        case nonFiniteValue(id: Int)
    }

    /// One block's rows in struct-of-arrays layout.
    struct Block: Sendable {
        let name: String
        /// `self` halves, row-major: row r is `selves[r * halfDimensions ..< (r + 1) * halfDimensions]`.
        var selves: [Float] = []
        /// `wants` halves, laid out like `selves`.
        var wants: [Float] = []
        /// External id of each row.
        var ids: [Int] = []
        /// Row of each external id.
        var rowOf: [Int: Int] = [:]

        init(name: String) {
            self.name = name
        }

        mutating func append(id: Int, selfVector: [Float], wants newWants: [Float]) {
            rowOf[id] = ids.count
            ids.append(id)
            selves.append(contentsOf: selfVector)
            wants.append(contentsOf: newWants)
        }

        mutating func overwrite(row: Int, selfVector: [Float], wants newWants: [Float]) {
            let start = row * CandidateIndex.halfDimensions
            for lane in 0..<CandidateIndex.halfDimensions {
                selves[start + lane] = selfVector[lane]
                wants[start + lane] = newWants[lane]
            }
        }

        /// Swap-remove: the last row moves into the removed row's place, O(halfDimensions).
        mutating func remove(id: Int) {
            guard let row = rowOf.removeValue(forKey: id) else { return }
            let dimensions = CandidateIndex.halfDimensions
            let last = ids.count - 1
            if row != last {
                let moved = ids[last]
                ids[row] = moved
                rowOf[moved] = row
                for lane in 0..<dimensions {
                    selves[row * dimensions + lane] = selves[last * dimensions + lane]
                    wants[row * dimensions + lane] = wants[last * dimensions + lane]
                }
            }
            ids.removeLast()
            selves.removeLast(dimensions)
            wants.removeLast(dimensions)
        }

        /// The mutual score of two rows, lane by lane in scalar code: the reference the SIMD scan must agree with.
        func mutual(_ first: Int, _ second: Int) -> Float {
            let dimensions = CandidateIndex.halfDimensions
            var sum: Float = 0
            for lane in 0..<dimensions {
                sum += wants[first * dimensions + lane] * selves[second * dimensions + lane]
                sum += wants[second * dimensions + lane] * selves[first * dimensions + lane]
            }
            return sum
        }
    }

    /// Blocks by number; a block that empties keeps its number (there are few block keys, and they come back).
    private(set) var blocks: [Block] = []
    private var blockNumber: [String: Int] = [:]
    /// Block number of every stored id.
    private var blockOfID: [Int: Int] = [:]

    /// An empty index.
    public init() {}

    /// Profiles stored, over all blocks.
    public var count: Int { blockOfID.count }

    /// Profiles stored in `block` (0 for a block never seen).
    public func count(block: String) -> Int {
        guard let number = blockNumber[block] else { return 0 }
        return blocks[number].ids.count
    }

    /// Whether `id` is stored.
    public func contains(_ id: Int) -> Bool { blockOfID[id] != nil }

    /// The block `id` is stored in, or nil when it is not stored.
    public func block(of id: Int) -> String? {
        blockOfID[id].map { blocks[$0].name }
    }

    /// Stores or replaces the vectors of `id` in `block`. A profile whose block changed (a move, a new domain)
    /// leaves its old block, so it is never found twice. O(``halfDimensions``) amortized.
    public mutating func upsert(id: Int, block: String, selfVector: [Float], wants: [Float]) throws(IndexError) {
        let dimensions = Self.halfDimensions
        guard selfVector.count == dimensions, wants.count == dimensions else {
            throw IndexError.wrongDimensions(selfCount: selfVector.count, wantsCount: wants.count, expected: dimensions)
        }
        guard selfVector.allSatisfy({ $0.isFinite }), wants.allSatisfy({ $0.isFinite }) else {
            throw IndexError.nonFiniteValue(id: id)
        }
        let target = number(ofBlock: block)
        if let current = blockOfID[id] {
            if current == target, let row = blocks[target].rowOf[id] {
                blocks[target].overwrite(row: row, selfVector: selfVector, wants: wants)
                return
            }
            blocks[current].remove(id: id)
        }
        blocks[target].append(id: id, selfVector: selfVector, wants: wants)
        blockOfID[id] = target
    }

    /// Removes `id` by swap-remove, O(``halfDimensions``). Returns whether it was stored.
    @discardableResult
    public mutating func remove(id: Int) -> Bool {
        guard let number = blockOfID.removeValue(forKey: id) else { return false }
        blocks[number].remove(id: id)
        return true
    }

    /// Reserves room for `rows` profiles in `block`, so a bulk load (a rebuild from the database) does not
    /// grow the arrays by doubling and leave up to half their capacity unused.
    public mutating func reserveCapacity(_ rows: Int, block: String) {
        let target = number(ofBlock: block)
        blocks[target].selves.reserveCapacity(rows * Self.halfDimensions)
        blocks[target].wants.reserveCapacity(rows * Self.halfDimensions)
        blocks[target].ids.reserveCapacity(rows)
        blocks[target].rowOf.reserveCapacity(rows)
    }

    /// The `k` best candidates for `id` in its own block by ``mutualScore(_:_:)``, best first (score
    /// descending, then id ascending, so equal scores come back in a fixed order). Never includes `id`
    /// itself; returns every other row of the block when it has fewer than `k`, and nothing for an id that is
    /// not stored or a `k` ≤ 0.
    ///
    /// `excluding` (blocks, already-seen pairs, a distance test) is asked only about rows whose score would
    /// enter the current top k, as §8 suggests: most rows cost one dot product and one comparison.
    ///
    /// O(N·d) for a block of N rows with d = 2·``halfDimensions``, plus O(k log k) heap work per admitted row.
    public func topK(
        for id: Int, k: Int, in target: String? = nil, excluding: (Int) -> Bool = { _ in false }
    ) -> [(id: Int, score: Float)] {
        guard k > 0, let number = blockOfID[id], let ownRow = blocks[number].rowOf[id] else { return [] }
        let home = blocks[number]
        // Searching another block (women seeking men scan the block of men seeking women): the query comes
        // from the person's own row, the rows from the target block, and no row is the person.
        let searched: Int
        if let target {
            guard let other = blockNumber[target] else { return [] }
            searched = other
        } else {
            searched = number
        }
        let block = blocks[searched]
        let skipRow = searched == number ? ownRow : -1
        let others = block.ids.count - (skipRow >= 0 ? 1 : 0)
        guard others > 0 else { return [] }
        var best = TopScores(capacity: min(k, others))
        // Byte offsets into the raw halves; each half of a row is two SIMD16<Float> (64 bytes each).
        let rowBytes = Self.halfDimensions * MemoryLayout<Float>.stride
        let laneBytes = 16 * MemoryLayout<Float>.stride
        block.selves.withUnsafeBufferPointer { selves in
            block.wants.withUnsafeBufferPointer { wants in
                block.ids.withUnsafeBufferPointer { ids in
                    guard let selfBase = selves.baseAddress, let wantsBase = wants.baseAddress else { return }
                    let selfRows = UnsafeRawPointer(selfBase)
                    let wantsRows = UnsafeRawPointer(wantsBase)
                    // The query is the person's row with its halves swapped (§8): own wants meet the others'
                    // selves, own self meets the others' wants.
                    let own = ownRow * Self.halfDimensions
                    let wantsLow = SIMD16<Float>(home.wants[own..<(own + 16)])
                    let wantsHigh = SIMD16<Float>(home.wants[(own + 16)..<(own + 32)])
                    let selfLow = SIMD16<Float>(home.selves[own..<(own + 16)])
                    let selfHigh = SIMD16<Float>(home.selves[(own + 16)..<(own + 32)])
                    for row in 0..<ids.count where row != skipRow {
                        let offset = row * rowBytes
                        var lanes = wantsLow * selfRows.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                        lanes += wantsHigh
                            * selfRows.loadUnaligned(fromByteOffset: offset + laneBytes, as: SIMD16<Float>.self)
                        lanes += selfLow * wantsRows.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                        lanes += selfHigh
                            * wantsRows.loadUnaligned(fromByteOffset: offset + laneBytes, as: SIMD16<Float>.self)
                        let score = lanes.sum()
                        let candidate = ids[row]
                        guard best.admits(score: score, id: candidate), !excluding(candidate) else { continue }
                        best.offer(score: score, id: candidate)
                    }
                }
            }
        }
        return best.sortedDescending()
    }

    /// The same answer as ``topK(for:k:excluding:)`` by brute force: every score in scalar code, a full sort.
    /// Tests and benchmarks compare the SIMD scan with it.
    func topKReference(for id: Int, k: Int, excluding: (Int) -> Bool = { _ in false }) -> [(id: Int, score: Float)] {
        guard k > 0, let number = blockOfID[id], let ownRow = blocks[number].rowOf[id] else { return [] }
        let block = blocks[number]
        var all: [(id: Int, score: Float)] = []
        for row in block.ids.indices where row != ownRow && !excluding(block.ids[row]) {
            all.append((id: block.ids[row], score: block.mutual(ownRow, row)))
        }
        all.sort { TopScores.ranksBelow($1.score, $1.id, $0.score, $0.id) }
        return Array(all.prefix(k))
    }

    /// The mutual score of two stored profiles, `wants_a · self_b + wants_b · self_a`, in whichever blocks they
    /// are; nil when either is not stored. Scalar code: for one pair, not for scans.
    public func mutualScore(_ first: Int, _ second: Int) -> Float? {
        guard let firstBlock = blockOfID[first], let secondBlock = blockOfID[second],
            let firstRow = blocks[firstBlock].rowOf[first], let secondRow = blocks[secondBlock].rowOf[second]
        else { return nil }
        let dimensions = Self.halfDimensions
        let a = blocks[firstBlock]
        let b = blocks[secondBlock]
        var sum: Float = 0
        for lane in 0..<dimensions {
            sum += a.wants[firstRow * dimensions + lane] * b.selves[secondRow * dimensions + lane]
            sum += b.wants[secondRow * dimensions + lane] * a.selves[firstRow * dimensions + lane]
        }
        return sum
    }

    /// An honest estimate of the heap memory the index holds: every array's capacity (not its count) times its
    /// element size, and each dictionary's buckets. Array headers and the strings of block names are counted
    /// roughly; allocator rounding is not.
    public var memoryBytes: Int {
        let arrayHeader = 32
        var total = MemoryLayout<Self>.size
        total += arrayHeader + blocks.capacity * MemoryLayout<Block>.stride
        total += Self.dictionaryBytes(blockNumber) + Self.dictionaryBytes(blockOfID)
        for block in blocks {
            total += 3 * arrayHeader
            total += (block.selves.capacity + block.wants.capacity) * MemoryLayout<Float>.stride
            total += block.ids.capacity * MemoryLayout<Int>.stride
            total += Self.dictionaryBytes(block.rowOf)
            // The name is held by the block and by the name map; long names live in a heap buffer each.
            total += 2 * block.name.utf8.count
        }
        return total
    }

    /// Bytes held by a native `Dictionary`: a power-of-two number of buckets at most 3/4 full, with a key array,
    /// a value array, a bitmap of occupied buckets and a header (the layout of the standard library's
    /// `_DictionaryStorage`).
    static func dictionaryBytes<Key, Value>(_ dictionary: [Key: Value]) -> Int {
        guard dictionary.capacity > 0 else { return 0 }
        var buckets = 1
        while buckets * 3 < dictionary.capacity * 4 { buckets <<= 1 }
        return 64 + buckets * (MemoryLayout<Key>.stride + MemoryLayout<Value>.stride) + buckets / 8
    }

    private mutating func number(ofBlock name: String) -> Int {
        if let number = blockNumber[name] { return number }
        blocks.append(Block(name: name))
        blockNumber[name] = blocks.count - 1
        return blocks.count - 1
    }
}
