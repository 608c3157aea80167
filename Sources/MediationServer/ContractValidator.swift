import Foundation
import MediationAPI
import MediationCore
import Yams

/// What openapi.yaml says each operation accepts, enforced: the lengths, characters, ranges and values the document
/// states for path and query parameters and JSON bodies are checked here, for every request, before the generated
/// decoder sees it. So the document is the one statement of those limits: a request it allows is never refused as
/// malformed (a rule it cannot state, such as a range that ends before it starts, answers 422), and a request it
/// refuses is answered 400, naming the parameter or field.
///
/// Text that Core reads as people write it (times, roles, risk levels, sides …; `x-core-reads: true` in the
/// document) has a `pattern` there that says what Core accepts; Core's reading is the rule and says best what is
/// wrong ("'12/9' could be 12 September or 9 December …"). So a request whose only problems are such text is handed
/// on, and Core refuses it in its own words; `check` returns those problems, and the caller logs a drift between
/// the document and Core should such a request ever be accepted.
///
/// The schema keywords read are the ones the document uses: `type`, `enum`, `pattern` (anchored with `^…$`),
/// `minLength`/`maxLength` (in Unicode scalars, as JSON Schema counts), `minimum`/`maximum`, `minItems`/`maxItems`,
/// `items`, `properties`, `required`, `additionalProperties` and `$ref`. A keyword the validator does not know is a
/// fault in the document, found when the daemon starts.
///
/// For example:
/// ```swift
/// let contract = try ContractValidator(document: openAPIDocument)
/// try contract.check("listOutbox", path: [:], query: "limit=0", body: nil)
/// // invalidInput: query parameter 'limit' is 0; it must be at least 1
/// ```
struct ContractValidator: Sendable {
    /// One parameter of an operation.
    struct Parameter: Sendable {
        var name: String
        var required: Bool
        var schema: Schema
    }

    /// What one operation accepts.
    struct Operation: Sendable {
        var path: [Parameter] = []
        var query: [Parameter] = []
        /// The schema of a JSON body, when the operation takes one.
        var json: Schema?
    }

    /// A schema, resolved: `$ref`s replaced by what they name.
    indirect enum Schema: Sendable {
        case string(Text)
        case integer(minimum: Int64?, maximum: Int64?)
        case number(minimum: Double?, maximum: Double?)
        case boolean
        case array(items: Schema?, minItems: Int?, maxItems: Int?)
        case object(properties: [String: Schema], required: [String], additional: Additional, minProperties: Int?)
        case any
    }

    /// What a string may be, and the document's words for it.
    struct Text: Sendable {
        var enumeration: [String]?
        var pattern: Pattern?
        var minLength: Int?
        var maxLength: Int?
        /// Said when the text does not match the pattern.
        var description: String?
        /// `x-core-reads: true`: Core reads this text as people write it (a time, a role, a risk level …), and
        /// refuses what its `pattern` or `minLength` does not allow in its own words.
        var readByCore = false
    }

    /// What an object allows beyond its named properties.
    enum Additional: Sendable {
        case allowed
        case refused
    }

    /// A `pattern`, compiled once.
    struct Pattern: @unchecked Sendable {
        let source: String
        let regex: NSRegularExpression

        init(_ source: String) throws {
            self.source = source
            regex = try NSRegularExpression(pattern: source)
        }

        /// ECMA-262's reading: `$` is the end of the text, never the place before a final line break.
        func matches(_ text: String) -> Bool {
            let whole = NSRange(text.startIndex..., in: text)
            guard let match = regex.firstMatch(in: text, range: whole) else { return false }
            return !source.hasSuffix("$") || match.range.upperBound == whole.upperBound
        }
    }

    let operations: [String: Operation]

