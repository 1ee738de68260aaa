import Fluent
import Foundation
import KindredCore

/// One diary entry. Text, transcript and audio are personal: they are stored only sealed with AES-GCM
/// (`PersonalDataCipher`), the audio as files under the owner's folder in the blob store.
public final class DiaryRecord: Model, @unchecked Sendable {
    public static let schema = "diaries"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "user_id") public var user: UserRecord
    @Field(key: "kind") public var kind: String
    @Field(key: "status") public var status: String
    /// Sealed typed text (text diaries).
    @OptionalField(key: "text_sealed") public var textSealed: Data?
    /// Sealed transcript (audio diaries, once transcribed).
    @OptionalField(key: "transcript_sealed") public var transcriptSealed: Data?
    @OptionalField(key: "language") public var language: String?
    /// Blob-store key of the sealed original upload.
    @OptionalField(key: "audio_blob") public var audioBlob: String?
    @OptionalField(key: "audio_container") public var audioContainer: String?
    @OptionalField(key: "audio_bytes") public var audioBytes: Int?
    @OptionalField(key: "audio_seconds") public var audioSeconds: Double?
    /// Blob-store key of the sealed 16 kHz mono WAV made by the pipeline.
    @OptionalField(key: "pcm_blob") public var pcmBlob: String?
    /// Sealed JSON of the local analysis (it quotes the diary's sentences, so it is personal too).
    @OptionalField(key: "analysis_sealed") public var analysisSealed: Data?
    /// The profile version that took this diary in (set in the same transaction): a diary counts once.
    @OptionalField(key: "profile_version") public var profileVersion: Int?
    /// Why the pipeline gave up, when `status == failed`. Never contains diary content.
    @OptionalField(key: "error") public var error: String?
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) public var updatedAt: Date?

    public init() {}

    public init(id: UUID = UUID(), userID: UUID, kind: DiaryKind) {
        self.id = id
        self.$user.id = userID
        self.kind = kind.rawValue
        self.status = DiaryStatus.received.rawValue
    }

    public var diaryStatus: DiaryStatus { DiaryStatus(rawValue: status) ?? .failed }
    public var diaryKind: DiaryKind { DiaryKind(rawValue: kind) ?? .text }
}
