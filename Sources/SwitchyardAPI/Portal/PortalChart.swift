import Foundation

/// A bar chart as inline SVG, drawn on the server: no script, no third-party asset. Every text in it is escaped.
enum PortalChart {
    struct Bar {
        /// Shown under the bar and in its tooltip, such as `14:00`.
        let label: String
        let value: Int64
    }

    static func bars(_ bars: [Bar], title: String, color: String) -> String {
        let width = 480.0
        let height = 160.0
        let top = 16.0
        let bottom = 22.0
        let left = 28.0
        let maximum = max(1, bars.map(\.value).max() ?? 0)
        let slot = (width - left) / Double(max(1, bars.count))
        var svg =
            #"<svg viewBox="0 0 \#(Int(width)) \#(Int(height))" role="img" aria-label="\#(HTML.escape(title))" xmlns="http://www.w3.org/2000/svg">"#
        svg += #"<text x="2" y="12" font-size="10" fill="rgb(91,98,114)">\#(maximum)</text>"#
        svg += #"<line x1="\#(left)" y1="\#(height - bottom)" x2="\#(width)" y2="\#(height - bottom)" stroke="rgb(200,204,212)"/>"#
        for (index, bar) in bars.enumerated() {
            let barHeight = (height - top - bottom) * Double(bar.value) / Double(maximum)
            let x = left + Double(index) * slot + 1
            let y = height - bottom - barHeight
            svg += #"<rect x="\#(format(x))" y="\#(format(y))" width="\#(format(max(1, slot - 2)))" height="\#(format(barHeight))" fill="\#(color)">"#
            svg += "<title>\(HTML.escape(bar.label)): \(bar.value)</title></rect>"
            if index % 4 == 0 {
                svg += #"<text x="\#(format(x))" y="\#(Int(height - 6))" font-size="9" fill="rgb(91,98,114)">\#(HTML.escape(bar.label))</text>"#
            }
        }
        return svg + "</svg>"
    }

    private static func format(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
