import Fluent
import Foundation
import KindredCore

/// Diary entries: accepted durably (row and pipeline job in one transaction), sealed at rest.
public struct DiaryRepository: Sendable {
    /// The job kind of the diary pipeline.
    public static let pipelineJobKind = "diary.pipeline"

    /// Payload of the pipeline job.
    public struct PipelinePayload: Codable, Sendable {
        public var diaryID: UUID
        public init(diaryID: UUID) { self.diaryID = diaryID }
    }

    /// An audio upload that passed the probe.
    public struct AcceptedAudio: Sendable {
        public var data: Data
        public var container: AudioContainer
        public var seconds: Double

        public init(data: Data, container: AudioContainer, seconds: Double) {
            self.data = data
            self.container = container
            self.seconds = seconds
        }
    }

    let database: @Sendable () -> any Database
    let cipher: PersonalDataCipher
    let blobs: BlobStore
    /// Intakes arriving together commit together: one transaction (one fsync on SQLite) for many diaries.
    let intake: GroupCommitter<Intake>

    struct Intake: Sendable {
        let diary: DiaryRecord
        let job: JobRecord
    }

    public init(database: @escaping @Sendable () -> any Database, cipher: PersonalDataCipher, blobs: BlobStore) {
        self.database = database
        self.cipher = cipher
        self.blobs = blobs
        self.intake = GroupCommitter { batch in
            // A diary and its pipeline job are in the same transaction: accepted means queued.
            try await database().transaction { tx in
                try await batch.map(\.diary).create(on: tx)
                try await batch.map(\.job).create(on: tx)
            }
        }
    }

    /// Commits a diary together with its pipeline job.
    private func commit(_ diary: DiaryRecord) async throws {
        let job = try JobQueue.makeJob(
            kind: Self.pipelineJobKind, payload: PipelinePayload(diaryID: try diary.requireID()), userID: diary.$user.id
        )
        try await intake.submit(Intake(diary: diary, job: job))
    }

    // MARK: Sealing contexts (bind each sealed value to its place)

    static func textContext(_ id: UUID) -> String { "diary/\(id.uuidString.lowercased())/text" }
    static func transcriptContext(_ id: UUID) -> String { "diary/\(id.uuidString.lowercased())/transcript" }
    static func audioContext(_ id: UUID) -> String { "diary/\(id.uuidString.lowercased())/audio" }
    static func pcmContext(_ id: UUID) -> String { "diary/\(id.uuidString.lowercased())/pcm" }
    static func analysisContext(_ id: UUID) -> String { "diary/\(id.uuidString.lowercased())/analysis" }

    // MARK: Intake

    /// Accepts a typed diary: the sealed row and its pipeline job commit together (grouped with other
    /// intakes arriving at the same moment).
    public func acceptText(_ text: String, userID: UUID) async throws -> DiaryRecord {
        let diary = DiaryRecord(userID: userID, kind: .text)
        let id = try diary.requireID()
        diary.textSealed = try cipher.seal(text, context: Self.textContext(id))
        try await commit(diary)
        return diary
    }

    /// Accepts a recording: the sealed file is written first, then row and job commit together.
    /// If the transaction fails the file is removed, so nothing half-written remains.
    public func acceptAudio(_ audio: AcceptedAudio, userID: UUID) async throws -> DiaryRecord {
        let diary = DiaryRecord(userID: userID, kind: .audio)
        let id = try diary.requireID()
        let key = BlobStore.key(user: userID, name: "\(id.uuidString.lowercased()).\(audio.container.rawValue).sealed")
        try blobs.write(try cipher.seal(audio.data, context: Self.audioContext(id)), key: key)
        diary.audioBlob = key
        diary.audioContainer = audio.container.rawValue
        diary.audioBytes = audio.data.count
        diary.audioSeconds = audio.seconds
        do {
            try await commit(diary)
        } catch {
            try? FileManager.default.removeItem(at: try blobs.url(for: key))
            throw error
        }
        return diary
    }

    // MARK: Reading

