import Crypto
import Foundation
import SwitchyardCore
import Testing

@testable import SwitchyardVault

/// SigV4 against AWS's published Signature Version 4 test suite (credentials `AKIDEXAMPLE`, 2015-08-30T12:36:00Z,
/// us-east-1, service `service`) and the documented signing-key derivation example.
@Suite("AWS SigV4 signing against the published test vectors")
struct SigV4Tests {
    static let signer = SigV4Signer(
        credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1",
        service: "service"
    )
    static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    static let host = ("host", "example.amazonaws.com")
    static let scope = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"

    static func authorization(_ signed: [(String, String)]) -> String? { signed.first { $0.0 == "authorization" }?.1 }

    @Test("get-vanilla, post-vanilla and get-vanilla-query-order-key-case")
    func vanilla() {
        let get = Self.signer.sign(method: "GET", path: "/", headers: [Self.host], body: [UInt8](), date: Self.date)
        #expect(get.first { $0.0 == "x-amz-date" }?.1 == "20150830T123600Z")
        #expect(
            Self.authorization(get)
                == "\(Self.scope), SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        )
        let post = Self.signer.sign(method: "POST", path: "/", headers: [Self.host], body: [UInt8](), date: Self.date)
        #expect(
            Self.authorization(post)
                == "\(Self.scope), SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        )
        let query = Self.signer.sign(
            method: "GET",
            path: "/",
            query: [("Param2", "value2"), ("Param1", "value1")],
            headers: [Self.host],
            body: [UInt8](),
            date: Self.date
        )
        #expect(
            Self.authorization(query)
                == "\(Self.scope), SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        )
    }

    @Test("post-x-www-form-urlencoded: a body and a signed content type, with the published canonical request")
    func bodyAndContentType() {
        let headers = [("Content-Type", "application/x-www-form-urlencoded"), Self.host, ("X-Amz-Date", "20150830T123600Z")]
        let canonical = Self.signer.canonicalRequest(method: "POST", path: "/", query: [], headers: headers, body: Array("Param1=value1".utf8))
        #expect(
            canonical.request
                == "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                + "content-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
        )
        let signed = Self.signer.sign(
            method: "POST",
            path: "/",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), Self.host],
            body: Array("Param1=value1".utf8),
            date: Self.date
        )
        #expect(
            Self.authorization(signed)
                == "\(Self.scope), SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
        )
    }

    @Test("post-sts-header-before: a session token is sent and signed")
    func sessionToken() {
        let token =
            "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/"
            + "kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqB"
            + "Az+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: token),
            region: "us-east-1",
            service: "service"
        )
        let signed = signer.sign(method: "POST", path: "/", headers: [Self.host], body: [UInt8](), date: Self.date)
        #expect(signed.first { $0.0 == "x-amz-security-token" }?.1 == token)
        #expect(
            Self.authorization(signed)
                == "\(Self.scope), SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
        )
    }

    @Test("the signing key of AWS's derivation example (20120215, us-east-1, iam)")
    func signingKey() {
        let signer = SigV4Signer(credentials: Self.signer.credentials, region: "us-east-1", service: "iam")
        let key = signer.signingKey(day: "20120215").withUnsafeBytes { SigV4Signer.hex(Array($0)) }
        #expect(key == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    @Test("the credentials never print their secret")
    func credentialsRedacted() {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "tok")
        for text in ["\(credentials)", String(reflecting: credentials)] {
            #expect(!text.contains("wJalrXUtnFEMI") && !text.contains("tok"), "\(text)")
        }
    }
}
