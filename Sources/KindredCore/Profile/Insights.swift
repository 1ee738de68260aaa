import Foundation

/// A short statement a person would want to share («Оказывается, я…»), with what stands behind it.
/// Insights come only from traits seen across several diaries or answers, never from one.
public struct Insight: Codable, Sendable, Equatable {
    public var id: String
    public var text: LocalizedText
    /// The trait it rests on (`interests.chess`, `values.benevolence`, `valence`, `goals.children`, …).
    public var trait: String
    public var confidence: Double
    /// Diaries or answers behind it.
    public var evidence: Int
}

public enum InsightBuilder {
    /// Insights need at least this many observations and this confidence.
    public static let minimumEvidence = 3
    public static let minimumConfidence = 0.45

    static let valuePhrases: [String: LocalizedText] = [
        "achievement": LocalizedText(ru: "мне важно добиваться своего и видеть результат", en: "achieving things and seeing results matters to me"),
        "benevolence": LocalizedText(ru: "больше всего мне важна забота о близких", en: "caring for the people close to me matters most"),
        "conformity": LocalizedText(ru: "мне важно не подводить других и держать слово", en: "not letting others down matters to me"),
        "hedonism": LocalizedText(ru: "я умею радоваться жизни и простым удовольствиям", en: "I know how to enjoy life and simple pleasures"),
        "power": LocalizedText(ru: "мне важно влиять на происходящее и вести за собой", en: "having a say and leading matter to me"),
        "security": LocalizedText(ru: "мне важны стабильность и уверенность в завтрашнем дне", en: "stability and a safe tomorrow matter to me"),
        "self_direction": LocalizedText(ru: "мне важно самому решать, как жить и что делать", en: "deciding for myself how to live matters to me"),
        "stimulation": LocalizedText(ru: "мне нужны новые впечатления, без них скучно", en: "I need new experiences, life is dull without them"),
        "tradition": LocalizedText(ru: "мне дороги традиции и корни", en: "traditions and roots are dear to me"),
        "universalism": LocalizedText(ru: "мне не всё равно, что происходит с миром и природой", en: "I care about the world and nature"),
    ]

    static let goalPhrases: [String: LocalizedText] = [
        "children.wants": LocalizedText(ru: "я точно хочу детей", en: "I really do want children"),
        "children.does_not_want": LocalizedText(ru: "дети — не мой путь, и это нормально", en: "children are not my path, and that is fine"),
        "marriage.wants": LocalizedText(ru: "я хочу семью и серьёзных отношений", en: "I want a family and a serious relationship"),
        "relocation.wants": LocalizedText(ru: "меня тянет переехать", en: "I keep thinking about moving"),
        "relocation.planning": LocalizedText(ru: "я всерьёз готовлюсь к переезду", en: "I am seriously preparing to move"),
        "career.growth": LocalizedText(ru: "я хочу расти в работе", en: "I want to grow at work"),
        "career.change": LocalizedText(ru: "мне пора сменить профессию", en: "I am ready to change careers"),
        "career.own_business": LocalizedText(ru: "я мечтаю о своём деле", en: "I dream of my own business"),
        "career.balance": LocalizedText(ru: "мне важнее баланс, чем карьера", en: "balance matters more to me than career"),
        "lifestyle.active": LocalizedText(ru: "я человек движения", en: "I am someone who keeps moving"),
        "lifestyle.homebody": LocalizedText(ru: "мне лучше всего дома", en: "I am happiest at home"),
        "lifestyle.nomad": LocalizedText(ru: "мне не сидится на месте", en: "I can't stay in one place for long"),
    ]

