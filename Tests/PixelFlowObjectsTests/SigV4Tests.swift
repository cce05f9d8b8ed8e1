import Crypto
import Foundation
import Testing

@testable import PixelFlowObjects

/// The signer against AWS's published Signature V4 vectors: the generic test suite (service "service", 2015-08-30)
/// and the S3 examples of the S3 API reference (2013-05-24).
@Suite struct SigV4Tests {
    static let suite = SigV4(
        credentials: ObjectStoreCredentials(
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "service")
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

    static let s3 = SigV4(
        credentials: ObjectStoreCredentials(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")
    static let s3Date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z

    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var method = "GET"
        var path = "/"
        var query: [String] = []
        var headers: [String] = []
        var body = ""
        var signedHeaders = "host;x-amz-date"
        var signature: String
        var testDescription: String { name }

        var request: SigV4.Request {
            let pairs = { (text: String, separator: Character) -> (String, String) in
                let parts = text.split(separator: separator, maxSplits: 1, omittingEmptySubsequences: false)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }
            return SigV4.Request(
                method: method, path: path, query: query.map { pairs($0, "=") },
                headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")]
                    + headers.map { pairs($0, ":") })
        }
    }

    static let vectors: [Vector] = [
        Vector(name: "get-vanilla", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(
            name: "get-unreserved", path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
        Vector(
            name: "get-vanilla-query-order-key-case", query: ["Param2=value2", "Param1=value1"],
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        Vector(
            name: "get-vanilla-query-order-value", query: ["Param1=value2", "Param1=value1"],
            signature: "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"),
        Vector(
            name: "get-vanilla-utf8-query", query: ["\u{1234}=bar"],
            signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
        Vector(
            name: "get-header-value-order",
            headers: ["My-Header1:value4", "My-Header1:value1", "My-Header1:value3", "My-Header1:value2"],
            signedHeaders: "host;my-header1;x-amz-date",
            signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
        Vector(
            name: "get-header-key-duplicate", headers: ["My-Header1:value2", "My-Header1:value2", "My-Header1:value1"],
            signedHeaders: "host;my-header1;x-amz-date",
            signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
        Vector(
            name: "get-header-value-trim", headers: ["My-Header1: value1", "My-Header2:\"a   b   c\""],
            signedHeaders: "host;my-header1;my-header2;x-amz-date",
            signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
        Vector(
            name: "post-x-www-form-urlencoded", method: "POST",
            headers: ["Content-Type:application/x-www-form-urlencoded"], body: "Param1=value1",
            signedHeaders: "content-type;host;x-amz-date",
            signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
    ]

    static func sha256Hex(_ text: String) -> String { SigV4.hex(SHA256.hash(data: Data(text.utf8))) }

    @Test(arguments: vectors)
    func aSuiteVectorSignsToItsPublishedAuthorization(_ vector: Vector) {
        let signed = Self.suite.sign(vector.request, payloadHash: Self.sha256Hex(vector.body), date: Self.suiteDate)
        #expect(
            Self.suite.authorization(signed)
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=\(vector.signedHeaders), Signature=\(vector.signature)",
            "\(vector.name):\n\(signed.canonicalRequest)")
    }

    @Test func theIntermediateStringsAreThePublishedOnes() {
        let query = Self.vectors[2]
        let signed = Self.suite.sign(query.request, payloadHash: SigV4.emptyPayloadHash, date: Self.suiteDate)
        #expect(
            signed.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2]
                == "Param1=value1&Param2=value2")
        #expect(
            Self.sha256Hex(signed.canonicalRequest)
                == "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0")
        let post = Self.vectors[8]
        let posted = Self.suite.sign(post.request, payloadHash: Self.sha256Hex(post.body), date: Self.suiteDate)
        #expect(
            posted.stringToSign
                == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                + "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281")
    }

    @Test func theS3ReferenceGetObjectExample() {
        let request = SigV4.Request(
            method: "GET", path: "/test.txt",
            headers: [
                ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
                ("x-amz-content-sha256", SigV4.emptyPayloadHash), ("x-amz-date", "20130524T000000Z"),
            ])
        let signed = Self.s3.sign(request, payloadHash: SigV4.emptyPayloadHash, date: Self.s3Date)
        #expect(
            Self.sha256Hex(signed.canonicalRequest)
                == "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func theS3ReferencePresignedURLExample() {
        let query = Self.s3.presignedQuery(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", expires: 86_400, date: Self.s3Date
        )
        #expect(
            query
                == "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test func objectKeysAreEncodedOnceAndNeverNormalised() {
        #expect(SigV4.canonicalURI("/bucket/a b/ሴ/../x+y") == "/bucket/a%20b/%E1%88%B4/../x%2By")
        #expect(SigV4.canonicalURI("") == "/")
        #expect(SigV4.canonicalQuery([("b", ""), ("a", "1=2"), ("a", "0")]) == "a=0&a=1%3D2&b=")
        #expect(SigV4.amzDate(Self.suiteDate) == "20150830T123600Z")
    }
}
