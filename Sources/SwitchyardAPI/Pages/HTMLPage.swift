import HTTPTypes
import Hummingbird
import NIOCore

/// A small server-rendered HTML page for end users (connect, callback results): no script, readable
/// without CSS, every interpolated value escaped.
struct HTMLPage: Sendable {
    var title: String
    /// Body markup, already escaped where it holds data.
    var body: String
    var status: HTTPResponse.Status = .ok

    var response: Response {
        var headers = Self.headers(formsOnlyHere: false)
        headers[.contentType] = "text/html; charset=utf-8"
        let html = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title)) · Switchyard</title>
            <style>\(Self.style)</style>
            </head>
            <body>
            <main>
            \(body)
            </main>
            </body>
            </html>
            """
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The headers of every page for people: not cached, no scripts, no framing (a consent step must not be
    /// clickjacked), and no Referer carrying a token in the URL elsewhere. `formsOnlyHere` adds `form-action 'self'`
    /// (the connect pages' forms end at the provider through a redirect, which that would block).
    static func headers(formsOnlyHere: Bool) -> HTTPFields {
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; " + (formsOnlyHere ? "form-action 'self'; " : "")
            + "frame-ancestors 'none'; base-uri 'none'"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return headers
    }

    static let style = """
        body{margin:0;background:#f4f5f7;color:#1d2330;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
        main{max-width:30rem;margin:3rem auto;padding:2rem;background:#fff;border:1px solid #d8dbe2;border-radius:10px}
        h1{font-size:1.4rem;margin:0 0 .75rem}
        h2{font-size:1.1rem;margin:0 0 .5rem}
        p{margin:.5rem 0}
        .muted{color:#5b6272;font-size:.9rem}
        form{margin:1rem 0;padding:1rem;border:1px solid #e3e5ea;border-radius:8px}
        label{display:block;font-weight:600;margin:.25rem 0}
        .hint{display:block;color:#5b6272;font-size:.875rem;margin-bottom:.35rem}
        input[type=text]{box-sizing:border-box;width:100%;padding:.55rem .6rem;font:inherit;border:1px solid #9aa1b0;border-radius:6px}
        button{margin-top:.75rem;width:100%;padding:.7rem 1rem;font:inherit;font-weight:600;color:#fff;background:#2d5bd7;border:0;border-radius:6px;cursor:pointer}
        button:hover{background:#2449b0}
        :focus-visible{outline:3px solid #f2b705;outline-offset:2px}
        .alert{padding:.75rem 1rem;border-radius:6px;background:#fdecec;border:1px solid #e5a0a0;color:#7a1c1c}
        .ok{padding:.75rem 1rem;border-radius:6px;background:#e8f6ee;border:1px solid #9bd3b0;color:#145a32}
        code{font-size:.9em}
        """
}

/// Escaping for text and attribute values.
enum HTML {
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
