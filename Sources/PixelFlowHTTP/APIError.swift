import Foundation
import HTTPTypes
import Hummingbird
import PixelFlowCoordinator
import PixelFlowProtocol

/// An HTTP API error: a status and `{"error": {"code", "message"}}`, with `Retry-After` when the code has one.
/// Codes are the binary protocol's (PROTOCOL.md §8), plus a few only HTTP has (`source_missing`, `conflict`,
/// `unsupported_media_type`, `request_too_large`, `method_not_allowed`).
struct APIError: HTTPResponseError {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var retryAfterMilliseconds: UInt32 = 0
    /// The `Allow` header of a 405.
    var allow: String?

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, retryAfterMilliseconds: UInt32 = 0) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfterMilliseconds = retryAfterMilliseconds
    }

    init(_ error: ProtocolError) {
        self.init(
            Self.status(of: error.code), error.code.name, error.message,
            retryAfterMilliseconds: error.retryAfterMilliseconds ?? 0)
    }

    init(_ problem: Coordinator.DraftProblem) {
        switch problem {
        case .refused(let error): self.init(error)
        case .sourceMissing(let message): self.init(.conflict, "source_missing", message)
        case .conflict(let message): self.init(.conflict, "conflict", message)
        case .sourceUnavailable(let message): self.init(.badGateway, "source_unavailable", message)
        }
    }

    static func status(of code: ErrorCode) -> HTTPResponse.Status {
        switch code {
        case .invalidRequest, .invalidPipeline, .undecodableImage, .unsupportedFormat, .protocolError: .badRequest
        case .unauthorized: .unauthorized
        case .notFound: .notFound
        case .idempotencyConflict: .conflict
        case .sourceTooLarge, .imageTooLarge: .contentTooLarge
        case .rateLimited, .queueFull, .tooManyInFlight: .tooManyRequests
        case .unavailable, .storageError, .shuttingDown: .serviceUnavailable
        default: .internalServerError
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if retryAfterMilliseconds > 0 {
            headers[.retryAfter] = String((retryAfterMilliseconds + 999) / 1000)
        }
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let allow, let name = HTTPField.Name("Allow") { headers[name] = allow }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(Body(error: .init(code: code, message: message)))
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(data: body)))
    }

    private struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
        }
        var error: Detail
    }
}

/// Turns every error a route or Hummingbird throws (an unknown route, a body over its cap) into the API's JSON
/// shape, so a client parses one kind of error whatever went wrong.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteMethods

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            if error.status == .notFound, let allowed = routes.methods(for: request.uri.path) {
                var refusal = APIError(
                    .methodNotAllowed, "method_not_allowed",
                    "\(request.method.rawValue) is not served here; allowed: \(allowed.joined(separator: ", "))")
                refusal.allow = allowed.joined(separator: ", ")
                throw refusal
            }
            throw Self.translate(error)
        } catch let error as any HTTPResponseError {
            throw APIError(error.status, "invalid_request", "\(error)")
        }
    }

    static func translate(_ error: HTTPError) -> APIError {
        let message = error.body ?? error.status.reasonPhrase
        switch error.status {
        case .notFound: return APIError(.notFound, "not_found", "no such route")
        case .contentTooLarge: return APIError(.contentTooLarge, "request_too_large", message)
        case .methodNotAllowed: return APIError(.methodNotAllowed, "method_not_allowed", message)
        case .unauthorized: return APIError(.unauthorized, "unauthorized", message)
        default:
            let code = error.status.code >= 500 ? "internal" : "invalid_request"
            return APIError(error.status, code, message)
        }
    }
}