    /// Reads the document.
    ///
    /// - Throws: when it is not YAML, or uses a schema keyword this validator does not enforce.
    init(document: String) throws {
        guard let root = try Yams.load(yaml: document) as? [String: Any],
            let paths = root["paths"] as? [String: Any]
        else { throw MediationError.unavailable("openapi.yaml has no paths") }
        let components = root["components"] as? [String: Any] ?? [:]
        let reader = Reader(components: components)
        var operations: [String: Operation] = [:]
        for (_, item) in paths {
            guard let item = item as? [String: Any] else { continue }
            let shared = item["parameters"] as? [Any] ?? []
            for method in ["get", "put", "post", "patch", "delete"] {
                guard let op = item[method] as? [String: Any], let id = op["operationId"] as? String else { continue }
                var operation = Operation()
                for raw in shared + (op["parameters"] as? [Any] ?? []) {
                    let parameter = try reader.resolve(raw)
                    guard let name = parameter["name"] as? String, let place = parameter["in"] as? String else {
                        continue
                    }
                    let schema = try reader.schema(parameter["schema"] ?? [:])
                    let p = Parameter(name: name, required: parameter["required"] as? Bool ?? false, schema: schema)
                    if place == "path" {
                        operation.path.append(p)
                    } else if place == "query" {
                        operation.query.append(p)
                    }
                }
                if let body = op["requestBody"] as? [String: Any], let content = body["content"] as? [String: Any],
                    let json = content["application/json"] as? [String: Any]
                {
                    operation.json = try reader.schema(json["schema"] ?? [:])
                }
                operations[id] = operation
            }
        }
        self.operations = operations
    }

