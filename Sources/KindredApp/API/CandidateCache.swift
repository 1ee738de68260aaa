import Foundation
import KindredCore

/// Every person seen by a refresh, prepared for scoring and indexed as vectors (`CandidateIndex`, one per
/// domain, blocks by city), kept while their profile version stays the same. A refresh then opens only the
/// profiles that changed since (re-indexed in place, `upsert`), ranks the city by SIMD dot products, and
/// re-scores only the best on five levels.
actor CandidateCache {
    struct Entry {
        var stamp: String
        var city: String
        var prepared: PreparedProfile
    }

    private var entries: [UUID: Entry] = [:]
    private var numbers: [UUID: Int] = [:]
    private var people: [Int: UUID] = [:]
    private var indexes: [MatchDomain: CandidateIndex] = [:]
    private var calibrations: [MatchDomain: (Calibration, Date)] = [:]

    /// The calibration of a domain, refitted from decided matches at most once every `maxAge`.
    func calibration(
        _ domain: MatchDomain, now: Date = Date(), maxAge: TimeInterval = 3_600,
        outcomes: @Sendable () async throws -> [(score: Double, accepted: Bool)]
    ) async rethrows -> Calibration {
        if let (calibration, fitted) = calibrations[domain], now.timeIntervalSince(fitted) < maxAge { return calibration }
        var calibration = Calibration()
        let observed = try await outcomes()
        if !observed.isEmpty { calibration.refit(observed) }
        calibrations[domain] = (calibration, now)
        return calibration
    }

    /// Drops the fitted calibrations (a decision was made: the next refresh refits).
    func invalidateCalibrations() { calibrations = [:] }

    var count: Int { entries.count }

    /// The prepared profile when it is at `stamp` (profile version and account change time), else nil
    /// (the caller opens the profile and stores it).
    func prepared(_ id: UUID, stamp: String, city: String) -> PreparedProfile? {
        guard let entry = entries[id], entry.stamp == stamp, entry.city == city else { return nil }
        return entry.prepared
    }

    func store(_ id: UUID, stamp: String, city: String, prepared: PreparedProfile) {
        entries[id] = Entry(stamp: stamp, city: city, prepared: prepared)
        let number: Int
        if let known = numbers[id] {
            number = known
        } else {
            number = numbers.count
            numbers[id] = number
            people[number] = id
        }
        for domain in MatchDomain.allCases {
            let vectors = FeatureVector.make(prepared.profile, domain: domain)
            // Vectors are finite by construction (profiles are validated), so this cannot throw in practice.
            try? indexes[domain, default: CandidateIndex()].upsert(
                id: number, block: city, selfVector: vectors.0, wants: vectors.1)
        }
    }

    func forget(_ id: UUID) {
        entries[id] = nil
        guard let number = numbers[id] else { return }
        for domain in MatchDomain.allCases { indexes[domain]?.remove(id: number) }
    }

    /// The `k` people of `id`'s city with the best vector score in `domain`, among `allowed`.
    func top(for id: UUID, domain: MatchDomain, k: Int, allowed: Set<UUID>) -> [UUID] {
        guard let number = numbers[id], let index = indexes[domain] else { return [] }
        let people = self.people
        return index.topK(for: number, k: k) { people[$0].map { !allowed.contains($0) } ?? true }
            .compactMap { people[$0.id] }
    }
}
