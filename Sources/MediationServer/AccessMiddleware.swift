import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MediationCore
import MediationStore
import OpenAPIRuntime

/// Who is calling: refuses browsers and callers without a role, and keeps the caller in the request context (and,
/// for the generated handlers, which see no context, in `Caller.current`). Runs on every route, known or not, so a
/// caller without a role learns nothing, not even which paths exist. What each operation needs is decided after
/// routing, by `OperationAccessMiddleware`.
struct CallerMiddleware<Context: CallerRequestContext>: RouterMiddleware {
    let policy: AccessPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if request.headers[.origin] != nil || request.headers[.referer] != nil {
            throw MediationError.said(
                .forbidden,
                en: "requests from web pages are refused (Origin or Referer header present); "
                    + "use mediationctl or curl --unix-socket",
                zh: "拒绝来自网页的请求（带有 Origin 或 Referer 请求头）；请使用 mediationctl 或 curl --unix-socket")
        }
        guard let peer = context.peer else {
            throw MediationError.said(
                .forbidden, en: "the caller's credentials could not be read; connect over the Unix socket",
                zh: "无法读取调用者的身份，请通过 Unix 套接字连接")
        }
        let caller = try policy.authorize(peer)
        var context = context
        context.caller = caller
        // The store records every change it makes for this request in the audit trail, under this actor.
        let actor = AuditActor(uid: peer.uid, user: caller.user, role: caller.role.rawValue)
        // English unless the caller asks for Chinese (`Accept-Language: zh-CN`, as `LANG=zh_CN.UTF-8 mediationctl`).
        let language = request.headers[.acceptLanguage].map { Language(acceptLanguage: $0) } ?? .en
        return try await Caller.$current.withValue(caller) {
            try await ReplyLanguage.$current.withValue(language) {
                try await AuditActor.$current.withValue(actor) { try await next(request, context) }
            }
        }
    }
}

/// The one place where a request's role is decided: the operation it reaches (its OpenAPI `operationId`) against
/// `OperationRoles`. Only then is the body read, within `socket.max_body_kib`, a JSON body checked to be UTF-8 and
/// shallow, and the whole request checked against the contract (`ContractValidator`), before a decoder sees it; so a
/// caller refused learns it before sending the whole body.
struct OperationAccessMiddleware: ServerMiddleware {
    let policy: AccessPolicy
    var limits = ServerLimits()
    let contract: ContractValidator
    var contractLogger = Logger(label: "mediationd.contract")

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard let caller = Caller.current else {
            throw MediationError.said(
                .forbidden, en: "the caller's credentials could not be read; connect over the Unix socket",
                zh: "无法读取调用者的身份，请通过 Unix 套接字连接")
        }
        guard OperationRoles.allows(caller.role, operationID) else {
            let what = "\(request.method.rawValue) \(request.path?.split(separator: "?").first ?? "")"
            guard let needed = OperationRoles.required[operationID] else {
                throw MediationError.said(
                    .forbidden,
                    en: "\(what) (\(operationID)) has no entry in the table of roles (OperationRoles), so nobody may "
                        + "call it; this is a bug: report it",
                    zh: "\(what)（\(operationID)）不在角色表（OperationRoles）中，任何人都不能调用；这是程序缺陷，请报告")
            }
            let named = groups(for: needed)
            throw MediationError.said(
                .forbidden,
                en: "\(what) needs the \(needed.rawValue) role; uid \(caller.credentials.uid)"
                    + "\(caller.user.map { " (\($0))" } ?? "") is \(caller.role.rawValue). "
                    + "Ask an administrator to add the user to one of: \(named)",
                zh: "\(what) 需要“\(Words.role(needed, .zh))”角色；uid \(caller.credentials.uid)"
                    + "\(caller.user.map { "（\($0)）" } ?? "") 的角色是“\(Words.role(caller.role, .zh))”。"
                    + "请管理员把该用户加入以下组之一：\(named == "(no groups configured)" ? "（尚未配置任何组）" : named)")
        }
        let query = request.path?.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init)
        guard let body, request.method != .get, request.method != .head else {
            let readByCore = try contract.check(operationID, path: metadata.pathParameters, query: query, body: nil)
            return try await answer(operationID, readByCore) { try await next(request, body, metadata) }
        }
        let bytes = try await collect(body)
        let type = request.headerFields[.contentType]?.lowercased() ?? ""
        let json = type.contains("json")
        if json, let problem = JSONShape.problem(bytes, maxDepth: ServerLimits.maxJSONDepth) {
            throw MediationError.said(
                .invalidInput, en: "the request body is not acceptable JSON: \(problem)",
                zh: "请求内容不是可接受的 JSON：\(problem)")
        }
        // Text (a roster) is UTF-8, as the contract's strings are: refused here (400) in the words of Core's reader,
        // which names the line and how to save the file.
        if type.hasPrefix("text/") { _ = try CSV.decodeUTF8(bytes) }
        let readByCore = try contract.check(
            operationID, path: metadata.pathParameters, query: query, body: json ? bytes : nil)
        return try await answer(operationID, readByCore) { try await next(request, HTTPBody(bytes), metadata) }
    }

    /// The handler's answer. Text the document refuses but leaves to Core (`ContractValidator.Problem.readByCore`)
    /// is refused by Core in its own words, and answered 400 as the document refuses it (not 422, which is for
    /// requests the document allows). Were it accepted, the document and Core would disagree: that is logged.
    private func answer(
        _ operationID: String, _ readByCore: [String],
        _ handler: () async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard !readByCore.isEmpty else { return try await handler() }
        let response: (HTTPResponse, HTTPBody?)
        do { response = try await handler() } catch let error as ServerError {
            if let inner = error.underlyingError as? MediationError, inner.kind == .invalidInput { throw inner }
            throw error
        }
        if response.0.status.code < 400 {
            contractLogger.error(
                "the contract refuses what the daemon accepted: openapi.yaml and Core disagree; correct the document",
                metadata: ["operation": "\(operationID)", "problems": "\(readByCore.joined(separator: "; "))"])
        }
        return response
    }

    /// The whole body, or the 413 error as soon as it is longer than the limit (announced or not).
    private func collect(_ body: HTTPBody) async throws -> [UInt8] {
        if case .known(let length) = body.length, length > limits.maxBodyBytes {
            throw ErrorMapping.tooLarge(limits.maxBodyBytes)
        }
        var bytes: [UInt8] = []
        for try await chunk in body {
            guard bytes.count + chunk.count <= limits.maxBodyBytes else {
                throw ErrorMapping.tooLarge(limits.maxBodyBytes)
            }
            bytes += chunk
        }
        return bytes
    }

    private func groups(for role: Role) -> String {
        let r = policy.rules
        let names: [String]
        switch role {
        case .admin: names = r.adminGroups
        case .staff: names = r.adminGroups + r.staffGroups
        case .viewer: names = r.adminGroups + r.staffGroups + r.viewerGroups
        }
        return names.isEmpty ? "(no groups configured)" : names.joined(separator: ", ")
    }
}