    /// Checks one request against its operation.
    ///
    /// - Parameters:
    ///   - operation: the operationId.
    ///   - path: the path parameters as the router read them (percent-encoded).
    ///   - query: the query string, without the `?`.
    ///   - body: the body when it is JSON.
    /// - Throws: `invalidInput` naming every parameter and field outside the contract.
    @discardableResult
    func check(_ operation: String, path: [String: Substring], query: String?, body: [UInt8]?) throws -> [String] {
        guard let op = operations[operation] else { return [] }
        var problems: [Problem] = []
        for parameter in op.path {
            let raw = path[parameter.name].map(String.init) ?? ""
            let value = raw.removingPercentEncoding ?? raw
            problems += check(
                text: value, parameter.schema, "path parameter '\(parameter.name)'",
                "路径参数“\(Self.nameZh(parameter.name))”")
        }
        let fields = Self.queryFields(query)
        for parameter in op.query {
            guard let value = fields[parameter.name] else {
                if parameter.required {
                    problems.append(
                        .refused(
                            "the required parameter '\(parameter.name)' is missing from the query; add ?\(parameter.name)=…",
                            "查询中缺少必需的参数“\(parameter.name)”，请加上 ?\(parameter.name)=…"))
                }
                continue
            }
            problems += check(
                text: value, parameter.schema, "query parameter '\(parameter.name)'",
                "查询参数“\(Self.nameZh(parameter.name))”")
        }
        if let schema = op.json, let body, !body.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }),
            let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body))
        {
            // A body that is not JSON at all is left to the decoder, which says so.
            problems += check(value, schema, at: "")
        }
        guard problems.contains(where: { !$0.readByCore }) else { return problems.map(\.text) }
        let texts = problems.map(\.text)
        throw MediationError(
            .invalidInput,
            "the request does not match the contract: " + texts.joined(separator: "; ") + "; see GET /v1/openapi.yaml",
            details: texts, fields: problems.map { FieldProblem(field: "general", en: $0.text, zh: $0.zh) })
    }

    /// One way a request is outside the document.
    struct Problem: Sendable {
        var text: String
        /// The same, for a Chinese reader.
        var zh: String
        /// Text that Core reads and refuses in its own words (a `pattern` or `minLength` not met).
        var readByCore = false

        static func refused(_ text: String, _ zh: String) -> Problem { Problem(text: text, zh: zh) }
    }

    /// The query string's fields, percent-decoded ('+' is a space); the first of a repeated name counts.
    static func queryFields(_ query: String?) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in (query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let name = decode(parts[0])
            if fields[name] == nil { fields[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return fields
    }

    /// A parameter's text read as its schema's type, then checked.
    private func check(text: String, _ schema: Schema, _ what: String, _ whatZh: String) -> [Problem] {
        switch schema {
        case .integer:
            guard let number = Int64(text) else {
                return [
                    .refused(
                        "\(what) is '\(Self.shown(text))'; it must be a whole number",
                        "\(whatZh)是“\(Self.shown(text))”，应为整数")
                ]
            }
            return check(.integer(number), schema, what: what, whatZh)
        case .number:
            guard let number = Double(text), number.isFinite else {
                return [
                    .refused(
                        "\(what) is '\(Self.shown(text))'; it must be a number", "\(whatZh)是“\(Self.shown(text))”，应为数字")
                ]
            }
            return check(.double(number), schema, what: what, whatZh)
        case .boolean:
            guard text == "true" || text == "false" else {
                return [
                    .refused(
                        "\(what) is '\(Self.shown(text))'; it should be true or false",
                        "\(whatZh)是“\(Self.shown(text))”，应为 true 或 false")
                ]
            }
            return []
        default:
            return check(.string(text), schema, what: what, whatZh)
        }
    }

    private func check(_ value: JSONValue, _ schema: Schema, at path: String) -> [Problem] {
        check(
            value, schema, what: path.isEmpty ? "the body" : "field '\(path)'",
            path.isEmpty ? "请求内容" : "字段“\(Self.nameZh(path))”",
            path: path)
    }

    private func check(_ value: JSONValue, _ schema: Schema, what: String, _ whatZh: String, path: String = "")
        -> [Problem]
    {
        switch (schema, value) {
        case (.any, _):
            return []
        case (.string(let rule), .string(let text)):
            let shown = Self.shown(text)
            if let enumeration = rule.enumeration, !enumeration.contains(text) {
                return [
                    .refused(
                        "\(what) is '\(shown)'; use one of \(enumeration.joined(separator: ", "))",
                        "\(whatZh)是“\(shown)”，请写 \(enumeration.joined(separator: "、")) 之一")
                ]
            }
            let length = text.unicodeScalars.count
            if let maxLength = rule.maxLength, length > maxLength {
                return [
                    .refused(
                        "\(what) is \(length) characters long; keep it to \(maxLength)",
                        "\(whatZh)有 \(length) 个字符，请不超过 \(maxLength) 个")
                ]
            }
            if let minLength = rule.minLength, length < minLength {
                return [
                    Problem(
                        text: minLength == 1 ? "\(what) is empty" : "\(what) is shorter than \(minLength) characters",
                        zh: minLength == 1 ? "\(whatZh)为空" : "\(whatZh)少于 \(minLength) 个字符",
                        readByCore: rule.readByCore)
                ]
            }
            if let pattern = rule.pattern, !pattern.matches(text) {
                let form = rule.description.map { "; it must be: \($0)" } ?? " (\(pattern.source))"
                let formZh = rule.description.map { "，应为：\($0)" } ?? Self.formZh(pattern.source)
                // Empty or blank text is refused here even where Core reads the field: an empty query value
                // would be read as no value at all.
                let blank = text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                let said =
                    text.isEmpty
                    ? "\(what) is empty"
                    : blank ? "\(what) holds only spaces" : "\(what) '\(shown)' is not written as the contract asks"
                let saidZh =
                    text.isEmpty
                    ? "\(whatZh)为空" : blank ? "\(whatZh)只有空格" : "\(whatZh)“\(shown)”的写法不符合接口约定"
                return [Problem(text: said + form, zh: saidZh + formZh, readByCore: rule.readByCore && !blank)]
            }
            return []
        case (.integer(let minimum, let maximum), .integer(let number)):
            if let minimum, number < minimum {
                return [
                    .refused(
                        "\(what) is \(number); it must be at least \(minimum)", "\(whatZh)是 \(number)，不能小于 \(minimum)")
                ]
            }
            if let maximum, number > maximum {
                return [
                    .refused(
                        "\(what) is \(number); it must be at most \(maximum)", "\(whatZh)是 \(number)，不能大于 \(maximum)")
                ]
            }
            return []
        case (.integer(let minimum, let maximum), .double(let number)) where number == number.rounded():
            // A whole number too large for 64 bits.
            if let minimum, number < Double(minimum) {
                return [
                    .refused(
                        "\(what) is \(number); it must be at least \(minimum)", "\(whatZh)是 \(number)，不能小于 \(minimum)")
                ]
            }
            if let maximum, number > Double(maximum) {
                return [
                    .refused(
                        "\(what) is \(number); it must be at most \(maximum)", "\(whatZh)是 \(number)，不能大于 \(maximum)")
                ]
            }
            return [
                .refused(
                    "\(what) is \(number); it must be a whole number that fits in 64 bits",
                    "\(whatZh)是 \(number)，应为 64 位以内的整数")
            ]
        case (.number(let minimum, let maximum), .integer(let number)):
            return check(.double(Double(number)), .number(minimum: minimum, maximum: maximum), what: what, whatZh)
        case (.number(let minimum, let maximum), .double(let number)):
            if let minimum, number < minimum {
                return [
                    .refused(
                        "\(what) is \(number); it must be at least \(minimum)", "\(whatZh)是 \(number)，不能小于 \(minimum)")
                ]
            }
            if let maximum, number > maximum {
                return [
                    .refused(
                        "\(what) is \(number); it must be at most \(maximum)", "\(whatZh)是 \(number)，不能大于 \(maximum)")
                ]
            }
            return []
        case (.boolean, .bool):
            return []
        case (.array(let items, let minItems, let maxItems), .array(let elements)):
            if let maxItems, elements.count > maxItems {
                return [
                    .refused(
                        "\(what) has \(elements.count) items; give at most \(maxItems)",
                        "\(whatZh)有 \(elements.count) 项，最多 \(maxItems) 项")
                ]
            }
            if let minItems, elements.count < minItems {
                return [
                    .refused(
                        "\(what) has \(elements.count) items; give at least \(minItems)",
                        "\(whatZh)有 \(elements.count) 项，至少要 \(minItems) 项")
                ]
            }
            guard let items else { return [] }
            return elements.enumerated().flatMap { i, element in check(element, items, at: "\(path)[\(i)]") }
        case (.object(let properties, let required, let additional, let minProperties), .object(let members)):
            var problems: [Problem] = []
            if let minProperties, members.count < minProperties {
                problems.append(
                    .refused(
                        "\(what) has no fields; give at least \(minProperties)", "\(whatZh)没有字段，至少要 \(minProperties) 个")
                )
            }
            for name in required where members[name] == nil {
                problems.append(
                    .refused(
                        "required field '\(Self.join(path, name))' is missing", "缺少必需的字段“\(Self.join(path, name))”"))
            }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let property = properties[name] {
                    problems += check(member, property, at: Self.join(path, name))
                } else if case .refused = additional {
                    problems.append(
                        .refused(
                            "field '\(Self.join(path, name))' is not a known field; remove it or check its spelling",
                            "没有“\(Self.join(path, name))”这个字段，请删去或检查拼写"))
                }
            }
            return problems
        case (.integer, _):
            return [.refused("\(what) is not a whole number", "\(whatZh)不是整数")]
        default:
            return [.refused("\(what) should be \(Self.typeName(schema))", "\(whatZh)应为\(Self.typeNameZh(schema))")]
        }
    }

    private static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    /// A field or parameter as a Chinese reader knows it (`reason` → 原因（reason）); another as named.
    static func nameZh(_ path: String) -> String {
        let last = String(path.split(separator: ".").last ?? Substring(path))
        return fieldNamesZh[last].map { "\($0)（\(path)）" } ?? path
    }

    private static let fieldNamesZh: [String: String] = [
        "reason": "原因", "terms": "协议内容", "notes": "备注", "name": "姓名", "title": "名称", "mobile": "手机号",
        "email": "邮箱", "office": "调解室", "category": "类别", "risk": "风险等级", "start": "开始时间", "from": "开始",
        "to": "结束", "expert": "专家", "party": "当事人", "kind": "类型", "result": "结果", "status": "状态",
        "week": "周次", "password": "密码", "role": "角色", "side": "身份", "organisation": "单位", "amount": "金额",
        "case": "案件编号", "date": "日期", "limit": "条数", "answer": "答复", "policy": "专家组成",
    ]

    /// A pattern a Chinese reader can act on: the choices of `^(a|b|c)$` listed, another shown as it is.
    private static func formZh(_ source: String) -> String {
        if let m = source.wholeMatch(of: #/\^\(([a-z_|]+)\)\$/#) {
            return "，请写 " + m.1.split(separator: "|").joined(separator: "、") + " 之一"
        }
        return "（\(source)）"
    }

    /// Text as an error repeats it: at most 60 characters.
    private static func shown(_ text: String) -> String { text.count > 60 ? text.prefix(60) + "…" : text }

    private static func typeNameZh(_ schema: Schema) -> String {
        switch schema {
        case .string: "文字"
        case .integer: "整数"
        case .number: "数字"
        case .boolean: " true 或 false"
        case .array: "列表"
        case .object: " JSON 对象"
        case .any: "任意值"
        }
    }

    private static func typeName(_ schema: Schema) -> String {
        switch schema {
        case .string: "a string"
        case .integer: "a whole number"
        case .number: "a number"
        case .boolean: "true or false"
        case .array: "a list"
        case .object: "a JSON object"
        case .any: "anything"
        }
    }

    /// Resolves `$ref`s and turns schema dictionaries into `Schema`.
    private final class Reader {
        let components: [String: Any]
        /// Each distinct pattern compiled once: the same `$ref` is resolved for every operation that uses it, and the
        /// long alias patterns compiled per use cost megabytes of resident memory.
        private var patterns: [String: Pattern] = [:]

        init(components: [String: Any]) { self.components = components }

        func pattern(_ source: String) throws -> Pattern {
            if let known = patterns[source] { return known }
            let compiled = try Pattern(source)
            patterns[source] = compiled
            return compiled
        }

        /// The object `raw` is or names.
        func resolve(_ raw: Any) throws -> [String: Any] {
            guard var object = raw as? [String: Any] else { return [:] }
            var seen = 0
            while let ref = object["$ref"] as? String {
                let parts = ref.split(separator: "/").map(String.init)
                guard parts.count == 4, parts[0] == "#", parts[1] == "components",
                    let group = components[parts[2]] as? [String: Any], let target = group[parts[3]] as? [String: Any],
                    seen < 16
                else { throw MediationError.unavailable("openapi.yaml: cannot resolve \(ref)") }
                object = target
                seen += 1
            }
            return object
        }

        func schema(_ raw: Any) throws -> Schema {
            let s = try resolve(raw)
            let known: Set<String> = [
                "type", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems",
                "items",
                "properties", "required", "additionalProperties", "minProperties", "description", "default", "format",
                "example", "x-core-reads",
            ]
            if let unknown = s.keys.first(where: { !known.contains($0) }) {
                throw MediationError.unavailable("openapi.yaml: the schema keyword '\(unknown)' is not enforced")
            }
            func int(_ key: String) -> Int? { s[key] as? Int }
            switch s["type"] as? String {
            case "string":
                return .string(
                    Text(
                        enumeration: (s["enum"] as? [Any])?.map { "\($0)" },
                        pattern: try (s["pattern"] as? String).map(pattern), minLength: int("minLength"),
                        maxLength: int("maxLength"), description: s["description"] as? String,
                        readByCore: s["x-core-reads"] as? Bool ?? false))
            case "integer":
                let format = s["format"] as? String
                let floor: Int64 = format == "int32" ? Int64(Int32.min) : Int64.min
                let ceiling: Int64 = format == "int32" ? Int64(Int32.max) : Int64.max
                return .integer(
                    minimum: int("minimum").map(Int64.init) ?? (format == nil ? nil : floor),
                    maximum: int("maximum").map(Int64.init) ?? (format == nil ? nil : ceiling))
            case "number":
                return .number(
                    minimum: (s["minimum"] as? Double) ?? int("minimum").map(Double.init),
                    maximum: (s["maximum"] as? Double) ?? int("maximum").map(Double.init))
            case "boolean":
                return .boolean
            case "array":
                return .array(
                    items: try s["items"].map { try schema($0) }, minItems: int("minItems"), maxItems: int("maxItems"))
            case "object":
                var properties: [String: Schema] = [:]
                for (name, property) in s["properties"] as? [String: Any] ?? [:] {
                    properties[name] = try schema(property)
                }
                let additional: Additional = (s["additionalProperties"] as? Bool) == false ? .refused : .allowed
                return .object(
                    properties: properties, required: s["required"] as? [String] ?? [], additional: additional,
                    minProperties: int("minProperties"))
            default:
                return .any
            }
        }
    }
}

/// Any JSON value, read strictly: `true` is a boolean and never the number 1.
enum JSONValue: Decodable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        if var list = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            while !list.isAtEnd { elements.append(try list.decode(JSONValue.self)) }
            self = .array(elements)
            return
        }
        if let object = try? decoder.container(keyedBy: AnyKey.self) {
            var members: [String: JSONValue] = [:]
            for key in object.allKeys { members[key.stringValue] = try object.decode(JSONValue.self, forKey: key) }
            self = .object(members)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let value = try? single.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? single.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? single.decode(Double.self) {
            self = .double(value)
        } else {
            self = .string(try single.decode(String.self))
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
