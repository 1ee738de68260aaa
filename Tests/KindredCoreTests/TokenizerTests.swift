import Foundation
import KindredCore
import Testing

/// The tokenizer is what every analysis rule stands on: these tests pin the splitting rules
/// on diary sentences as people actually write them.
@Suite("Tokenizer")
struct TokenizerTests {
    private let tokenizer = Tokenizer()

    private func texts(_ text: String) -> [String] {
        tokenizer.tokens(text).map(\.text)
    }

    private func token(_ surface: String, in text: String) throws -> Token {
        try #require(tokenizer.tokens(text).first { $0.surface == surface }, "no token «\(surface)»")
    }

    // MARK: Words

    @Test("Hyphenated Russian words stay one token")
    func hyphenatedRussianWordsStayWhole() {
        let words = texts(
            "Кто-то опять съел мой йогурт из холодильника, из-за этого весь день злая. По-моему, это сосед")
        #expect(words.contains("кто-то"))
        #expect(words.contains("из-за"))
        #expect(words.contains("по-моему"))
        #expect(!words.contains("кто"))
    }

    @Test("Hyphenated English words stay one token")
    func hyphenatedEnglishWordsStayWhole() {
        let words = texts("My well-being comes first this year, even if my mother-in-law disagrees")
        #expect(words.contains("well-being"))
        #expect(words.contains("mother-in-law"))
    }

    @Test("A dash with spaces around it is punctuation, not a hyphen")
    func spacedDashSeparatesWords() {
        let tokens = tokenizer.tokens("Работа - дом - работа, и так каждый день — надоело")
        #expect(tokens.filter { $0.kind == .punctuation }.map(\.text) == ["-", "-", ",", "—"])
    }

    @Test("English contractions keep their apostrophe")
    func englishContractionsKeepApostrophe() {
        let words = texts("I don't know, I'd rather stay home tonight. Can't be bothered, it's raining")
        #expect(words.contains("don't"))
        #expect(words.contains("i'd"))
        #expect(words.contains("can't"))
        #expect(words.contains("it's"))
    }

    @Test("The typographic apostrophe is normalized, the surface keeps it")
    func typographicApostropheIsNormalized() throws {
        let text = "I’m so tired, but Kate’s party was worth it"
        let contraction = try token("I’m", in: text)
        #expect(contraction.text == "i'm")
        #expect(try token("Kate’s", in: text).text == "kate's")
    }

    @Test("Words are lower-cased and «ё» becomes «е», with the surface kept")
    func yoIsFoldedAndSurfaceKept() throws {
        let text = "Всё ещё не верю, что Ёлку уже убрали"
        #expect(texts(text).prefix(3) == ["все", "еще", "не"])
        let tree = try token("Ёлку", in: text)
        #expect(tree.text == "елку")
        #expect(tree.script == .cyrillic)
    }

    @Test("Stress marks and soft hyphens do not split or change a word")
    func invisibleMarksAreDropped() {
        #expect(texts("Старый за\u{301}мок, ку\u{AD}пила билет") == ["старый", "замок", ",", "купила", "билет"])
    }

    @Test("Letters and digits together are one word")
    func lettersWithDigitsAreOneWord() {
        #expect(texts("Хочу iPhone15 и mp3-плеер") == ["хочу", "iphone15", "и", "mp3-плеер"])
    }

    // MARK: Scripts

    @Test("A Latin letter inside a Russian word is marked mixed and folded for matching")
    func mixedScriptWordsAreMarkedMixed() throws {
        let typo = try token("cпасибо", in: "Всем большое cпасибо за поддержку!")
        #expect(typo.script == .mixed)
        #expect(typo.dominantScript == .cyrillic)
        #expect(typo.text == "спасибо")
    }

    @Test("A Cyrillic letter inside an English word is folded to Latin")
    func cyrillicLetterInEnglishWordIsFolded() throws {
        let typo = try token("cоffee", in: "Best cоffee in town")  // Cyrillic «о»
        #expect(typo.script == .mixed)
        #expect(typo.dominantScript == .latin)
        #expect(typo.text == "coffee")
    }

    @Test("A Latin word with a Russian case ending is a loanword, left as typed")
    func inflectedLoanwordIsNotFolded() throws {
        let word = try token("Zoomе", in: "Созвонились в Zoomе с командой")
        #expect(word.script == .mixed)
        #expect(word.text == "zoomе")
    }

