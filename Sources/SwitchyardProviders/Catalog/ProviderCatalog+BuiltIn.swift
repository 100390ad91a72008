extension ProviderCatalog {
    /// The providers Switchyard ships with.
    ///
    /// A duplicate id would trap on first use, which every test run reaches (ProviderCatalogTests), so it
    /// cannot ship unnoticed.
    public static let builtIn: ProviderCatalog = try! ProviderCatalog([
        .github, .slack, .google, .microsoft, .hubspot, .salesforce, .salesforceSandbox, .stripe, .shopify,
        .notion, .linear, .zendesk, .zendeskAPIToken, .jira,
    ])
}
