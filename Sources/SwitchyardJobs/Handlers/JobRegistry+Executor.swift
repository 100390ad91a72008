import SwitchyardCore
import SwitchyardDestinations
import SwitchyardMetrics
import SwitchyardOAuth
import SwitchyardOutbound
import SwitchyardPostgres
import SwitchyardProviders
import SwitchyardSyncs
import SwitchyardWorkflows

extension JobRegistry {
    /// The job kinds an executor runs: the standard ones, `webhook.process`, `oauth.refresh`, `sync.run`, `destination.deliver`, `destination.fan_out` and `workflow.run`, whose
    /// refresher is built as the API builds its own (same provider directory, token endpoint client and single-flight
    /// lock).
    public static func executor(
        configuration: SwitchyardConfiguration,
        database: Database,
        outbound: OutboundClient,
        webhookMetrics: WebhookMetrics? = nil,
        deliveryMetrics: DeliveryMetrics? = nil,
        usage: UsageMeter? = nil,
        workflowMetrics: WorkflowMetrics? = nil
    ) -> JobRegistry {
        let caller = IntegrationCaller(database: database, outbound: outbound, refreshSkewSeconds: configuration.oauth.refreshSkewSeconds)
        var registry = JobRegistry.standard()
        registry.register(OAuthRefreshHandler(database: database, refresher: caller.refresher))
        registry.register(SyncRunHandler(runner: SyncRunner(database: database, caller: caller, usage: usage)))
        registry.register(WebhookProcessHandler(database: database, metrics: webhookMetrics))
        registry.register(WorkflowRunHandler(runner: WorkflowRunner(database: database, caller: caller, metrics: workflowMetrics, usage: usage)))
        let delivery = DestinationDelivery(
            database: database,
            outbound: outbound,
            targets: DestinationTargets(database: database),
            disableAfter: .seconds(configuration.jobs.destinationDisableAfterHours * 3600),
            metrics: deliveryMetrics,
            usage: usage
        )
        registry.registerDeliveries(delivery, database: database, concurrency: configuration.jobs.executorConcurrency)
        return registry
    }

    /// The two kinds that deliver events to destinations: `destination.fan_out` (an event's first attempts) and
    /// `destination.deliver` (one delivery's retries, ordered deliveries, resends and replays).
    /// At most `concurrency` of the fan-outs' deliveries are in flight at once.
    public mutating func registerDeliveries(_ delivery: DestinationDelivery, database: Database, concurrency: Int) {
        register(DestinationDeliveryHandler(delivery: delivery))
        register(DestinationFanOutHandler(database: database, delivery: delivery, sending: AsyncPermits(limit: concurrency)))
    }
}