    @Test("A lone Latin look-alike between Russian words reads as the Cyrillic letter")
    func loneLatinLookalikeReadsCyrillic() throws {
        let text = "Ходили c мамой в парк, y неё наконец выходной"
        let with = try token("c", in: text)
        #expect(with.text == "с")
        #expect(with.script == .latin)
        #expect(with.dominantScript == .cyrillic)
        #expect(try token("y", in: text).text == "у")
    }

    @Test("The English article between English words is left alone")
    func englishArticleIsNotFolded() throws {
        let article = try token("a", in: "Купила a new phone today")
        #expect(article.text == "a")
        #expect(article.dominantScript == .latin)
    }

    @Test("Scripts are reported per token")
    func scriptsArePerToken() {
        let tokens = tokenizer.tokens("Купила Netflix за 5 $ 🎬")
        #expect(tokens.map(\.script) == [.cyrillic, .latin, .cyrillic, .none, .none, .none])
        #expect(tokens.map(\.kind) == [.word, .word, .word, .number, .symbol, .emoji])
    }

    // MARK: Numbers

    @Test("Prices with spaces as thousands separators are one number")
    func pricesWithSpacesAreOneNumber() throws {
        let price = try token("5 000", in: "Продаю диван за 5 000 руб, почти новый, забирать самим")
        #expect(price.kind == .number)
        #expect(price.text == "5000")
        #expect(price.value == 5000)
        let millions = try token("1\u{A0}200\u{A0}000", in: "Машину оценили в 1\u{A0}200\u{A0}000 ₽, мало")
        #expect(millions.value == 1_200_000)
    }

    @Test("Prices with dots as thousands separators are one number")
    func pricesWithDotsAreOneNumber() throws {
        let price = try token("15.000", in: "Отдала за ремонт телефона 15.000, это грабёж")
        #expect(price.value == 15000)
        #expect(price.text == "15000")
    }

    @Test("Decimals with a comma are one number")
    func decimalCommaIsOneNumber() throws {
        let distance = try token("2,5", in: "Пробежала сегодня 2,5 км, ноги гудят")
        #expect(distance.value == 2.5)
        #expect(distance.text == "2.5")
    }

    @Test("English thousands commas and decimal points are read as such")
    func englishNumberFormats() throws {
        let text = "Spent $1,200 on flights and 3.5 hours in the queue"
        #expect(try token("1,200", in: text).value == 1200)
        #expect(try token("3.5", in: text).value == 3.5)
        #expect(try token("$", in: text).kind == .symbol)
    }

    @Test("Currency signs are symbols next to their number")
    func currencySignsAreSymbols() {
        let tokens = tokenizer.tokens("Кофе стоил 300₽, в Берлине было бы €4, а в Нью-Йорке $7")
        let symbols = tokens.filter { $0.kind == .symbol }.map(\.text)
        #expect(symbols == ["₽", "€", "$"])
        #expect(tokens.filter { $0.kind == .number }.compactMap(\.value) == [300, 4, 7])
    }

    @Test("Dates and times are one number each, without a value")
    func datesAndTimesAreOneNumber() throws {
        let text = "Запись к врачу 12.05.2024 в 18:30, не забыть!"
        let date = try token("12.05.2024", in: text)
        #expect(date.kind == .number)
        #expect(date.value == nil)
        #expect(try token("18:30", in: text).value == nil)
    }

    @Test("Russian numeral endings stay with their number")
    func numeralEndingsStayWithNumber() throws {
        let flat = try token("2-х", in: "Ищу 2-х комнатную квартиру недалеко от метро")
        #expect(flat.kind == .number)
        #expect(flat.value == 2)
    }

    @Test("A number glued to a word is split: «5к», \"10km\"")
    func numberGluedToWordIsSplit() {
        #expect(texts("Зарплата 50к, пробежала 10km") == ["зарплата", "50", "к", ",", "пробежала", "10", "km"])
    }

    @Test("A list of small numbers is not read as thousands")
    func enumerationsStaySeparate() {
        let numbers = tokenizer.tokens("Оценки за неделю: 5, 4, 5 и 3").filter { $0.kind == .number }
        #expect(numbers.compactMap(\.value) == [5, 4, 5, 3])
    }

    // MARK: Sentences

    @Test("Sentences end at . ! ? and …")
    func sentencesEndAtTerminalPunctuation() throws {
        let tokens = tokenizer.tokens(
            "Сегодня опять проспала, начальник злой. Зато вечером сходили с Катей в кино! Понравилось? Очень… Завтра снова работа"
        )
        #expect(try token("Зато", in: tokens).sentence == 1)
        #expect(try token("Понравилось", in: tokens).sentence == 2)
        #expect(try token("Очень", in: tokens).sentence == 3)
        #expect(try token("Завтра", in: tokens).sentence == 4)
    }