    /// A diary of this person, or nil: someone else's diary is indistinguishable from a missing one.
    public func diary(_ id: UUID, of userID: UUID) async throws -> DiaryRecord? {
        try await DiaryRecord.query(on: database()).filter(\.$id == id).filter(\.$user.$id == userID).first()
    }

    public func diary(_ id: UUID) async throws -> DiaryRecord? {
        try await DiaryRecord.find(id, on: database())
    }

    /// This person's diaries, newest first.
    public func diaries(of userID: UUID, limit: Int = 50, before: Date? = nil) async throws -> [DiaryRecord] {
        var query = DiaryRecord.query(on: database()).filter(\.$user.$id == userID)
        if let before { query = query.filter(\.$createdAt < before) }
        return try await query.sort(\.$createdAt, .descending).sort(\.$id).limit(limit).all()
    }

    public func text(of diary: DiaryRecord) throws -> String? {
        guard let sealed = diary.textSealed else { return nil }
        return try cipher.openText(sealed, context: Self.textContext(try diary.requireID()))
    }

    public func transcript(of diary: DiaryRecord) throws -> String? {
        guard let sealed = diary.transcriptSealed else { return nil }
        return try cipher.openText(sealed, context: Self.transcriptContext(try diary.requireID()))
    }

    /// The original recording, decrypted.
    public func audio(of diary: DiaryRecord) throws -> Data? {
        guard let key = diary.audioBlob else { return nil }
        return try cipher.open(try blobs.read(key: key), context: Self.audioContext(try diary.requireID()))
    }

    /// The 16 kHz mono WAV made by the pipeline, decrypted.
    public func pcm(of diary: DiaryRecord) throws -> Data? {
        guard let key = diary.pcmBlob else { return nil }
        return try cipher.open(try blobs.read(key: key), context: Self.pcmContext(try diary.requireID()))
    }

    /// The decrypted analysis JSON, when the analysis stage has run.
    public func analysisJSON(of diary: DiaryRecord) throws -> Data? {
        guard let sealed = diary.analysisSealed else { return nil }
        return try cipher.open(sealed, context: Self.analysisContext(try diary.requireID()))
    }

    // MARK: Pipeline updates

    /// Stores the analysis (sealed) and marks the diary analysed; with `pauseMatching` the person's
    /// matching is paused in the same transaction, so a crisis is never recorded without its pause.
    public func storeAnalysis(_ json: Data, for diary: DiaryRecord, pauseMatching: Bool) async throws {
        let id = try diary.requireID()
        diary.analysisSealed = try cipher.seal(json, context: Self.analysisContext(id))
        diary.status = DiaryStatus.analyzed.rawValue
        diary.error = nil
        let userID = diary.$user.id
        try await database().transaction { tx in
            try await diary.save(on: tx)
            if pauseMatching {
                try await UserRecord.query(on: tx).filter(\.$id == userID).filter(\.$matchingPausedAt == nil)
                    .set(\.$matchingPausedAt, to: Date()).update()
            }
        }
    }

    public func setStatus(_ status: DiaryStatus, of diary: DiaryRecord, error: String? = nil) async throws {
        diary.status = status.rawValue
        diary.error = error
        try await diary.save(on: database())
    }

    /// Stores the transcoded PCM (sealed, atomically) and advances the diary.
    public func storePCM(_ wav: Data, for diary: DiaryRecord, then status: DiaryStatus) async throws {
        let id = try diary.requireID()
        let key = BlobStore.key(user: diary.$user.id, name: "\(id.uuidString.lowercased()).pcm.wav.sealed")
        try blobs.write(try cipher.seal(wav, context: Self.pcmContext(id)), key: key)
        diary.pcmBlob = key
        diary.status = status.rawValue
        diary.error = nil
        try await diary.save(on: database())
    }

    /// Stores the transcript of a recording (sealed) and the language heard.
    public func storeTranscript(_ text: String, language: String?, for diary: DiaryRecord) async throws {
        let id = try diary.requireID()
        diary.transcriptSealed = try cipher.seal(text, context: Self.transcriptContext(id))
        if let language { diary.language = language }
        diary.error = nil
        try await diary.save(on: database())
    }

    public func scratchDirectory() throws -> URL {
        try blobs.scratchDirectory()
    }
}
