import HTTPTypes
import SwitchyardOutbound
import SwitchyardProviders

extension SwitchyardOutbound.RateLimitHeaders {
    /// The outbound limiter's view of a provider's rate-limit headers; the standard names when it declares none.
    public init(_ declared: SwitchyardProviders.RateLimitHeaders?) {
        guard let declared else {
            self = .standard
            return
        }
        let standard = SwitchyardOutbound.RateLimitHeaders.standard
        let format: ResetFormat =
            switch declared.resetFormat {
            case .epochSeconds: .epochSeconds
            case .deltaSeconds: .deltaSeconds
            case .epochMilliseconds, .timestamp, nil: .automatic
            }
        func name(_ text: String?, _ fallback: HTTPField.Name) -> HTTPField.Name {
            guard let text, let name = HTTPField.Name(text) else { return fallback }
            return name
        }
        self.init(
            limit: name(declared.limit, standard.limit),
            remaining: name(declared.remaining, standard.remaining),
            reset: name(declared.reset, standard.reset),
            resetFormat: format
        )
    }
}
