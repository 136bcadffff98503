package sns_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/sns"
)

// request returns a message received at the kit's time, with the
// headers SNS sends with it.
func request(body []byte) *connectors.Request {
	h := http.Header{}
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	return &connectors.Request{Source: "s", Method: http.MethodPost, Header: h, Body: body, ReceivedAt: connectortest.ReceivedAt}
}

// TestStringToSign: the strings to sign of AWS's documented examples
// (sns-verify-signature-of-message.md), byte for byte.
func TestStringToSign(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body, want string }{
		{
			name: "notification with a subject",
			body: `{"Type":"Notification","MessageId":"4d4dc071-ddbf-465d-bba8-08f81c89da64","TopicArn":"arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P","Subject":"My subject","Message":"My Test Message","Timestamp":"2019-01-31T04:37:04.321Z","SignatureVersion":"1","Signature":"x","SigningCertURL":"https://sns.us-east-2.amazonaws.com/x.pem","UnsubscribeURL":"https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe"}`,
			want: "Message\nMy Test Message\nMessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\nSubject\nMy subject\nTimestamp\n2019-01-31T04:37:04.321Z\nTopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\nType\nNotification\n",
		},
		{
			name: "notification without a subject",
			body: `{"Type":"Notification","MessageId":"m1","TopicArn":"arn:aws:sns:us-east-2:123456789012:t","Message":"line 1\nline \"2\"","Timestamp":"2019-01-31T04:37:04.321Z"}`,
			want: "Message\nline 1\nline \"2\"\nMessageId\nm1\nTimestamp\n2019-01-31T04:37:04.321Z\nTopicArn\narn:aws:sns:us-east-2:123456789012:t\nType\nNotification\n",
		},
		{
			name: "notification with an empty subject",
			body: `{"Type":"Notification","MessageId":"m1","TopicArn":"t","Subject":"","Message":"x","Timestamp":"ts"}`,
			want: "Message\nx\nMessageId\nm1\nSubject\n\nTimestamp\nts\nTopicArn\nt\nType\nNotification\n",
		},
		{
			name: "subscription confirmation",
			body: `{"Type":"SubscriptionConfirmation","MessageId":"3d891288-136d-417f-bc05-901c108273ee","Token":"233...","TopicArn":"arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P","Message":"My Test Message","SubscribeURL":"https://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P&Token=233...","Timestamp":"2019-01-31T19:25:13.719Z","Subject":"ignored"}`,
			want: "Message\nMy Test Message\nMessageId\n3d891288-136d-417f-bc05-901c108273ee\nSubscribeURL\nhttps://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P&Token=233...\nTimestamp\n2019-01-31T19:25:13.719Z\nToken\n233...\nTopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\nType\nSubscriptionConfirmation\n",
		},
	}
	for _, tt := range tests {
		got, err := sns.StringToSign([]byte(tt.body))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got != tt.want {
			t.Errorf("%s: string to sign\n%q\nwant\n%q", tt.name, got, tt.want)
		}
	}
}

// TestSignatureVersions: version 1 (SHA1withRSA) and 2 (SHA256withRSA)
// both verify, each only as what it says it is, and version 1 is refused
// when the settings say so.
func TestSignatureVersions(t *testing.T) {
	t.Parallel()
	f := fixture(t, "notification.ecr-push")
	v2 := f.Body
	v1 := signed(t, strings.Replace(string(v2), `"SignatureVersion" : "2"`, `"SignatureVersion" : "1"`, 1))
	// A version 2 signature presented as version 1, and the reverse.
	v2as1 := []byte(strings.Replace(string(v2), `"SignatureVersion" : "2"`, `"SignatureVersion" : "1"`, 1))
	v1as2 := []byte(strings.Replace(string(v1), `"SignatureVersion" : "1"`, `"SignatureVersion" : "2"`, 1))
	strict := map[string]any{"topic_arns": []any{testTopic}, "allow_signature_version_1": false}
	tests := []struct {
		name     string
		settings map[string]any
		body     []byte
		wantErr  string
	}{
		{name: "version 2", body: v2},
		{name: "version 1", body: v1},
		{name: "version 2 presented as 1", body: v2as1, wantErr: "Signature does not match"},
		{name: "version 1 presented as 2", body: v1as2, wantErr: "Signature does not match"},
		{name: "version 2, version 1 refused", settings: strict, body: v2},
		{name: "version 1 refused", settings: strict, body: v1, wantErr: "allow_signature_version_1"},
	}
	for _, tt := range tests {
		settings := tt.settings
		if settings == nil {
			settings = map[string]any{"topic_arns": []any{testTopic}}
		}
		err := configured(t, settings).Verify(aws.ctx, request(tt.body), nil)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%s: Verify: %v", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: Verify = %v, want ErrUnauthorized saying %q", tt.name, err, tt.wantErr)
		}
	}
}