    @Test("Runs like ?! and ... are one punctuation token")
    func terminalRunsAreOneToken() {
        let marks = tokenizer.tokens("Why me?! Seriously... I give up!!!").filter { $0.kind == .punctuation }
        #expect(marks.map(\.text) == ["?!", "...", "!!!"])
    }

    @Test("Line breaks end sentences")
    func lineBreaksEndSentences() {
        let tokens = tokenizer.tokens("купила молоко\nзабыла хлеб\r\n\r\nвечером позвонила маме")
        #expect(Set(tokens.map(\.sentence)) == [0, 1, 2])
        #expect(tokens.first { $0.text == "забыла" }?.sentence == 1)
    }

    @Test("Abbreviations do not end sentences")
    func abbreviationsDoNotEndSentences() {
        let russian = tokenizer.tokens("Не пошла на тренировку, т.к. устала, т.е. просто легла спать пораньше.")
        #expect(Set(russian.map(\.sentence)) == [0])
        #expect(russian.contains { $0.text == "т.к." })
        let english = tokenizer.tokens(
            "Met Mr. Brown at the cafe, e.g. the guy from accounting. Dr. Lee was there too.")
        #expect(english.first { $0.text == "e.g." }?.sentence == 0)
        #expect(english.first { $0.text == "dr." }?.sentence == 1)
        #expect(english.first { $0.text == "lee" }?.sentence == 1)
    }

    @Test("«т. е.» with a space is one abbreviation")
    func spacedAbbreviationsAreOneToken() throws {
        let text = "Отпуск перенесли, т. е. летом никуда не едем"
        let abbreviation = try token("т. е.", in: text)
        #expect(abbreviation.text == "т.е.")
        #expect(Set(tokenizer.tokens(text).map(\.sentence)) == [0])
    }

    @Test("«и т.д.» before a capitalised word ends the sentence")
    func listAbbreviationCanEndSentence() throws {
        let tokens = tokenizer.tokens("Купила овощи, фрукты, сыр и т.д. Потом поехала к маме")
        #expect(try token("т.д.", in: tokens).sentence == 0)
        #expect(try token("Потом", in: tokens).sentence == 1)
    }

    @Test("«г.» is a year after a number and a city before a name")
    func yearAndCityAbbreviation() throws {
        let tokens = tokenizer.tokens("Живу в г. Казань с 2019 г. Мы переехали из-за работы мужа")
        #expect(try token("Казань", in: tokens).sentence == 0)
        #expect(try token("Мы", in: tokens).sentence == 1)
    }

    @Test("An ellipsis before a lower-case word does not end the sentence")
    func ellipsisBeforeLowercaseContinues() throws {
        let tokens = tokenizer.tokens("Ну... не знаю, может, зря я так с ним")
        #expect(Set(tokens.map(\.sentence)) == [0])
    }

    @Test("Closing quotes, brackets and emoji stay with the sentence they close")
    func closersStayWithTheirSentence() throws {
        let tokens = tokenizer.tokens("Она сказала: «Всё будет хорошо!» 😊 Я поверила. (Наверное.) Посмотрим")
        #expect(try token("»", in: tokens).sentence == 0)
        #expect(try token("😊", in: tokens).sentence == 0)
        #expect(try token("Я", in: tokens).sentence == 1)
        #expect(try token(")", in: tokens).sentence == 2)
        #expect(try token("Посмотрим", in: tokens).sentence == 3)
    }

    @Test("A lower-case start after a full stop is still a new sentence, as in chats")
    func lowercaseAfterFullStopIsNewSentence() throws {
        let tokens = tokenizer.tokens("устала как собака. завтра выходной, буду спать до обеда")
        #expect(try token("завтра", in: tokens).sentence == 1)
    }

    @Test("Numbered lists are list markers, not sentence ends or smiles")
    func listMarkersAreNotSmiles() {
        let tokens = tokenizer.tokens("1. купить подарок Лёше\n2) записаться к стоматологу")
        #expect(!tokens.contains { $0.kind == .emoji })
        #expect(tokens.first { $0.text == "купить" }?.sentence == 0)
        #expect(tokens.first { $0.text == "записаться" }?.sentence == 1)
    }

    // MARK: Emoji, emoticons, links

