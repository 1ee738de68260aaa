import Foundation

/// A small seeded random number generator, so that every randomized step in matching (simulated annealing in
/// ``GroupSearch``, synthetic populations in tests and benchmarks) gives the same answer for the same seed.
///
/// SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators", OOPSLA'14): a 64-bit
/// counter advanced by the golden-ratio increment and passed through a finalizing mix. It passes BigCrush, needs
/// one word of state and is not cryptographic: never use it for tokens or secrets.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose whole output is fixed by `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
