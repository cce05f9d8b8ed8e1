import Hummingbird

/// A request's context: Hummingbird's, plus the tenant its bearer token names (set by `BearerAuthMiddleware`).
struct APIRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var tenant: String?
    /// Bodies Hummingbird itself collects; the routes collect with their own caps.
    var maxUploadSize: Int { 1 << 20 }

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// The authenticated tenant (routes run behind `BearerAuthMiddleware`, which refuses requests without one).
    func requireTenant() throws -> String {
        guard let tenant else { throw APIError(.unauthorized, "unauthorized", "no valid bearer token") }
        return tenant
    }
}

/// `Authorization: Bearer <token>`: the token is hashed and compared with every tenant's hash in constant time.
/// A missing or unknown token is 401 — never a hint about which tenants exist.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let tenantForToken: @Sendable (String) -> String?

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError(.unauthorized, "unauthorized", "an Authorization: Bearer <token> header is required")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", let tenant = tenantForToken(String(parts[1])) else {
            throw APIError(.unauthorized, "unauthorized", "the bearer token is not valid")
        }
        var context = context
        context.tenant = tenant
        return try await next(request, context)
    }
}