    @Test("Emoji are single tokens; skin tones and variation selectors are dropped from text")
    func emojiWithModifiersMatchPlainEmoji() {
        let tokens = tokenizer.tokens("Сдала экзамен 👍🏽❤️ 👨‍👩‍👧 🇷🇺")
        let emoji = tokens.filter { $0.kind == .emoji }
        #expect(emoji.map(\.surface) == ["👍🏽", "❤️", "👨‍👩‍👧", "🇷🇺"])
        #expect(emoji.map(\.text) == ["👍", "❤", "👨‍👩‍👧", "🇷🇺"])
    }

    @Test("Text emoticons, Russian style included, are emoji")
    func textEmoticonsAreEmoji() {
        let tokens = tokenizer.tokens("Ура, отпуск))) Жаль только, что короткий(( Ну ладно :) Было смешно :D")
        #expect(tokens.filter { $0.kind == .emoji }.map(\.text) == [":)", ":(", ":)", ":d"])
        #expect(!tokens.contains { $0.kind == .punctuation && $0.text == ")" })
    }

    @Test("Brackets that enclose something stay punctuation")
    func enclosingBracketsArePunctuation() {
        let tokens = tokenizer.tokens("Отдам велосипед (детский, почти новый) бесплатно")
        #expect(tokens.filter { $0.kind == .punctuation }.map(\.text) == ["(", ",", ")"])
    }

    @Test("Links, e-mails and mentions stay whole and do not end sentences")
    func linksStayWhole() {
        let tokens = tokenizer.tokens(
            "Нашла диван на avito.ru/sofa?id=5, пишите на katya@mail.ru или @katya_99. Подробнее https://t.me/kindred.")
        let links = tokens.filter { $0.kind == .link }.map(\.text)
        #expect(links == ["avito.ru/sofa?id=5", "katya@mail.ru", "@katya_99", "https://t.me/kindred"])
        #expect(tokens.first { $0.text == "подробнее" }?.sentence == 1)
        #expect(tokens.last?.text == ".")
    }

    @Test("A missing space after a full stop still splits the sentence")
    func missingSpaceAfterFullStopSplits() throws {
        let tokens = tokenizer.tokens("Весь день работала.Вечером гуляли с собакой")
        #expect(try token("Вечером", in: tokens).sentence == 1)
    }

    // MARK: Offsets and robustness

    @Test("UTF-16 ranges point at each token's surface in the original text")
    func utf16RangesPointIntoOriginal() {
        let text = "Привет 👋🏻! Купила «Ёлку» за 1 500 ₽, т.е. дёшево\nI’m happy 🇷🇺 cпасибо"
        let original = text as NSString
        for token in tokenizer.tokens(text) {
            let range = NSRange(location: token.utf16Range.lowerBound, length: token.utf16Range.count)
            #expect(original.substring(with: range) == token.surface)
        }
    }

    @Test("Empty, blank and emoji-only texts give the expected tokens")
    func emptyAndBlankTexts() {
        #expect(tokenizer.tokens("").isEmpty)
        #expect(tokenizer.tokens("  \n\t \u{200B} ").isEmpty)
        let emoji = tokenizer.tokens("😭😭😭")
        #expect(emoji.count == 3)
        #expect(emoji.allSatisfy { $0.kind == .emoji && $0.sentence == 0 })
    }

    @Test("Binary garbage and control characters never crash and keep ranges ordered")
    func garbageDoesNotCrash() {
        var generator = SplitMix(seed: 2024)
        for _ in 0..<200 {
            let bytes = (0..<Int(generator.next() % 400)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let text = String(decoding: bytes, as: UTF8.self)
            let tokens = tokenizer.tokens(text)
            var previousEnd = 0
            var previousSentence = 0
            for token in tokens {
                #expect(token.utf16Range.lowerBound >= previousEnd)
                #expect(token.sentence >= previousSentence)
                #expect(!token.surface.isEmpty)
                previousEnd = token.utf16Range.upperBound
                previousSentence = token.sentence
            }
            #expect(previousEnd <= text.utf16.count)
        }
    }

    @Test("A 10,000-word diary is tokenized whole")
    func longDiaryIsTokenizedWhole() {
        let sentence = "Сегодня был длинный день, но я справилась. "
        let text = String(repeating: sentence, count: 1_250)
        let tokens = tokenizer.tokens(text)
        #expect(tokens.count == 1_250 * 9)
        #expect(tokens.last?.sentence == 1_249)
    }

    private func token(_ surface: String, in tokens: [Token]) throws -> Token {
        try #require(tokens.first { $0.surface == surface }, "no token «\(surface)»")
    }
}

/// A small deterministic generator (SplitMix64, Steele et al. 2014), so the garbage test
/// feeds the same bytes on every run.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
