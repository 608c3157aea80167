import Testing

@testable import MediationServer

/// The look at a JSON body that runs before any decoder.
struct JSONShapeTests {
    @Test func wellFormedBodiesPass() {
        for body in [#"{"id": "jinshan", "name": "金山警务室"}"#, "[]", #"{"a": [[{"b": [1, 2]}]]}"#, "", "  "] {
            #expect(JSONShape.problem(Array(body.utf8), maxDepth: 32) == nil, "\(body)")
        }
    }

    @Test func nestingIsCountedOutsideStringsOnly() {
        #expect(JSONShape.problem(Array("[[[]]]".utf8), maxDepth: 3) == nil)
        #expect(JSONShape.problem(Array("[[[[]]]]".utf8), maxDepth: 3)?.contains("more than 3 levels") == true)
        #expect(JSONShape.problem(Array(#"["[[[[[[", "\"[[[[["]"#.utf8), maxDepth: 2) == nil)
        #expect(JSONShape.problem(Array(#"{"a": {"b": {}}}"#.utf8), maxDepth: 2)?.contains("nest") == true)
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(JSONShape.problem(Array(deep.utf8), maxDepth: 32)?.contains("more than 32 levels") == true)
    }

    @Test func invalidUTF8IsPlacedByItsOffset() {
        #expect(JSONShape.invalidUTF8Offset(Array("名字".utf8)) == nil)
        #expect(JSONShape.invalidUTF8Offset(Array("名".utf8) + [0xFF]) == 3)
        #expect(JSONShape.invalidUTF8Offset([0x41, 0xC3, 0x28]) == 1)
        #expect(
            JSONShape.problem([0x22, 0xED, 0xA0, 0x80, 0x22], maxDepth: 32)
                == "byte 1 is not UTF-8; send the text encoded as UTF-8")
    }
}
