import Foundation
import Testing

@testable import KindredCore

@Suite("Thinking, conflict, places and the function-word profile")
struct ThinkingConflictPlacesTests {
    static let analyzer = try! DiaryAnalyzer()

    @Test("temporal focus, explanatory style and certainty lean the way the words do")
    func thinking() {
        let future = Self.analyzer.analyze("Завтра начну бегать, в следующем году планирую переезд. Всё получится, точно знаю!")
        let past = Self.analyzer.analyze("Вчера вспоминала, как раньше жили у бабушки. Помню, в детстве всё было проще.")
        #expect((future.thinking?.future ?? 0) > (future.thinking?.past ?? 1))
        #expect((past.thinking?.past ?? 0) > (past.thinking?.future ?? 1))
        #expect((future.thinking?.optimism ?? 0) > 0)
        let gloomy = Self.analyzer.analyze("Как всегда не везёт, ничего у меня не получается. Наверное, так и будет.")
        #expect((gloomy.thinking?.optimism ?? 0) < 0)
        #expect(Self.analyzer.analyze("").thinking?.evidence == 0)
    }

    @Test("conflict: modes, the four horsemen and repairs")
    func conflict() {
        let rough = Self.analyzer.analyze("Он опять наорал. Ты всегда всё портишь, сказала я. Потом перестала отвечать на его сообщения.")
        #expect((rough.conflict?.horsemen["criticism"] ?? 0) >= 1)
        #expect((rough.conflict?.horsemen["stonewalling"] ?? 0) >= 1)
        let calm = Self.analyzer.analyze("We talked it through calmly and found a compromise. I apologised for snapping.")
        #expect((calm.conflict?.evidence ?? 0) >= 2)
        #expect(calm.conflict?.horsemen.isEmpty == true)
    }

    @Test("places: cities in any case, districts, and ordinary words only next to their city")
    func places() {
        let ids = { (text: String) in Self.analyzer.analyze(text).places?.map(\.id) ?? [] }
        #expect(ids("Живу в Питере, на Васильевском острове").contains("saint_petersburg"))
        #expect(ids("Переехали из Казани в Новосибирск").contains("kazan"))
        #expect(ids("Переехали из Казани в Новосибирск").contains("novosibirsk"))
        #expect(ids("Сегодня гуляла по центру, красота").isEmpty, "«центр» alone names no city")
        let moscow = Self.analyzer.analyze("Работаю в Москве, в центре").places ?? []
        #expect(moscow.contains { $0.id == "moscow" && abs($0.lat - 55.75) < 0.1 })
        #expect(moscow.contains { $0.kind == "district" && $0.city == "moscow" })
    }

    @Test("function-word profile and Language Style Matching: identical styles match fully, different ones less")
    func languageStyleMatching() {
        let a = Self.analyzer.analyze("I think that we should go, but I am not sure if it is a good idea at all.")
        let b = Self.analyzer.analyze("I think that we could stay, but I am not sure if it is the right thing at all.")
        let c = Self.analyzer.analyze("Concert. Rain. Tickets. Great band. Home late.")
        let pa = a.style.functionWords ?? [:]
        #expect((pa["personalPronouns"] ?? 0) > 0 && (pa["articles"] ?? 0) > 0 && (pa["negations"] ?? 0) > 0)
        #expect(FunctionWordProfile.matching(pa, pa) ?? 0 > 0.99)
        let near = FunctionWordProfile.matching(pa, b.style.functionWords ?? [:]) ?? 0
        let far = FunctionWordProfile.matching(pa, c.style.functionWords ?? [:]) ?? 0
        #expect(near > far)
        #expect(FunctionWordProfile.matching([:], [:]) == nil)
    }
}
