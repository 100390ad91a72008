import HTTPTypes
import Hummingbird
import NIOCore

/// One answer of the portal: a rendered template, or a redirect (after a form post).
struct PortalPage {
    var title: String
    var template: String
    /// The template's values; `PortalViews` builds them from records.
    var view: [String: Any]
    /// The navigation entry to mark as current; `nil`: no navigation (pages outside a session).
    var nav: String?
    var notice: String?
    var problem: String?
    var status: HTTPResponse.Status = .ok
    /// The session's form token, put in every form; set by `PortalController.page`.
    var csrf: String?
    var redirect: String?
    var setCookie: String?

    init(
        title: String,
        template: String,
        view: [String: Any],
        nav: String? = nil,
        notice: String? = nil,
        problem: String? = nil,
        status: HTTPResponse.Status = .ok
    ) {
        self.title = title
        self.template = template
        self.view = view
        self.nav = nav
        self.notice = notice
        self.problem = problem
        self.status = status
    }

    /// 303 to `location`: the browser then gets the page, so reloading it does not post the form again.
    static func redirect(_ location: String, cookie: String? = nil) -> PortalPage {
        var page = PortalPage(title: "", template: "", view: [:], status: .seeOther)
        page.redirect = location
        page.setCookie = cookie
        return page
    }

    var response: Response {
        // No script at all, forms only to this server, no framing, no Referer (a link's token must not leak).
        var headers = HTMLPage.headers(formsOnlyHere: true)
        if let setCookie { headers[.setCookie] = setCookie }
        if let redirect {
            headers[.location] = redirect
            return Response(status: status, headers: headers)
        }
        headers[.contentType] = "text/html; charset=utf-8"
        var values = view
        values["title"] = title
        values["notice"] = notice
        values["problem"] = problem
        values["csrf"] = csrf
        if let nav { values["nav"] = [nav: true] }
        let html = PortalTemplates.render(values, template)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A message page outside a session.
    static func message(_ heading: String, _ text: String, status: HTTPResponse.Status) -> Response {
        PortalPage(title: heading, template: "message", view: ["heading": heading, "text": text], status: status).response
    }

    static var linkUsed: Response {
        message(
            "This link no longer works",
            "A portal link opens once and for a few minutes. Ask your application for a new one.",
            status: .notFound
        )
    }

    static func failure(_ error: PortalPageError) -> Response {
        switch error {
        case .sessionEnded:
            message("Your portal session has ended", "Ask your application for a new portal link.", status: .unauthorized)
        case .forgedForm:
            message("This form is no longer valid", "Reload the page and try again.", status: .forbidden)
        case .notFound:
            message("Not found", "There is nothing here, or it is not yours.", status: .notFound)
        }
    }
}
