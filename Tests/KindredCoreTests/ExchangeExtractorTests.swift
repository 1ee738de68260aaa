import Foundation
import KindredCore
import Testing

@Suite("Needs, offers and skills from diaries")
struct ExchangeExtractorTests {
    let extractor: ExchangeExtractor

    init() throws {
        extractor = try ExchangeExtractor.bundled()
    }

    func intents(_ text: String) -> [String] {
        extractor.intents(in: text).map { "\($0.stance.rawValue):\($0.concept)" }
    }

    @Test("needs are found in any grammatical form, Russian and English")
    func needs() {
        #expect(intents("Сегодня поняла, что мне нужен чайник, старый сгорел.") == ["need:kettle"])
        #expect(intents("Ищу велосипед для дочки") == ["need:bicycle"])
        #expect(intents("I really need a kettle") == ["need:kettle"])
    }

    @Test("asking who needs a thing is offering it; «больше не нужен» alone is not")
    func questionsThatOffer() {
        #expect(intents("Кому-нибудь нужны гантели?") == ["offer:weights"])
        #expect(intents("Никому не нужен аквариум?") == ["offer:aquarium"])
        #expect(intents("Does anybody need a TV?") == ["offer:tv"])
        #expect(intents("Мне больше не нужен чайник, соседка подарила свой.") == [])
    }

    @Test("offers: giving away, selling with a price, for free")
    func offers() throws {
        #expect(intents("Отдам велосипед, почти новый") == ["offer:bicycle"])
        let sofa = try #require(extractor.intents(in: "Продаю диван за 5000, в хорошем состоянии").first)
        #expect(sofa.stance == .offer)
        #expect(sofa.concept == "sofa")
        #expect(sofa.kind == "item")
        #expect(sofa.price == 5000)
        #expect(sofa.condition == "used")
        let thousands = try #require(extractor.intents(in: "Продам диван за 5к").first)
        #expect(thousands.price == 5000)
        let free = try #require(extractor.intents(in: "Отдам даром детскую коляску").first)
        #expect(free.free)
        #expect(intents("Selling my old bike for $50") == ["offer:bicycle"])
        #expect(extractor.intents(in: "Selling my old bike for $50").first?.currency == "USD")
    }

    @Test("jobs: seeking work is a need, hiring is an offer of a job")
    func jobs() {
        #expect(intents("Ищу подработку на выходные").contains("need:part_time_job"))
        #expect(intents("Looking for a side gig").contains("need:part_time_job"))
    }

    @Test("skills: «умею чинить краны» is something the person can do")
    func skills() {
        #expect(intents("Умею чинить краны, могу помочь соседям") == ["skill:plumbing"])
    }

    @Test("negated, past and resolved mentions are not intents")
    func notIntents() {
        #expect(intents("Мне больше не нужен чайник") == [])
        #expect(intents("I don't need a kettle anymore") == [])
        #expect(intents("Чайник был нужен, но уже купила") == [])
        #expect(intents("Пили чай из нового чайника") == [], "a mention without a cue is not a need")
    }

    @Test("each sentence is read on its own")
    func sentences() {
        let found = intents("Нужен чайник. Отдам велосипед!")
        #expect(found.contains("need:kettle"))
        #expect(found.contains("offer:bicycle"))
        #expect(!found.contains("offer:kettle"))
    }
}
