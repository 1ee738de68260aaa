import Foundation

/// Maps a raw mutual score to the number shown, refitted from outcomes (both accepted = 1, otherwise 0).
///
/// With no outcomes it is the identity. With outcomes, scores are binned (ten equal bins), each bin's rate
/// is shrunk toward the current map with `priorStrength` pseudo-outcomes (a Beta–binomial prior, so a bin of
/// three outcomes cannot swing the map), and the bins are made monotone with pool-adjacent-violators
/// (isotonic regression: Zadrozny & Elkan, 2002); between bin centres the map is linear. Platt scaling is the
/// usual next step once thousands of outcomes exist (Niculescu-Mizil & Caruana, 2005: isotonic overfits
/// small samples, which the prior guards against here).
public struct Calibration: Codable, Sendable, Equatable {
    /// Bin centres and the calibrated value at each, increasing.
    public private(set) var centres: [Double]
    public private(set) var values: [Double]
    /// Outcomes the map was fitted on.
    public private(set) var outcomes: Int
    public var priorStrength: Double

    public init(priorStrength: Double = 20) {
        centres = (0..<10).map { (Double($0) + 0.5) / 10 }
        values = centres
        outcomes = 0
        self.priorStrength = priorStrength
    }

    public func map(_ score: Double) -> Double {
        let x = min(1, max(0, score))
        let n = centres.count
        guard n >= 2 else { return x }
        if x <= centres[0] { return values[0] * x / centres[0] }
        // Between (or past the last) centre: the line through the neighbouring centres, kept inside 0…1.
        var index = 0
        while index + 2 < n, centres[index + 1] < x { index += 1 }
        let t = (x - centres[index]) / (centres[index + 1] - centres[index])
        return min(1, max(0, values[index] + t * (values[index + 1] - values[index])))
    }

    /// Refits on outcomes `(score, accepted)`: the map moves toward the observed rates as they accumulate.
    public mutating func refit(_ observations: [(score: Double, accepted: Bool)]) {
        let bins = centres.count
        var count = [Double](repeating: 0, count: bins)
        var accepted = [Double](repeating: 0, count: bins)
        for observation in observations {
            let bin = min(bins - 1, max(0, Int(observation.score * Double(bins))))
            count[bin] += 1
            if observation.accepted { accepted[bin] += 1 }
        }
        var rate = (0..<bins).map { (accepted[$0] + priorStrength * values[$0]) / (count[$0] + priorStrength) }
        let weight = count.map { $0 + priorStrength }
        rate = Self.poolAdjacentViolators(rate, weights: weight)
        values = rate
        outcomes += observations.count
    }

    /// Isotonic regression of `values` (non-decreasing) with weights: merge neighbouring blocks that violate
    /// the order into their weighted mean.
    static func poolAdjacentViolators(_ values: [Double], weights: [Double]) -> [Double] {
        var blocks: [(sum: Double, weight: Double, count: Int)] = []
        for (value, weight) in zip(values, weights) {
            blocks.append((value * weight, weight, 1))
            while blocks.count >= 2,
                blocks[blocks.count - 2].sum / blocks[blocks.count - 2].weight > blocks[blocks.count - 1].sum / blocks[blocks.count - 1].weight
            {
                let last = blocks.removeLast()
                blocks[blocks.count - 1].sum += last.sum
                blocks[blocks.count - 1].weight += last.weight
                blocks[blocks.count - 1].count += last.count
            }
        }
        return blocks.flatMap { Array(repeating: $0.sum / $0.weight, count: $0.count) }
    }

    /// The number shown, with no more precision than the evidence supports: the half-width of an 80%
    /// interval (the margin 1/effective traits, widened when confidence is low) decides between 1%, 5% and 10%
    /// steps, a range, or only a word; never 100%.
    public static func display(_ value: Double, confidence: Double, effectiveTraits: Double) -> LocalizedText {
        let halfWidth = min(0.5, 1 / max(1, effectiveTraits) + 0.1 * (1 - confidence))
        let percent = min(99, max(1, value * 100))
        if confidence < 0.3 || halfWidth > 0.15 {
            switch value {
            case 0.7...: return LocalizedText(ru: "многообещающе", en: "promising")
            case 0.5..<0.7: return LocalizedText(ru: "стоит попробовать", en: "worth a try")
            default: return LocalizedText(ru: "пока непонятно", en: "unclear yet")
            }
        }
        if halfWidth > 0.08 {
            let low = Int((max(0, value - halfWidth) * 10).rounded(.down)) * 10
            let high = min(99, Int((min(1, value + halfWidth) * 10).rounded(.up)) * 10)
            return LocalizedText(ru: "\(low)–\(high)%", en: "\(low)–\(high)%")
        }
        let step = halfWidth > 0.03 ? 5.0 : 1.0
        let shown = Int(min(99, (percent / step).rounded() * step))
        return LocalizedText(ru: "\(shown)%", en: "\(shown)%")
    }
}
