import Foundation

/// A profile as two compact vectors for candidate search (`CandidateIndex`): `self`, what the person is, and
/// `wants`, what fits them, aligned so that `wants_A · self_B + wants_B · self_A` is a cheap, symmetric stand-in
/// for the five levels (the shortlist is then re-scored by `Matchmaker`). 32 dimensions each:
///
/// | dims | self | wants |
/// |---|---|---|
/// | 0–9 | Schwartz values − 0.5 | the same (similar values score high: Gaunt, 2006) |
/// | 10–14 | Big Five − 0.5 | low neuroticism in a partner (Malouff et al., 2010), the rest 0 |
/// | 15–16 | attachment anxiety, avoidance − 0.5 | low insecurity in a partner |
/// | 17–21 | Thomas–Kilmann mode shares − 0.2 | collaborating and compromising welcome, competing not |
/// | 22–24 | children, relocation, lifestyle stances as −1…1 | the same stance |
/// | 25–31 | interests, randomly projected to 7 signs | the same projection |
///
/// Each part is scaled by its confidence, so an unknown part adds nothing either way.
public enum FeatureVector {
    public static let dimensions = CandidateIndex.halfDimensions

    public static let valueOrder = [
        "self_direction", "stimulation", "hedonism", "achievement", "power", "security", "conformity", "tradition",
        "benevolence", "universalism",
    ]
    public static let bigFiveOrder = ["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"]

    public static func make(_ profile: MatchProfile, domain: MatchDomain) -> (self: [Float], wants: [Float]) {
        var me = [Float](repeating: 0, count: dimensions)
        var wants = [Float](repeating: 0, count: dimensions)
        for (index, value) in valueOrder.enumerated() {
            guard let estimate = profile.values[value] else { continue }
            let x = Float((estimate.value - 0.5) * estimate.confidence)
            me[index] = x
            wants[index] = x
        }
        for (offset, trait) in bigFiveOrder.enumerated() {
            guard let estimate = profile.bigFive[trait] else { continue }
            me[10 + offset] = Float((estimate.value - 0.5) * estimate.confidence)
        }
        if domain == .team {
            wants[11] = 0.5  // conscientiousness (Bell, 2007)
            wants[13] = 0.3  // agreeableness
        } else {
            wants[14] = -0.6  // a partner's neuroticism counts against (Malouff et al., 2010)
        }
        for (offset, trait) in ["anxiety", "avoidance"].enumerated() {
            guard let estimate = profile.attachment[trait] else { continue }
            me[15 + offset] = Float((estimate.value - 0.5) * estimate.confidence)
            wants[15 + offset] = domain == .team ? 0 : -0.4
        }
        let modes = ConflictReader.modes
        let shares = modes.map { profile.conflict["mode.\($0)"]?.value ?? 0 }
        let total = shares.reduce(0, +)
        if total > 0 {
            for (offset, share) in shares.enumerated() { me[17 + offset] = Float(share / total - 0.2) }
        }
        // competing, collaborating, compromising, avoiding, accommodating
        for (offset, weight) in [Float(-0.4), 0.5, 0.3, -0.2, 0.1].enumerated() { wants[17 + offset] = weight }
        if domain == .romance {
            let codes: [(String, [String: Float])] = [
                ("children", ["wants": 1, "has": 0.5, "undecided": 0, "does_not_want": -1]),
                ("relocation", ["planning": 1, "wants": 0.6, "recently_moved": -0.3, "does_not_want": -1]),
                ("lifestyle", ["active": 1, "nomad": 0.8, "urban": 0.3, "rural": -0.3, "homebody": -1]),
            ]
            for (offset, (goal, code)) in codes.enumerated() {
                guard let g = profile.goals[goal], let stance = g.stance, let x = code[stance] else { continue }
                me[22 + offset] = x * Float(g.confidence)
                wants[22 + offset] = x * Float(g.confidence)
            }
        }
        // Interests: each id adds its weight to 7 dimensions with signs from its hash (a random projection:
        // shared interests correlate, unrelated ones cancel out on average).
        for (id, estimate) in profile.interests {
            var hash = WordKey(id).fingerprint
            for offset in 0..<7 {
                let sign: Float = hash & 1 == 0 ? 1 : -1
                let x = sign * Float(estimate.value * estimate.confidence) * 0.5
                me[25 + offset] += x
                wants[25 + offset] += x
                hash >>= 1
            }
        }
        return (me, wants)
    }
}
