import Foundation
import KindredCore
import Testing

@Suite("Lexicon matching on stems")
struct PhraseMatcherTests {
    let stemming = Stemming()

    @Test("every form of a word matches its lexicon entry")
    func kettleInAnyCase() {
        let matcher = PhraseMatcher([("чайник", "kettle"), ("kettle", "kettle")])
        for text in [
            "Мне нужен чайник.", "Нет чайника, беда", "Вскипятила воду чайником", "I need a kettle", "two kettles",
        ] {
            let found = matcher.matches(in: stemming.stemmed(text)).map(\.payload)
            #expect(found == ["kettle"], "\(text)")
        }
    }

    @Test("the longest phrase wins, and phrases do not cross sentences")
    func longestAndWithinSentence() {
        let matcher = PhraseMatcher([("кран", "tap"), ("починить кран", "plumbing"), ("fix the tap", "plumbing")])
        #expect(matcher.matches(in: stemming.stemmed("Могу починить кран соседям")).map(\.payload) == ["plumbing"])
        #expect(matcher.matches(in: stemming.stemmed("Течёт кран.")).map(\.payload) == ["tap"])
        #expect(matcher.matches(in: stemming.stemmed("Надо починить. Кран течёт")).map(\.payload) == ["tap"])
        #expect(matcher.matches(in: stemming.stemmed("I can fix the taps")).map(\.payload) == ["plumbing"])
    }

    @Test("negation right before a phrase is seen; a comma ends its reach")
    func negation() {
        let scope = NegationScope(cues: ["не", "нет", "больше не", "not", "no longer", "never"])
        let matcher = PhraseMatcher([("нужен", "need"), ("need", "need")])
        func negated(_ text: String) -> Bool {
            let tokens = stemming.stemmed(text)
            let cues = scope.cueIndices(in: tokens)
            guard let match = matcher.matches(in: tokens).first else { return false }
            return scope.isNegated(match.tokens, in: tokens, cueIndices: cues)
        }
        #expect(negated("Мне больше не нужен чайник"))
        #expect(negated("I don't need a kettle"))
        #expect(negated("I no longer need it"))
        #expect(!negated("Мне нужен чайник"))
        #expect(!negated("Не знаю, нужен ли чайник"))
        #expect(!negated("I need a kettle, not a pot"))
    }

    @Test("the bundled exchange taxonomy finds what diaries talk about")
    func exchangeTaxonomy() throws {
        let exchange = try ConceptLexicon.bundled("exchange")
        #expect(exchange.concepts.count >= 200)
        func ids(_ text: String) -> [String] { exchange.mentions(in: stemming.stemmed(text)).map(\.payload) }
        #expect(ids("Заметила, что мне нужен чайник — старый сгорел").contains("kettle"))
        #expect(ids("Умею чинить краны, могу помочь соседям").contains("plumbing"))
        #expect(ids("Отдам велик, почти новый").contains("bicycle"))
        #expect(ids("Продаю диван за 5000").contains("sofa"))
        #expect(ids("Ищу подработку на выходные").contains("part_time_job"))
        #expect(ids("Looking for a side gig, and my faucet is leaking").contains("part_time_job"))
        for concept in exchange.concepts {
            #expect(!concept.en.isEmpty && !concept.ru.isEmpty, "\(concept.id) speaks both languages")
            if concept.id.hasPrefix("_") {
                // Absorbers: phrases that only look like things («вешалка для одежды», "monitor stand").
                #expect(concept.kind == nil, "\(concept.id)")
            } else {
                #expect(["item", "service", "skill", "job"].contains(concept.kind ?? ""), "\(concept.id)")
            }
        }
        #expect(ids("Продаю подставку: monitor stand, почти новая").contains("_not_an_item"))
        #expect(!ids("Продаю подставку: monitor stand, почти новая").contains("monitor"))
    }

    @Test("the bundled interest taxonomy has at least 100 interests in both languages")
    func interestTaxonomy() throws {
        let interests = try ConceptLexicon.bundled("interests")
        #expect(interests.concepts.count >= 100)
        #expect(Set(interests.concepts.map(\.id)).count == interests.concepts.count, "ids are unique")
        let found = interests.mentions(
            in: stemming.stemmed("В выходные ходили в поход, а вечером играли в настольные игры"))
        #expect(found.map(\.payload).contains("hiking"))
        #expect(found.map(\.payload).contains("board_games"))
    }
}

@Suite("Exact-form lexicon entries")
struct ExactFormTests {
    @Test("a phrase written with = matches only that word form, even in a stem matcher")
    func exactForms() {
        let stemming = Stemming()
        let matcher = PhraseMatcher([("=рада", "glad"), ("чайник", "kettle")])
        #expect(matcher.matches(in: stemming.stemmed("Я рада")).map(\.payload) == ["glad"])
        #expect(matcher.matches(in: stemming.stemmed("Я рад")).isEmpty, "another form of the word")
        #expect(matcher.matches(in: stemming.stemmed("Купила чайники")).map(\.payload) == ["kettle"])
    }
}