// TestCertURLs: the certificate URLs checked before anything is fetched.
func TestCertURLs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem", true},
		{"https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-01d088a6f77103d0fe307c0069e40ed6.pem", true},
		{"https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-x.pem", true},
		{"https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem", true},
		{"https://sns.ap-southeast-2.amazonaws.com/a/b.pem", true},
		{"http://sns.us-east-1.amazonaws.com/x.pem", false},
		{"https://sns.us-east-1.amazonaws.com.evil.example/x.pem", false},
		{"https://sns.us-east-1.amazonaws.com:443/x.pem", false},
		{"https://sns.us-east-1.amazonaws.com:8443/x.pem", false},
		{"https://evil.example/sns.us-east-1.amazonaws.com/x.pem", false},
		{"https://user@sns.us-east-1.amazonaws.com/x.pem", false},
		{"https://sns.us-east-1.amazonaws.com@evil.example/x.pem", false},
		{"https://sns.us-east-1.amazonaws.com%2eevil.example/x.pem", false},
		{"https://sns.us-east-1.amazonaws.com\\@evil.example/x.pem", false},
		{"https://sns.s3-us-west-2.amazonaws.com/x.pem", false},
		{"https://sns.s3.amazonaws.com/x.pem", false},
		{"https://sns.s3-accelerate.amazonaws.com/x.pem", false},
		{"https://SNS.us-east-1.amazonaws.com/x.pem", false},
		{"https://sns.us-east-1.amazonaws.com/x.pem?", false},
		{"https://sns.us-east-1.amazonaws.com/x.pem?a=b", false},
		{"https://sns.us-east-1.amazonaws.com/x.pem#f", false},
		{"https://sns.us-east-1.amazonaws.com/x.txt", false},
		{"https://sns.us-east-1.amazonaws.com/x.pem/", false},
		{"https://sns.us-east-1.amazonaws.com/x .pem", false},
		{"https:sns.us-east-1.amazonaws.com/x.pem", false},
		{"//sns.us-east-1.amazonaws.com/x.pem", false},
		{"https://sns.amazonaws.com/x.pem", false},
		{"", false},
	} {
		err := sns.CheckCertURL(tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("%q: CheckCertURL = %v, want ok %v", tt.url, err, tt.ok)
		}
		if err != nil && !errors.Is(err, connectors.ErrUnauthorized) {
			t.Errorf("%q: %v does not wrap ErrUnauthorized", tt.url, err)
		}
	}
}

// TestCertificateFetchedOnce: however many messages, the certificate is
// fetched once per cache period, by one request for concurrent ones.
func TestCertificateFetchedOnce(t *testing.T) {
	t.Parallel()
	fake := newFakeAWS(t)
	c := newConnector()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for _, name := range []string{"notification.ecr-push", "notification.codebuild-succeeded", "unsubscribe-confirmation"} {
				if err := c.Verify(fake.ctx, request(fixture(t, name).Body), nil); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
		})
	}
	wg.Wait()
	if n := fake.certFetches.Load(); n != 1 {
		t.Errorf("the certificate was fetched %d times, want 1", n)
	}
	if host, _ := fake.lastHost.Load().(string); host != "sns.us-east-1.amazonaws.com" {
		t.Errorf("the certificate was asked of %q", host)
	}
}