    /// The insights a profile supports, strongest first (at most `limit`). `interestNames` gives an interest's
    /// words in both languages (`interestNames(_:)`).
    public static func insights(from profile: Profile, interestNames: [String: LocalizedText], limit: Int = 6)
        -> [Insight]
    {
        var result: [Insight] = []
        func solid(_ estimate: TraitEstimate) -> Bool {
            estimate.evidence >= minimumEvidence && estimate.confidence >= minimumConfidence
        }

        // The interests that keep coming up.
        for (id, estimate) in profile.interests where solid(estimate) && estimate.value >= 0.3 {
            guard let name = interestNames[id] else { continue }
            result.append(
                Insight(
                    id: "interest.\(id)",
                    text: LocalizedText(
                        ru: "Оказывается, «\(name.ru)» — одна из главных тем моих дней.",
                        en: "Turns out \(name.en) is one of the big themes of my days."),
                    trait: "interests.\(id)", confidence: estimate.confidence * estimate.value, evidence: estimate.evidence))
        }

        // The value most present in what the person writes about, if it stands out.
        if let top = profile.values.filter({ solid($0.value) }).max(by: { $0.value.value < $1.value.value }),
            top.value.value >= 0.25, let phrase = valuePhrases[top.key]
        {
            result.append(
                Insight(
                    id: "value.\(top.key)",
                    text: LocalizedText(ru: "Оказывается, \(phrase.ru).", en: "Turns out \(phrase.en)."),
                    trait: "values.\(top.key)", confidence: top.value.confidence * top.value.value,
                    evidence: top.value.evidence))
        }

        // Mood over the days.
        if solid(profile.valence), abs(profile.valence.value) >= 0.2 {
            let positive = profile.valence.value > 0
            result.append(
                Insight(
                    id: positive ? "mood.bright" : "mood.heavy",
                    text: positive
                        ? LocalizedText(
                            ru: "Оказывается, хороших дней у меня больше, чем кажется.",
                            en: "Turns out I have more good days than it feels like.")
                        : LocalizedText(
                            ru: "Оказывается, последнее время мне непросто — и это видно по дневникам.",
                            en: "Turns out things have been hard lately, and my diaries show it."),
                    trait: "valence", confidence: profile.valence.confidence * min(1, abs(profile.valence.value) * 2),
                    evidence: profile.valence.evidence))
        }

        // Goals said clearly and more than once.
        for (topic, goal) in profile.goals where goal.evidence >= 2 && goal.confidence >= 0.5 {
            guard let stance = goal.stance, let phrase = goalPhrases["\(topic).\(stance)"] else { continue }
            result.append(
                Insight(
                    id: "goal.\(topic)",
                    text: LocalizedText(ru: "Оказывается, \(phrase.ru).", en: "Turns out \(phrase.en)."),
                    trait: "goals.\(topic)", confidence: goal.confidence, evidence: goal.evidence))
        }

        // How the person writes.
        if let questions = profile.style["questionRate"], solid(questions), questions.value >= 0.25 {
            result.append(
                Insight(
                    id: "style.questions",
                    text: LocalizedText(
                        ru: "Оказывается, я много спрашиваю себя — дневник для меня способ думать.",
                        en: "Turns out I ask myself a lot of questions: my diary is how I think."),
                    trait: "style.questionRate", confidence: questions.confidence, evidence: questions.evidence))
        }
        if let we = profile.style["firstPersonPlural"], let i = profile.style["firstPersonSingular"], solid(we),
            we.value > 0.02, we.value >= i.value * 0.5
        {
            result.append(
                Insight(
                    id: "style.we",
                    text: LocalizedText(
                        ru: "Оказывается, я часто говорю «мы» — мне важно быть частью чего-то.",
                        en: "Turns out I often say \"we\": being part of something matters to me."),
                    trait: "style.firstPersonPlural", confidence: we.confidence, evidence: we.evidence))
        }

        return result.sorted { ($0.confidence, $1.id) > ($1.confidence, $0.id) }.prefix(limit).map { $0 }
    }

    /// Names of a taxonomy's concepts (interests, exchange): the first synonym in each language.
    public static func interestNames(_ lexicon: ConceptLexicon) -> [String: LocalizedText] {
        Dictionary(
            lexicon.concepts.compactMap { concept in
                guard !concept.id.hasPrefix("_"), let ru = concept.ru.first, let en = concept.en.first else { return nil }
                // "=word" marks a phrase matched exactly, not a different name.
                func plain(_ phrase: String) -> String { phrase.hasPrefix("=") ? String(phrase.dropFirst()) : phrase }
                return (concept.id, LocalizedText(ru: plain(ru), en: plain(en)))
            }, uniquingKeysWith: { first, _ in first })
    }
}
