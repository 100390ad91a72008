import Mustache

/// The portal's pages as Mustache templates (swift-mustache), compiled into the binary: a deployment ships one file.
///
/// Every page inherits `layout` and fills its `content` block. `{{value}}` escapes HTML; the only triple-mustache
/// values are the charts, SVG that `PortalChart` builds with every label escaped.
enum PortalTemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in templates {
            // The templates are constants of this file: one that does not parse is a bug caught by the first test.
            try! library.register(text, named: name)
        }
        return library
    }()

    static func render(_ view: Any, _ name: String) -> String {
        library.render(view, withTemplate: name) ?? ""
    }

    static let templates: [String: String] = [
        "layout": layout, "message": message, "open": open, "overview": overview, "integration": integration, "webhooks": webhooks,
        "dead-letters": deadLetters, "destinations": destinations, "destination": destination,
    ]

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Switchyard portal</title>
        <style>\(style)</style>
        </head>
        <body>
        {{#nav}}
        <header>
        <nav aria-label="Portal">
        <a href="/portal" {{#overview}}aria-current="page"{{/overview}}>Overview</a>
        <a href="/portal/webhooks" {{#webhooks}}aria-current="page"{{/webhooks}}>Webhooks</a>
        <a href="/portal/dead-letters" {{#deadLetters}}aria-current="page"{{/deadLetters}}>Dead letters</a>
        <a href="/portal/destinations" {{#destinations}}aria-current="page"{{/destinations}}>Destinations</a>
        </nav>
        <form method="post" action="/portal/logout" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button class="link">Log out</button></form>
        </header>
        {{/nav}}
        <main>
        {{#notice}}<p class="ok" role="status">{{notice}}</p>{{/notice}}
        {{#problem}}<p class="alert" role="alert">{{problem}}</p>{{/problem}}
        {{$content}}{{/content}}
        </main>
        </body>
        </html>
        """

    static let message = """
        {{<layout}}{{$content}}
        <h1>{{heading}}</h1>
        <p>{{text}}</p>
        {{/content}}{{/layout}}
        """

    static let open = """
        {{<layout}}{{$content}}
        <h1>Open the portal</h1>
        <p>This link opens your integration portal once, in this browser.</p>
        <form method="post" action="/portal/open/{{token}}"><button id="open">Open the portal</button></form>
        {{/content}}{{/layout}}
        """

    static let overview = """
        {{<layout}}{{$content}}
        <h1>Overview</h1>
        <section class="charts">
        <figure><figcaption>Events per hour, last 24 hours</figcaption>{{{eventsChart}}}</figure>
        <figure><figcaption>Failures per hour, last 24 hours</figcaption>{{{failuresChart}}}</figure>
        </section>
        <h2>Integrations</h2>
        {{^integrations}}<p class="muted">No integrations yet.</p>{{/integrations}}
        {{#hasIntegrations}}
        <table>
        <thead><tr><th>Integration</th><th>Provider</th><th>Status</th><th>Health</th></tr></thead>
        <tbody>
        {{/hasIntegrations}}
        {{#integrations}}
        <tr data-integration="{{id}}"><td><a href="/portal/integrations/{{id}}">{{name}}</a></td><td>{{provider}}</td><td>{{status}}</td>
        <td><span class="health {{health}}" data-health="{{health}}">{{health}}</span> <span class="muted">{{healthReason}}</span></td></tr>
        {{/integrations}}
        {{#hasIntegrations}}
        </tbody></table>
        {{/hasIntegrations}}
        {{/content}}{{/layout}}
        """

    static let integration = """
        {{<layout}}{{$content}}
        <h1>{{name}}</h1>
        <dl>
        <dt>Provider</dt><dd>{{provider}}</dd>
        <dt>Status</dt><dd id="status">{{status}}</dd>
        <dt>Health</dt><dd><span id="health" class="health {{health}}" data-health="{{health}}">{{health}}</span> {{#score}}(score {{score}}){{/score}}</dd>
        <dt>Why</dt><dd id="health-reason">{{healthReason}}</dd>
        </dl>
        {{#needsReauth}}
        <form method="post" action="/portal/integrations/{{id}}/reconnect"><input type="hidden" name="csrf" value="{{csrf}}">
        <p>The provider no longer accepts this connection's credentials.</p><button id="reconnect">Reconnect</button></form>
        {{/needsReauth}}
        <h2>Recent outcomes</h2>
        {{^attempts}}<p class="muted">No jobs have run for this integration in the last hour.</p>{{/attempts}}
        {{#hasAttempts}}<table><thead><tr><th>Finished</th><th>Job</th><th>Attempt</th><th>Outcome</th><th>Error</th></tr></thead><tbody>{{/hasAttempts}}
        {{#attempts}}<tr class="outcome {{outcome}}"><td>{{finished}}</td><td>{{kind}}</td><td>{{attempt}}</td><td>{{outcome}}</td><td>{{error}}</td></tr>{{/attempts}}
        {{#hasAttempts}}</tbody></table>{{/hasAttempts}}
        {{/content}}{{/layout}}
        """

    static let webhooks = """
        {{<layout}}{{$content}}
        <h1>Webhooks</h1>
        {{^sources}}<p class="muted">No webhook sources yet.</p>{{/sources}}
        {{#sources}}
        <section class="card" data-source="{{id}}">
        <h2>{{name}} <span class="muted">{{scheme}}</span></h2>
        <p class="muted">Deliveries go to <code>{{url}}</code></p>
        {{^events}}<p class="muted">No events received yet.</p>{{/events}}
        {{#hasEvents}}<table><thead><tr><th>Received</th><th>Type</th><th>Provider's id</th><th>Processing</th></tr></thead><tbody>{{/hasEvents}}
        {{#events}}<tr><td>{{received}}</td><td>{{type}}</td><td>{{externalID}}</td><td><span class="state {{status}}">{{status}}</span> <span class="muted">{{error}}</span></td></tr>{{/events}}
        {{#hasEvents}}</tbody></table>{{/hasEvents}}
        </section>
        {{/sources}}
        {{/content}}{{/layout}}
        """

    static let deadLetters = """
        {{<layout}}{{$content}}
        <h1>Dead letters</h1>
        <p class="muted">Jobs that failed every attempt. Redrive one when its cause is fixed: it runs again from a fresh attempt count.</p>
        {{^jobs}}<p class="muted" id="no-dead-letters">Nothing has failed for good.</p>{{/jobs}}
        {{#hasJobs}}<table><thead><tr><th>Job</th><th>Failed</th><th>Attempts</th><th>Last error</th><th></th></tr></thead><tbody>{{/hasJobs}}
        {{#jobs}}
        <tr data-job="{{id}}"><td>{{kind}}</td><td>{{finished}}</td><td>{{attempts}}</td><td>{{error}}</td>
        <td><form method="post" action="/portal/dead-letters/{{id}}/redrive" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button>Redrive</button></form></td></tr>
        {{/jobs}}
        {{#hasJobs}}</tbody></table>{{/hasJobs}}
        {{/content}}{{/layout}}
        """

    static let destinations = """
        {{<layout}}{{$content}}
        <h1>Destinations</h1>
        <p class="muted">Your endpoints that hear every event, signed the Standard Webhooks way.</p>
        {{#hasDestinations}}<table><thead><tr><th>URL</th><th>Description</th><th>State</th></tr></thead><tbody>{{/hasDestinations}}
        {{#destinations}}<tr data-destination="{{id}}"><td><a href="/portal/destinations/{{id}}">{{url}}</a></td><td>{{description}}</td><td>{{state}}</td></tr>{{/destinations}}
        {{#hasDestinations}}</tbody></table>{{/hasDestinations}}
        <h2>Add a destination</h2>
        <form method="post" action="/portal/destinations" aria-label="Add a destination">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="url">URL</label><input type="text" id="url" name="url" required placeholder="https://example.com/webhooks">
        <label for="description">Description</label><input type="text" id="description" name="description">
        <label for="event_types">Event types</label><span class="hint">Comma-separated, such as <code>integration.*, webhook.received</code>; empty for every event.</span>
        <input type="text" id="event_types" name="event_types">
        <button id="add-destination">Add destination</button>
        </form>
        {{/content}}{{/layout}}
        """

    static let destination = """
        {{<layout}}{{$content}}
        <h1>Destination</h1>
        {{#secret}}<p class="ok" role="status">Its signing secret, shown only now: <code id="secret">{{secret}}</code></p>{{/secret}}
        <dl>
        <dt>State</dt><dd id="state">{{state}}</dd>
        {{#disabledReason}}<dt>Why disabled</dt><dd>{{disabledReason}}</dd>{{/disabledReason}}
        <dt>Signing secrets</dt><dd>{{secretCount}} (each delivery is signed with every one until its grace period ends)</dd>
        </dl>
        <form method="post" action="/portal/destinations/{{id}}" aria-label="Edit the destination">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="url">URL</label><input type="text" id="url" name="url" value="{{url}}" required>
        <label for="description">Description</label><input type="text" id="description" name="description" value="{{description}}">
        <label for="event_types">Event types</label><span class="hint">Comma-separated; empty for every event.</span>
        <input type="text" id="event_types" name="event_types" value="{{eventTypes}}">
        <button id="save">Save</button>
        </form>
        <div class="actions">
        <form method="post" action="/portal/destinations/{{id}}/test" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button id="test-send">Send a test event</button></form>
        <form method="post" action="/portal/destinations/{{id}}/rotate-secret" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button id="rotate">Rotate the secret</button></form>
        {{#enabled}}<form method="post" action="/portal/destinations/{{id}}/disable" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button id="disable">Disable</button></form>{{/enabled}}
        {{^enabled}}<form method="post" action="/portal/destinations/{{id}}/enable" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button id="enable">Enable</button></form>{{/enabled}}
        </div>
        <h2>Recent deliveries</h2>
        {{^deliveries}}<p class="muted">No deliveries yet.</p>{{/deliveries}}
        {{#deliveries}}
        <details data-delivery="{{id}}"><summary>{{created}} · {{eventType}} · <span class="state {{state}}">{{state}}</span> · {{attempts}} attempt(s)</summary>
        {{^history}}<p class="muted">No attempt yet.</p>{{/history}}
        {{#hasHistory}}<table><thead><tr><th>Attempt</th><th>Finished</th><th>Outcome</th><th>Status</th><th>Answer</th></tr></thead><tbody>{{/hasHistory}}
        {{#history}}<tr><td>{{attempt}}</td><td>{{finished}}</td><td>{{outcome}}</td><td>{{status}}</td><td><code>{{answer}}</code> {{error}}</td></tr>{{/history}}
        {{#hasHistory}}</tbody></table>{{/hasHistory}}
        </details>
        {{/deliveries}}
        {{/content}}{{/layout}}
        """

    static let style = """
        body{margin:0;background:#f4f5f7;color:#1d2330;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
        header{display:flex;justify-content:space-between;align-items:center;padding:.6rem 1.5rem;background:#1d2330}
        header a,header .link{color:#fff;margin-right:1rem;text-decoration:none;background:none;border:0;font:inherit;cursor:pointer;padding:0;width:auto;margin-top:0}
        header a[aria-current]{text-decoration:underline}
        main{max-width:60rem;margin:1.5rem auto;padding:1.5rem 2rem;background:#fff;border:1px solid #d8dbe2;border-radius:10px}
        h1{font-size:1.4rem;margin:0 0 .75rem} h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
        table{border-collapse:collapse;width:100%;font-size:.9rem} th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e5ea;vertical-align:top}
        .muted{color:#5b6272;font-size:.875rem} .hint{display:block;color:#5b6272;font-size:.8rem}
        .health{font-weight:600;padding:0 .4rem;border-radius:4px} .healthy{background:#e8f6ee;color:#145a32}
        .degraded{background:#fff4d6;color:#7a5200} .down{background:#fdecec;color:#7a1c1c} .unknown{background:#eef0f3}
        .charts{display:flex;gap:1rem;flex-wrap:wrap} figure{margin:0;flex:1 1 20rem} figcaption{font-size:.85rem;color:#5b6272}
        form{margin:.75rem 0} form.inline{display:inline;margin:0}
        label{display:block;font-weight:600;margin:.5rem 0 .2rem}
        input[type=text]{box-sizing:border-box;width:100%;padding:.45rem .55rem;font:inherit;border:1px solid #9aa1b0;border-radius:6px}
        button{margin-top:.5rem;padding:.45rem .9rem;font:inherit;font-weight:600;color:#fff;background:#2d5bd7;border:0;border-radius:6px;cursor:pointer}
        button:hover{background:#2449b0} :focus-visible{outline:3px solid #f2b705;outline-offset:2px}
        .actions form{margin-right:.5rem} details{margin:.35rem 0;padding:.35rem .5rem;border:1px solid #e3e5ea;border-radius:6px}
        .card{margin:1rem 0;padding:.75rem 1rem;border:1px solid #e3e5ea;border-radius:8px}
        .alert{padding:.6rem 1rem;border-radius:6px;background:#fdecec;border:1px solid #e5a0a0;color:#7a1c1c}
        .ok{padding:.6rem 1rem;border-radius:6px;background:#e8f6ee;border:1px solid #9bd3b0;color:#145a32}
        dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem} dt{font-weight:600} dd{margin:0}
        svg{width:100%;height:auto;background:#fafbfc;border:1px solid #e3e5ea;border-radius:6px}
        """
}
