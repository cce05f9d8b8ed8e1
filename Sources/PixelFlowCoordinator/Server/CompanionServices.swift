import NIOCore
import ServiceLifecycle

/// The status port (`/healthz`, `/readyz`, `/metrics`) as a lifecycle service: placed before the coordinator in a
/// `ServiceGroup`, it stops after it, so probes and scrapes see the whole of a graceful shutdown.
struct StatusService: Service {
    let channel: any Channel

    func run() async throws {
        try? await gracefulShutdown()  // returns on graceful shutdown, throws when cancelled: closes either way
        try? await channel.close()
    }
}

/// The webhook sender as a lifecycle service: placed before the coordinator, it keeps delivering while the
/// coordinator drains (jobs that end then have events too) and stops after it. What is still due then stays in the
/// store's outbox and goes out after the next start.
struct WebhookService: Service {
    let dispatcher: WebhookDispatcher

    func run() async throws {
        await cancelWhenGracefulShutdown { await dispatcher.run() }
    }
}