// TestCertificateEndpointDown: a certificate that cannot be had is
// ErrUnavailable (503, SNS delivers again), never ErrUnauthorized, and
// the message verifies once the endpoint is back.
func TestCertificateEndpointDown(t *testing.T) {
	t.Parallel()
	fake := newFakeAWS(t)
	c := newConnector()
	now := time.Now()
	sns.SetClock(c, func() time.Time { return now })
	body := fixture(t, "notification.codebuild-succeeded").Body
	fake.down.Store(true)
	err := c.Verify(fake.ctx, request(body), nil)
	if !errors.Is(err, connectors.ErrUnavailable) || errors.Is(err, connectors.ErrUnauthorized) {
		t.Fatalf("Verify with SNS down = %v, want ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "sns.us-east-1.amazonaws.com") || !strings.Contains(err.Error(), "503") {
		t.Errorf("the error does not say which host failed how: %v", err)
	}
	fake.down.Store(false)
	// The failure is remembered for a few seconds: no fetch per message.
	if err := c.Verify(fake.ctx, request(body), nil); !errors.Is(err, connectors.ErrUnavailable) || fake.certFetches.Load() != 0 {
		t.Fatalf("Verify right after the failure = %v after %d fetches, want ErrUnavailable and none", err, fake.certFetches.Load())
	}
	now = now.Add(10 * time.Second)
	if err := c.Verify(fake.ctx, request(body), nil); err != nil {
		t.Fatalf("Verify once SNS is back: %v", err)
	}
	if n := fake.certFetches.Load(); n != 1 {
		t.Errorf("%d certificate fetches, want 1", n)
	}
}

// TestCertificateNotFound: a certificate URL on SNS's host that serves
// nothing is ErrUnavailable, and past a few such URLs a minute, new URLs
// are not even fetched.
func TestCertificateNotFound(t *testing.T) {
	t.Parallel()
	fake := newFakeAWS(t)
	c := newConnector()
	body := string(fixture(t, "notification.ecr-push").Body)
	fetched := 0
	for i := range 40 {
		b := signed(t, strings.Replace(body, "9c6465fa7f48f5cacd23014631ec1136.pem", "missing-"+string(rune('a'+i%26))+string(rune('a'+i/26))+".txt.pem", 1))
		// The fake serves every .pem: make this one fail.
		fake.down.Store(true)
		err := c.Verify(fake.ctx, request(b), nil)
		if !errors.Is(err, connectors.ErrUnavailable) {
			t.Fatalf("message %d: Verify = %v, want ErrUnavailable", i, err)
		}
		if strings.Contains(err.Error(), "not fetched before") {
			continue
		}
		fetched++
	}
	if fetched != 16 {
		t.Errorf("%d certificate URLs fetched in a minute, want 16", fetched)
	}
	// A certificate fetched before is still used.
	fake.down.Store(false)
	fresh := newConnector()
	if err := fresh.Verify(fake.ctx, request([]byte(body)), nil); err != nil {
		t.Fatal(err)
	}
}

// TestCertificateValidity: a message received outside the validity of
// its certificate (the test certificate's ends in 2045) is refused.
func TestCertificateValidity(t *testing.T) {
	t.Parallel()
	later := time.Date(2046, 1, 2, 3, 4, 5, 0, time.UTC)
	body := signed(t, strings.Replace(string(fixture(t, "notification.ecr-push").Body), "2026-01-02T03:03:42.087Z", "2046-01-02T03:04:00.000Z", 1))
	req := request(body)
	req.ReceivedAt = later
	err := newConnector().Verify(aws.ctx, req, nil)
	if !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), "not valid at the receive time") {
		t.Fatalf("Verify = %v, want the certificate refused", err)
	}
}

