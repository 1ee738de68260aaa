import Fluent
import Foundation
import KindredCore
import KindredStore
import Logging
import Vapor

/// The demo a newcomer sees first: on an empty database, a synthetic population (`PopulationGenerator`)
/// signs up, writes a few days of diaries and answers questions — through the same repositories, queue and
/// pipeline as real people, so their profiles are built the real way — and one of them is the demo account,
/// whose login is printed in the log. Demo people are marked `is_demo` and matched only with each other.
/// `KINDRED_DEMO=off` turns it off; at scale, turn it off.
struct DemoPopulation: Sendable {
    static let email = "demo@kindred.local"
    /// The population's seed: every fresh demo is the same population.
    static let seed: UInt64 = 2026

    let services: KindredServices
    let hasher: @Sendable (String) async throws -> String
    let people: Int
    let days: Int
    let logger: Logger

    /// What the log shows a newcomer.
    struct Login: Sendable {
        var email: String
        var password: String
        var token: String
        var seeded: Bool
    }

    /// Seeds the population when the database has nobody yet; when the demo account exists (this start or an
    /// earlier one), gives it a fresh password and a session and returns them. Nil when the database holds
    /// real people and no demo account.
    func prepare() async throws -> Login? {
        let generator = try PopulationGenerator(seed: Self.seed)
        var seeded = false
        if try await services.accounts.count() == 0 {
            seeded = try await seed(generator)
        }
        guard let account = try await services.accounts.user(email: Self.email) else { return nil }
        let password = Self.makePassword()
        account.passwordHash = try await hasher(password)
        try await services.accounts.save(account)
        let token = try await services.accounts.createSession(for: try account.requireID())
        return Login(email: Self.email, password: password, token: token, seeded: seeded)
    }

    /// Signs the population up (one transaction), then hands in their diaries and answers. Returns false when
    /// another replica seeded first (the demo account's e-mail is unique).
    func seed(_ generator: PopulationGenerator) async throws -> Bool {
        let places = try PlaceDirectory.bundled()
        let bank = services.questions
        let today = CalendarDate(Date())
        let population = (0..<people).map(generator.person)
        var records: [UserRecord] = []
        for person in population {
            let account = SyntheticAccount(signUpOf: person)
            let record = UserRecord(
                email: person.id == 0 ? Self.email : nil, passwordHash: nil, displayName: account.name,
                birthDate: CalendarDate(year: today.year - account.age, month: 1 + person.id % 12, day: 1 + person.id % 28)
                    ?? today,
                locale: KindredLocale(rawValue: account.language) ?? .ru,
                city: places.city(account.city)?.ru ?? account.city)
            record.isDemo = true
            record.gender = account.gender
            record.seeking = account.seeking.joined(separator: ",")
            record.ageMin = max(18, account.age - 8)
            record.ageMax = account.age + 8
            record.district = account.district.flatMap { id in places.city(account.city)?.districts?.first { $0.id == id }?.ru }
            record.latitude = account.lat
            record.longitude = account.lon
            record.consents = Consents(dating: true, friendship: true, exchange: true, jobs: person.id % 3 == 0)
            records.append(record)
        }
        do {
            try await services.accounts.registerAll(records)
        } catch AccountRepository.RegistrationError.emailTaken {
            return false
        }
        logger.notice("demo: \(people) people signed up; writing \(people * days) diaries through the pipeline")
        let respondent = SyntheticRespondent()
        var lastLogged = ContinuousClock.now
        for (number, (person, record)) in zip(population, records).enumerated() {
            if ContinuousClock.now - lastLogged >= .seconds(5) {
                logger.notice("demo: \(number) of \(people) people have written their diaries and answered")
                lastLogged = .now
            }
            let id = try record.requireID()
            for day in 0..<days {
                _ = try await services.diaries.acceptText(generator.diary(of: person, day: day).text, userID: id)
            }
            // A few answers each, to the questions the bank asks first, as a new person would give them.
            var random = SplitMix64(seed: Self.seed &+ UInt64(person.id))
            var answered: [String: Date] = [:]
            var profile = Profile()
            for _ in 0..<6 {
                guard let question = bank.next(for: profile, answeredAt: answered, now: Date()) else { break }
                let answer = respondent.answer(question, by: person, random: &random)
                guard (try? question.validate(answer)) != nil else { continue }
                _ = try await services.profiles.answer(answer, to: question, bank: bank, userID: id)
                profile = profile.applying(answer: answer, to: question, at: Date())
                answered[question.id] = Date()
            }
        }
        return true
    }

    /// Waits until the pipeline has taken every queued diary in, logging progress.
    func waitForPipeline(every interval: Duration = .seconds(5)) async throws {
        var lastLogged = ContinuousClock.now
        while true {
            let counts = try await services.queue.counts()
            let waiting = (counts[.queued] ?? 0) + (counts[.running] ?? 0)
            if waiting == 0 { return }
            if ContinuousClock.now - lastLogged >= interval {
                logger.notice("demo: \(waiting) diaries still in the pipeline")
                lastLogged = .now
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Twelve letters and digits, easy to type.
    static func makePassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<12).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}

/// The demo login once the demo is ready (tests read it; people read the log).
final class DemoStatus: @unchecked Sendable {
    private let lock = NSLock()
    private var ready: DemoPopulation.Login?

    var login: DemoPopulation.Login? { lock.withLock { ready } }

    func finish(_ login: DemoPopulation.Login) { lock.withLock { ready = login } }
}

struct DemoStatusKey: StorageKey {
    typealias Value = DemoStatus
}

extension Application {
    /// The demo's state when this application seeds one (`KINDRED_DEMO`), else nil.
    var demo: DemoStatus? { storage[DemoStatusKey.self] }
}

/// Seeds the demo once the workers run (they take the diaries in), then prints the demo login.
final class DemoLifecycle: LifecycleHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Void, Never>?
    let people: Int
    let days: Int
    let status: DemoStatus

    init(people: Int, days: Int, status: DemoStatus) {
        self.people = people
        self.days = days
        self.status = status
    }

    func didBootAsync(_ application: Application) async throws {
        let logger = Logger(label: "kindred.demo")
        let demo = DemoPopulation(
            services: application.kindred, hasher: { [application] in try await application.password.async.hash($0) },
            people: people, days: days, logger: logger)
        let host = application.http.server.configuration.hostname
        let port = application.http.server.configuration.port
        let status = status
        lock.withLock {
            task = Task {
                do {
                    let started = ContinuousClock.now
                    guard let login = try await demo.prepare() else { return }
                    if login.seeded {
                        try await demo.waitForPipeline()
                        logger.notice("demo: ready in \((ContinuousClock.now - started).inSeconds.rounded()) s")
                    }
                    logger.notice(
                        """
                        demo account (KINDRED_DEMO=off to disable): \(login.email) / \(login.password) — a new password each \
                        start. Try: curl -s http://\(host):\(port)/api/v1/me/matches -H 'Authorization: Bearer \(login.token)'
                        """)
                    status.finish(login)
                } catch is CancellationError {
                } catch {
                    logger.error("demo population could not be prepared: \(error)")
                }
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        let running = lock.withLock { task }
        running?.cancel()
        await running?.value
    }
}
