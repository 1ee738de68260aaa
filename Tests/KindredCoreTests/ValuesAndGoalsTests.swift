import Foundation
import KindredCore
import Testing

@Suite("Values and life goals from diaries")
struct ValuesAndGoalsTests {
    let values: ValueReader
    let goals: GoalReader
    let stemming = Stemming()

    init() throws {
        values = try ValueReader.bundled(cues: try Cues.bundled())
        goals = try GoalReader.bundled()
    }

    @Test("Schwartz's ten values are all there, and a diary about a promotion reads as achievement")
    func achievement() {
        #expect(values.valueIDs.count == 10)
        let reading = values.read(stemming.stemmed("Наконец-то повышение! Я добилась своего, это мой успех"))
        let top = reading.values.max { $0.value < $1.value }?.key
        #expect(top == "achievement", "\(reading)")
        #expect(reading.evidence >= 2)
        let helping = values.read(stemming.stemmed("Spent the weekend volunteering, helping people in need"))
        #expect(helping.values["benevolence"] ?? 0 > helping.values["power"] ?? 0)
        #expect(values.read(stemming.stemmed("Купила хлеб")).evidence == 0)
    }

    @Test("a clear statement about children is read with its stance, negation included")
    func children() {
        #expect(
            goals.read(stemming.stemmed("Очень хочу детей, двоих")).first { $0.goal == "children" }?.stance == "wants")
        #expect(
            goals.read(stemming.stemmed("Я не хочу детей, честно")).first { $0.goal == "children" }?.stance
                == "does_not_want")
        #expect(
            goals.read(stemming.stemmed("I really want kids someday")).first { $0.goal == "children" }?.stance
                == "wants")
        #expect(goals.read(stemming.stemmed("Сходила в кино")).isEmpty)
    }
}
