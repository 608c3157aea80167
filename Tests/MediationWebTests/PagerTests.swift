import Foundation
import Hummingbird
import Testing

@testable import MediationWeb

/// Long lists are shown a hundred rows at a time, with links that keep the rest of the query.
@Suite struct PagerTests {
    func request(_ uri: String) -> Request {
        Request(
            head: .init(method: .get, scheme: "http", authority: "localhost", path: uri), body: .init(buffer: .init()))
    }

    @Test func aLongListIsShownAPageAtATimeKeepingTheQuery() {
        let items = Array(1...250)
        let first = Pages.page(items, request("/experts?role=lawyer"))
        #expect(first.items == Array(1...100))
        #expect(first.nav["pages"] as? Int == 3 && first.nav["previous"] == nil)
        #expect(first.nav["next"] as? String == "/experts?role=lawyer&page=2")
        let last = Pages.page(items, request("/experts?role=lawyer&page=3"))
        #expect(last.items == Array(201...250) && last.nav["next"] == nil)
        #expect(last.nav["previous"] as? String == "/experts?role=lawyer&page=2")
        // A page beyond the end, or no number at all, is the nearest page there is.
        #expect(Pages.page(items, request("/experts?page=9")).items == Array(201...250))
        #expect(Pages.page(items, request("/experts?page=abc")).items == Array(1...100))
        #expect(Pages.page([Int](), request("/experts")).nav["many"] as? Bool == false)
    }
}
