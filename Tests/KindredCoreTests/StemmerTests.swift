import Foundation
import KindredCore
import Testing

/// The expected stems in `Resources/` were produced by the reference Snowball implementation
/// (PyPI `snowballstemmer` 3.1.1); these tests hold the Swift stemmers to it word for word.
@Suite("Snowball stemmers")
struct StemmerTests {
    @Test("Russian stems match the Snowball reference for every listed word")
    func russianMatchesReference() throws {
        try expectReferenceStems(in: "stemmer-ru.tsv", stem: RussianStemmer().stem)
    }

    @Test("English (Porter2) stems match the Snowball reference for every listed word")
    func englishMatchesReference() throws {
        try expectReferenceStems(in: "stemmer-en.tsv", stem: EnglishStemmer().stem)
    }

    @Test("«чайник», «чайника», «чайником» share one stem")
    func kettleFormsShareOneStem() {
        let stemmer = RussianStemmer()
        let stems = Set(["чайник", "чайника", "чайником", "чайнику", "чайниками"].map(stemmer.stem))
        #expect(stems == ["чайник"])
    }

    @Test("«ё» is treated as «е»")
    func yoIsTreatedAsYe() {
        let stemmer = RussianStemmer()
        #expect(stemmer.stem("ёлка") == stemmer.stem("елка"))
        #expect(stemmer.stem("зелёный") == "зелен")
        #expect(stemmer.stem("всё") == "все", "ё is folded even when no ending is removed")
        #expect(stemmer.stem("ёж") == "еж")
    }

    @Test("English exceptional forms are stemmed by table, not by rule")
    func englishExceptionalForms() {
        let stemmer = EnglishStemmer()
        let expected: KeyValuePairs<String, String> = [
            "skis": "ski", "skies": "sky", "sky": "sky", "news": "news", "dying": "die",
            "lying": "lie", "tying": "tie", "idly": "idl", "gently": "gentl", "ugly": "ugli",
            "early": "earli", "only": "onli", "singly": "singl", "atlas": "atlas",
            "cosmos": "cosmos", "bias": "bias", "andes": "andes", "howe": "howe",
            "inning": "inning", "outing": "outing", "canning": "canning", "herring": "herring",
            "earring": "earring", "proceed": "proceed", "exceed": "exceed", "succeed": "succeed",
            "generous": "generous", "general": "general",
        ]
        for (word, stem) in expected {
            #expect(stemmer.stem(word) == stem, "\(word)")
        }
    }

    @Test("empty, short and foreign-script words come back unchanged")
    func unstemmableInputIsReturnedAsIs() {
        #expect(RussianStemmer().stem("") == "")
        #expect(EnglishStemmer().stem("") == "")
        #expect(RussianStemmer().stem("wi-fi") == "wi-fi")
        #expect(EnglishStemmer().stem("кот") == "кот")
        #expect(EnglishStemmer().stem("by") == "by")
    }

    /// Checks every `word<TAB>stem` line of a resource file and reports each mismatch.
    private func expectReferenceStems(in fileName: String, stem: (String) -> String) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Resources/\(fileName)")
        let text = try String(contentsOf: url, encoding: .utf8)
        var checked = 0
        var mismatches: [String] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 2 else {
                Issue.record("\(fileName): malformed line «\(line)»")
                continue
            }
            let (word, expected) = (String(fields[0]), String(fields[1]))
            let actual = stem(word)
            if actual != expected {
                mismatches.append("\(word): expected \(expected), got \(actual)")
            }
            checked += 1
        }
        #expect(checked >= 1_000, "\(fileName) should list at least 1,000 words, found \(checked)")
        #expect(
            mismatches.isEmpty,
            "\(mismatches.count) of \(checked) words differ:\n\(mismatches.prefix(50).joined(separator: "\n"))")
    }
}
