package sns_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/sns"
	"github.com/reflexops/reflex/event"
)

// kit is the connector under test with its fixtures, which sign
// themselves with the test key; TestMain gives it the fake SNS's client.
var kit = connectortest.Kit{
	Name:      sns.Name,
	New:       newConnector,
	Source:    "acme-sns",
	Secret:    []byte("sns-verifies-with-keys-not-secrets"),
	Presigned: true,
	WrongKeys: wrongKeys,
}

// aws is the fake SNS the kit's requests fetch certificates from.
var aws *fakeAWS

func TestMain(m *testing.M) {
	aws = startFakeAWS()
	kit.Context = aws.ctx
	code := m.Run()
	aws.srv.Close()
	os.Exit(code)
}

// TestGolden verifies and normalizes every fixture and compares the result
// field by field with its golden file. UPDATE_GOLDEN=1 rewrites the goldens.
func TestGolden(t *testing.T) { kit.Golden(t) }

// TestGoldenKinds guards the goldens themselves: the subscription
// confirmation is a ping to Parse (Handshake answers it).
func TestGoldenKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"notification.codebuild-succeeded": event.KindBuildFinished,
		"notification.ecr-push":            event.KindArtifactPublished,
		"notification.text":                event.KindUnnormalized,
		"subscription-confirmation":        "",
		"unsubscribe-confirmation":         event.KindOther,
	})
}

// replace returns a Change that replaces old with new in the body, which
// must contain it. It reports to t, the parent of the subtest that calls
// it, so it does not stop.
func replace(t *testing.T, old, new string) func(*connectors.Request) {
	return func(r *connectors.Request) {
		if !strings.Contains(string(r.Body), old) {
			t.Errorf("the body does not contain %q", old)
		}
		r.Body = []byte(strings.Replace(string(r.Body), old, new, 1))
	}
}

// resigned returns a Change that replaces old with new in the body and
// signs it again with the test key, so that only what the change made
// wrong is.
func resigned(t *testing.T, old, new string) func(*connectors.Request) {
	return func(r *connectors.Request) {
		replace(t, old, new)(r)
		body, err := sns.Resign(r.Body, testKey)
		if err != nil {
			t.Errorf("sign: %v", err)
			return
		}
		r.Body = body
	}
}