// TestNoTopicNoMessage: a connector that names no topic (New's) accepts
// nothing, and fetches nothing.
func TestNoTopicNoMessage(t *testing.T) {
	t.Parallel()
	fake := newFakeAWS(t)
	c := sns.New()
	if c.(connectors.KeyHolder).HasKeys() {
		t.Error("HasKeys without topics")
	}
	err := c.Verify(fake.ctx, request(fixture(t, "notification.ecr-push").Body), nil)
	if !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), "settings.topic_arns") {
		t.Fatalf("Verify = %v", err)
	}
	if fake.certFetches.Load() != 0 {
		t.Error("a certificate was fetched for a source that trusts no topic")
	}
	if !newConnector().(connectors.KeyHolder).HasKeys() {
		t.Error("no HasKeys with topics")
	}
}

// TestTopicRefusedBeforeFetch: a message of a topic the source does not
// take fetches nothing, whatever its certificate URL.
func TestTopicRefusedBeforeFetch(t *testing.T) {
	t.Parallel()
	fake := newFakeAWS(t)
	c := configured(t, map[string]any{"topic_arns": []any{"arn:aws:sns:us-east-1:123456789012:deployments"}})
	err := c.Verify(fake.ctx, request(fixture(t, "notification.ecr-push").Body), nil)
	if !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), testTopic) {
		t.Fatalf("Verify = %v, want a refusal naming the topic", err)
	}
	if fake.certFetches.Load() != 0 {
		t.Error("a certificate was fetched for a topic the source does not take")
	}
}

// TestTolerance: settings.tolerance bounds a message's age.
func TestTolerance(t *testing.T) {
	t.Parallel()
	c := configured(t, map[string]any{"topic_arns": []any{testTopic}, "tolerance": "5m"})
	req := request(fixture(t, "notification.ecr-push").Body) // 23 s old
	if err := c.Verify(aws.ctx, req, nil); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	req.ReceivedAt = req.ReceivedAt.Add(5 * time.Minute)
	if err := c.Verify(aws.ctx, req, nil); !errors.Is(err, connectors.ErrStale) {
		t.Fatalf("Verify of a message 5m23s old = %v, want ErrStale", err)
	}
}

// TestVerifyIgnoresSecrets: the source's secrets neither help nor hurt.
func TestVerifyIgnoresSecrets(t *testing.T) {
	t.Parallel()
	body := fixture(t, "notification.ecr-push").Body
	for _, secrets := range [][][]byte{nil, {}, {{}}, {[]byte("anything")}} {
		if err := newConnector().Verify(aws.ctx, request(body), secrets); err != nil {
			t.Errorf("secrets %q: %v", secrets, err)
		}
	}
	if err := wrongKeys().Verify(context.Background(), request(body), [][]byte{kit.Secret}); err == nil {
		t.Error("a connector that does not trust the test key verified its message")
	}
}

// TestAmbiguousMembers: a genuinely signed message rewritten so that the
// decoder reads the signed value while the stored body offers another
// under the field's name (a repeated name, or the name in another case)
// is refused, whichever comes first.
func TestAmbiguousMembers(t *testing.T) {
	t.Parallel()
	body := string(fixture(t, "notification.ecr-push").Body)
	if err := newConnector().Verify(aws.ctx, request([]byte(body)), nil); err != nil {
		t.Fatalf("the genuine message: %v", err)
	}
	i := strings.Index(body, `"Message"`)
	if i < 0 {
		t.Fatal("the fixture has no Message")
	}
	evil := `"Message" : "{\"EVIL\":true}", `
	for name, forged := range map[string]string{
		"another case after":   body[:i] + evil + `"message"` + body[i+len(`"Message"`):],
		"repeated, last wins":  body[:i] + evil + body[i:],
		"repeated, first read": strings.Replace(body, `"Type"`, `"Message" : "{\"EVIL\":true}", "Type"`, 1),
		"another case alone":   body[:i] + `"message"` + body[i+len(`"Message"`):],
	} {
		err := newConnector().Verify(aws.ctx, request([]byte(forged)), nil)
		if !errors.Is(err, connectors.ErrMalformed) && !errors.Is(err, connectors.ErrUnauthorized) {
			t.Errorf("%s: Verify = %v, want a refusal", name, err)
		}
	}
}
