import Foundation
import HTTPTypes
import Logging
import SwitchyardCore
import SwitchyardOutbound

extension TokenEndpointClient {
    /// The resources a new access token can reach, from a provider endpoint that lists them as a JSON array
    /// (Atlassian's `accessible-resources`), each reduced to the text of `field`.
    func lookUpResources(url: String, field: String, accessToken: String, caller: Caller, logger: Logger) async throws(TokenEndpointError) -> [String]
    {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(accessToken)"
        headers[.accept] = "application/json"
        let response: OutboundResponse
        do {
            response = try await outbound.send(
                OutboundRequest(method: .get, url: url, headers: headers, provider: caller.providerLabel, key: caller.key),
                logger: logger
            )
        } catch let error as OutboundError {
            throw .unavailable(reason: error.description)
        } catch {
            throw .unavailable(reason: "the request was cancelled")
        }
        guard response.status.code == 200 else { throw .unavailable(reason: "the resource list answered HTTP \(response.status.code)") }
        guard let resources = try? JSONDecoder().decode([[String: JSONValue]].self, from: Data(response.body.readableBytesView)) else {
            throw .malformedResponse(reason: "the resource list is not a JSON array of objects")
        }
        return resources.compactMap { $0[field]?.text }
    }
}
