import KindredCore
import Testing

/// Language detection decides which lexicons and stemmer read a diary; these tests pin it on
/// diary entries written the way people write them, borrowed words and typos included.
@Suite("Language detector")
struct LanguageDetectorTests {
    private let detector = LanguageDetector()

    static let russianDiaries = [
        "Сегодня опять проспала, начальник злой. Зато вечером сходили с Катей в кино!",
        "Весь день болит голова, ничего не хочется. Наверное, погода меняется",
        "Продаю диван за 5000, почти новый, а то места в квартире совсем нет",
        "мама опять звонила три раза, я понимаю что она волнуется но это уже слишком((",
        "Наконец-то доделала отчёт!!! Премию обещали, посмотрим 🤞",
        "Ходили с сыном в зоопарк, он в восторге от жирафов. Я тоже, если честно",
        "Думаю уволиться. Работа не радует, коллектив токсичный, а денег всё равно мало",
        "Нужен мастер, чтобы починил кран на кухне, течёт уже неделю",
        "Вчера поругались с мужем из-за ерунды, сегодня помирились. Люблю его",
        "Пробежала 10 км за 58 минут, личный рекорд 💪 Ноги гудят",
        "Хочу научиться играть на гитаре, давно мечтаю, но всё времени нет",
        "Не могу уснуть, в голове крутятся мысли про переезд в Питер",
    ]

    static let englishDiaries = [
        "honestly I'm exhausted, but the run this morning was great",
        "Had coffee with Sam today. We talked about moving to Berlin next year.",
        "I don't know why I keep putting off the dentist, it's getting ridiculous",
        "Work was fine. My boss was actually nice for once!",
        "Can't sleep again... too much on my mind about the wedding",
        "Selling my old bike for $120 if anyone needs one, it's in good shape",
        "We cooked pasta together and watched a movie, perfect Sunday 🍝",
        "need someone to fix my tap, it has been leaking for a week",
        "Felt lonely today. Everyone seems busy with their own lives",
        "I'd love to learn Spanish this year, maybe take a trip to Madrid",
        "My daughter lost her first tooth today and she was so proud",
        "Job interview went better than I expected, fingers crossed 🤞",
    ]

    @Test("Russian diary entries are Russian", arguments: russianDiaries)
    func russianDiariesAreRussian(_ diary: String) {
        let guess = detector.detect(diary)
        #expect(guess.language == .ru)
        #expect(guess.russianShare == 1)
        // Six words without a function word are still only fair evidence.
        #expect(guess.confidence > 0.6)
    }

    @Test("English diary entries are English", arguments: englishDiaries)
    func englishDiariesAreEnglish(_ diary: String) {
        let guess = detector.detect(diary)
        #expect(guess.language == .en)
        #expect(guess.russianShare == 0)
        #expect(guess.confidence > 0.6)
    }

    @Test("A brand name in Russian text leaves it Russian")
    func brandNameInRussianTextStaysRussian() {
        let guess = detector.detect(
            "Купила наконец новый iPhone, теперь буду фоткать всё подряд. Заказала ещё чехол на Ozon")
        #expect(guess.language == .ru)
        #expect(guess.russianShare == 1)
    }

    @Test("\"ok\" and other interjections in Russian text leave it Russian")
    func okInRussianTextStaysRussian() {
        let guess = detector.detect("Поговорила с Лёшей, вроде всё ok. lol, он даже извинился")
        #expect(guess.language == .ru)
        #expect(guess.russianShare == 1)
    }

    @Test("A film title with English function words in Russian text leaves it Russian")
    func filmTitleInRussianTextStaysRussian() {
        let guess = detector.detect("Вечером смотрели Game of Thrones, залипли до трёх ночи. Завтра буду никакая")
        #expect(guess.language == .ru)
        #expect(guess.russianShare == 1)
    }

    @Test("Shops and places in Latin letters leave Russian text Russian")
    func latinNamesInRussianTextStayRussian() {
        let guess = detector.detect("Зашли в Zara и H&M, потом поужинали в Starbucks на Тверской")
        #expect(guess.language == .ru)
    }

