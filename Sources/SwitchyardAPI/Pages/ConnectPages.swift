import Foundation
import SwitchyardOAuth
import SwitchyardPostgres
import SwitchyardProviders

/// The pages an end user sees while connecting an account.
enum ConnectPages {
    /// The provider chooser: one form per provider, with the connection parameters it needs.
    static func chooser(token: String, session: ConnectSessionRecord, providers: [ProviderDefinition], error: String? = nil) -> HTMLPage {
        let reconnecting = session.integrationID != nil
        var body = "<h1>\(reconnecting ? "Reconnect your account" : "Connect an account")</h1>\n"
        if let error {
            body += "<p class=\"alert\" role=\"alert\">\(HTML.escape(error))</p>\n"
        }
        body +=
            providers.count == 1
            ? "<p>You will sign in at \(HTML.escape(providers[0].displayName)) and choose what to share. You come back here afterwards.</p>\n"
            : "<p>Choose the service to connect. You will sign in there and choose what to share. You come back here afterwards.</p>\n"
        for provider in providers {
            body += form(token: token, provider: provider, preset: session.connectionParameters)
        }
        body += "<p class=\"muted\">This link works until \(HTML.escape(Self.time(session.expiresAt))) and only for you: do not share it.</p>"
        return HTMLPage(
            title: reconnecting ? "Reconnect your account" : "Connect an account",
            body: body,
            status: error == nil ? .ok : .unprocessableContent
        )
    }

    private static func form(token: String, provider: ProviderDefinition, preset: [String: String]) -> String {
        let name = HTML.escape(provider.displayName)
        var form = "<form method=\"post\" action=\"/connect/\(HTML.escape(token))\" aria-label=\"Connect \(name)\">\n"
        form += "<h2>\(name)</h2>\n"
        form += "<input type=\"hidden\" name=\"provider\" value=\"\(HTML.escape(provider.id))\">\n"
        for parameter in provider.userConnectionParameters where preset[parameter.name] == nil {
            let id = "\(provider.id)-\(parameter.name)"
            let example = parameter.example.map { " placeholder=\"\(HTML.escape($0))\"" } ?? ""
            form += """
                <label for="\(HTML.escape(id))">\(HTML.escape(Self.label(parameter.name)))</label>
                <span class="hint" id="\(HTML.escape(id))-hint">\(HTML.escape(parameter.description))</span>
                <input type="text" id="\(HTML.escape(id))" name="parameter.\(HTML.escape(parameter.name))" aria-describedby="\(HTML.escape(id))-hint"\(parameter.required ? " required" : "")\(example) autocomplete="off" autocapitalize="none" spellcheck="false">

                """
        }
        form += "<button type=\"submit\">Continue to \(name)</button>\n</form>\n"
        return form
    }

    static func success(providerName: String) -> HTMLPage {
        HTMLPage(
            title: "\(providerName) is connected",
            body: """
                <h1>\(HTML.escape(providerName)) is connected</h1>
                <p class="ok" role="status">Your account was connected successfully.</p>
                <p>You can close this window and go back to the app.</p>
                """
        )
    }

    static func failure(title: String, detail: String, status: Int, footer: String = "Nothing was connected. You can close this window.") -> HTMLPage
    {
        HTMLPage(
            title: title,
            body: """
                <h1>\(HTML.escape(title))</h1>
                <p class="alert" role="alert">\(HTML.escape(detail))</p>
                <p class="muted">\(HTML.escape(footer))</p>
                """,
            status: .init(code: status)
        )
    }

    static func unusableLink() -> HTMLPage {
        failure(
            title: "This link no longer works",
            detail: "Connect links work once and only for a short time.",
            status: 404,
            footer: "If you have just connected your account, there is nothing more to do. Otherwise, ask the app for a new link."
        )
    }

    /// `shop_domain` reads as "Shop domain".
    static func label(_ name: String) -> String {
        let words = name.split(separator: "_").joined(separator: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "HH:mm 'UTC'"
        return formatter.string(from: date)
    }
}