// TestRefusals: what Verify (or Parse) must refuse, each with a message
// that says what is wrong.
func TestRefusals(t *testing.T) {
	const certURL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem"
	const ts = "2026-01-02T03:03:42.087Z"
	unauthorized, malformed := connectors.ErrUnauthorized, connectors.ErrMalformed
	kit.Refusals(t, []connectortest.Refusal{
		// The certificate's host, even for a message the test key signed
		// (the fake SNS would serve the certificate anywhere).
		{Name: "certificate on a foreign host", Fixture: "notification.ecr-push", Change: resigned(t, certURL, "https://certs.example.com/SimpleNotificationService.pem"), Want: unauthorized, Says: `host "certs.example.com" is not an Amazon SNS endpoint`},
		{Name: "certificate over http", Fixture: "notification.ecr-push", Change: resigned(t, certURL, strings.Replace(certURL, "https:", "http:", 1)), Want: unauthorized, Says: "not an https URL"},
		{Name: "certificate on a lookalike host", Fixture: "notification.ecr-push", Change: resigned(t, "amazonaws.com/", "amazonaws.com.evil.example/"), Want: unauthorized, Says: "not an Amazon SNS endpoint"},
		{Name: "certificate on a port", Fixture: "notification.ecr-push", Change: resigned(t, "amazonaws.com/", "amazonaws.com:8443/"), Want: unauthorized, Says: "not an https URL on an Amazon SNS endpoint"},
		{Name: "certificate behind user information", Fixture: "notification.ecr-push", Change: resigned(t, "https://sns.us-east-1.amazonaws.com/", "https://sns.us-east-1.amazonaws.com@evil.example/"), Want: unauthorized, Says: "not a plain URL"},
		{Name: "certificate in an S3 bucket named sns", Fixture: "notification.ecr-push", Change: resigned(t, "sns.us-east-1.amazonaws.com", "sns.s3-us-west-2.amazonaws.com"), Want: unauthorized, Says: "not an Amazon SNS endpoint"},
		{Name: "certificate not a .pem", Fixture: "notification.ecr-push", Change: resigned(t, ".pem", ".pem?x=1"), Want: unauthorized, Says: "not a certificate"},
		// The signature.
		{Name: "bad signature", Fixture: "notification.ecr-push", Change: func(r *connectors.Request) {
			i := strings.Index(string(r.Body), `"Signature" : "`) + len(`"Signature" : "`)
			b := []byte(string(r.Body))
			b[i] ^= 'A' ^ 'B'
			if b[i] == r.Body[i] {
				b[i] = 'C'
			}
			r.Body = b
		}, Want: unauthorized, Says: "Signature does not match"},
		{Name: "changed message", Fixture: "notification.codebuild-succeeded", Change: replace(t, `\"build-status\":\"SUCCEEDED\"`, `\"build-status\":\"FAILED\"`), Want: unauthorized, Says: "Signature does not match"},
		{Name: "changed subject", Fixture: "notification.text", Change: replace(t, `approved"`, `rejected"`), Want: unauthorized, Says: "Signature does not match"},
		{Name: "subject removed", Fixture: "notification.text", Change: replace(t, `"Subject" : "Release \"v1.4.2\" approved",`, ""), Want: unauthorized, Says: "Signature does not match"},
		{Name: "subject added", Fixture: "notification.ecr-push", Change: replace(t, `"Message" :`, `"Subject" : "", "Message" :`), Want: unauthorized, Says: "Signature does not match"},
		{Name: "changed token", Fixture: "unsubscribe-confirmation", Change: replace(t, `"Token" : "2336`, `"Token" : "2337`), Want: unauthorized, Says: "Signature does not match"},
		{Name: "another signature version", Fixture: "notification.ecr-push", Change: replace(t, `"SignatureVersion" : "2"`, `"SignatureVersion" : "1"`), Want: unauthorized, Says: "Signature does not match"},
		{Name: "signature version 3", Fixture: "notification.ecr-push", Change: replace(t, `"SignatureVersion" : "2"`, `"SignatureVersion" : "3"`), Want: unauthorized, Says: "SignatureVersion is neither 1 nor 2"},
		{Name: "no signature", Fixture: "notification.ecr-push", Change: func(r *connectors.Request) { r.Body = signatureOf.ReplaceAll(r.Body, []byte(`${1}${3}`)) }, Want: unauthorized, Says: "no Signature"},
		{Name: "signature not base64", Fixture: "notification.ecr-push", Change: func(r *connectors.Request) { r.Body = signatureOf.ReplaceAll(r.Body, []byte(`${1}!!!!${3}`)) }, Want: unauthorized, Says: "Signature is not base64"},
		// The topic.
		{Name: "topic not allowed", Fixture: "notification.ecr-push", Change: func(r *connectors.Request) {
			resigned(t, `"TopicArn" : "arn:aws:sns:us-east-1:123456789012:reflex-builds"`, `"TopicArn" : "arn:aws:sns:us-east-1:123456789012:other"`)(r)
			r.Header.Del("x-amz-sns-topic-arn")
		}, Want: unauthorized, Says: `topic "arn:aws:sns:us-east-1:123456789012:other" is not one this source takes messages from`},
		// The timestamp.
		{Name: "stale timestamp", Fixture: "notification.ecr-push", Change: resigned(t, ts, "2026-01-02T01:04:04.000Z"), Want: connectors.ErrStale, Says: "2h0m1s old"},
		{Name: "timestamp in the future", Fixture: "notification.ecr-push", Change: resigned(t, ts, "2026-01-02T05:04:06.000Z"), Want: connectors.ErrStale, Says: "in the future"},
		{Name: "replayed late", Fixture: "notification.ecr-push", Change: func(r *connectors.Request) { r.ReceivedAt = r.ReceivedAt.Add(61 * time.Minute) }, Want: connectors.ErrStale, Says: "more than the 1h0m0s allowed"},
		{Name: "timestamp unreadable", Fixture: "notification.ecr-push", Change: resigned(t, ts, "Fri, 02 Jan 2026 03:03:42 GMT"), Want: unauthorized, Says: "not an RFC 3339 time"},
		// What surrounds the message.
		{Name: "raw message delivery", Fixture: "notification.ecr-push", Change: func(r *connectors.Request) { r.Header.Set("x-amz-sns-rawdelivery", "true") }, Want: unauthorized, Says: "raw message delivery carries no signature"},
		{Name: "message type header disagrees", Fixture: "notification.ecr-push", Change: func(r *connectors.Request) { r.Header.Set("x-amz-sns-message-type", "UnsubscribeConfirmation") }, Want: malformed, Says: "x-amz-sns-message-type header does not match the message's Type"},
		{Name: "topic header disagrees", Fixture: "notification.ecr-push", Change: func(r *connectors.Request) {
			r.Header.Set("x-amz-sns-topic-arn", "arn:aws:sns:us-east-1:123456789012:other")
		}, Want: malformed, Says: "x-amz-sns-topic-arn header does not match"},
		{Name: "not JSON", Fixture: "notification.ecr-push", Change: func(r *connectors.Request) { r.Body = []byte("Type=Notification") }, Want: malformed, Says: "not an SNS message"},
		{Name: "no type", Fixture: "notification.ecr-push", Change: func(r *connectors.Request) { r.Body = []byte(`{"Message":"x"}`) }, Want: malformed, Says: "it has no Type"},
		{Name: "unknown type", Fixture: "notification.ecr-push", Change: func(r *connectors.Request) {
			r.Body = []byte(`{"Type":"Ping"}`)
			r.Header.Del("x-amz-sns-message-type")
		}, Want: malformed, Says: "Type is none of"},
		{Name: "confirmation without token", Fixture: "unsubscribe-confirmation", Change: replace(t, `"Token" : "`, `"Tokens" : "`), Want: malformed, Says: "no SubscribeURL or no Token"},
		// What Parse refuses of a verified message.
		{Name: "message id with a slash", Fixture: "notification.ecr-push", Change: func(r *connectors.Request) {
			resigned(t, "6a1f3c5e-7b9d-4e2f-8a0c-1d3e5f7a9b2c", "6a1f3c5e/../x")(r)
			r.Header.Del("x-amz-sns-message-id")
		}, Want: malformed, Says: "MessageId may hold only"},
		{Name: "event of the wrong shape", Fixture: "notification.ecr-push", Change: resigned(t, `\"image-tag\":\"v1.4.2\"`, `\"image-tag\":7`), Want: malformed, Says: "the ECR Image Action event does not have the documented shape"},
		{Name: "detail-type with a newline", Fixture: "notification.ecr-push", Change: resigned(t, `ECR Image Action`, `ECR\\nImage Action`), Want: malformed, Says: "detail-type may hold only"},
	})
}