    @Test("A Russian word in English text leaves it English")
    func russianWordInEnglishTextStaysEnglish() {
        let guess = detector.detect("Had борщ at grandma's place, best food ever, I miss her cooking")
        #expect(guess.language == .en)
        #expect(guess.russianShare == 0)
    }

    @Test("A sentence in each language is mixed")
    func sentenceInEachLanguageIsMixed() {
        let guess = detector.detect("I'm so tired today. Начальник опять наорал на всех, хочу в отпуск.")
        #expect(guess.language == .mixed)
        #expect(guess.russianShare > 0.3 && guess.russianShare < 0.8)
        #expect(guess.confidence > 0.5)
    }

    @Test("An English clause inside a Russian sentence makes it mixed")
    func codeSwitchedClauseIsMixed() {
        let guess = detector.detect("Весь день дома, honestly I don't want to see anyone, завтра будет лучше")
        #expect(guess.language == .mixed)
    }

    @Test("A long Russian diary with one short English phrase stays Russian")
    func shortEnglishPhraseInLongRussianDiaryStaysRussian() {
        let diary = """
            Сегодня был очень насыщенный день. С утра поехала в центр на собеседование, \
            долго искала офис, чуть не опоздала. Разговор прошёл хорошо, меня спрашивали про опыт \
            и про то, почему я ушла с прошлой работы. Потом встретилась с подругой, мы пообедали \
            и погуляли по парку. Вечером готовила ужин и думала, что, может быть, всё наконец \
            налаживается. Whatever happens, happens. Завтра снова рано вставать.
            """
        let guess = detector.detect(diary)
        #expect(guess.language == .ru)
        #expect(guess.russianShare > 0.9)
    }

    @Test("A typo with a Latin letter counts as Russian")
    func mixedScriptTypoCountsAsRussian() {
        let guess = detector.detect("Большое cпасибо всем, кто поддержал меня в трудный момент")
        #expect(guess.language == .ru)
        #expect(guess.russianShare == 1)
    }

    @Test("Empty, digits-only, emoji-only and punctuation-only texts are unknown with no confidence")
    func contentlessTextIsUnknown() {
        for text in ["", "   \n ", "5000", "12 000 ₽ 18:30", "😂😂😂", "?!...", ")))"] {
            let guess = detector.detect(text)
            #expect(guess.language == .unknown, "\(text)")
            #expect(guess.confidence == 0, "\(text)")
            #expect(guess.russianShare == 0, "\(text)")
        }
    }

    @Test("Confidence grows with the amount of text")
    func confidenceGrowsWithLength() {
        let one = detector.detect("Устала")
        let sentence = detector.detect("Устала, но день был хороший")
        let diary = detector.detect("Устала, но день был хороший. Вечером гуляли с собакой, потом смотрели кино")
        #expect(one.language == .ru)
        #expect(one.confidence < sentence.confidence)
        #expect(sentence.confidence < diary.confidence)
    }

    @Test("The Russian share follows the proportion of content in each language")
    func russianShareFollowsProportion() {
        let mostlyEnglish = detector.detect(
            "It was a long day at the office and I am really tired of all this. Ну и ладно, завтра пятница")
        let mostlyRussian = detector.detect(
            "Сегодня весь день была на работе и очень устала от всего этого. Well, tomorrow is Friday")
        #expect(mostlyEnglish.russianShare < 0.5)
        #expect(mostlyRussian.russianShare > 0.5)
    }

    @Test("Latin transliteration of Russian is English with low confidence")
    func transliterationIsUnsureEnglish() {
        let guess = detector.detect("privet, segodnya ustala kak sobaka")
        #expect(guess.language == .en)
        #expect(guess.confidence < 0.6)
    }

    @Test("Detecting from tokens gives the same guess as detecting from text")
    func detectFromTokensMatchesText() {
        let text = "I'm so tired today. Начальник опять наорал на всех, хочу в отпуск."
        #expect(detector.detect(tokens: Tokenizer().tokens(text)) == detector.detect(text))
    }
}
