package sns_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/sns"
)

// subscribeURL is the fixture's SubscribeURL, up to its token.
const subscribeURL = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:123456789012:reflex-builds&Token="

// confirmation returns the subscription confirmation fixture as SNS
// posts it, with replace's changes made and signed again.
func confirmation(t *testing.T, replace ...string) *connectors.Request {
	t.Helper()
	f := fixture(t, "subscription-confirmation")
	body := f.Body
	if len(replace) > 0 {
		s := string(body)
		for i := 0; i < len(replace); i += 2 {
			if !strings.Contains(s, replace[i]) {
				t.Fatalf("the confirmation does not contain %q", replace[i])
			}
			s = strings.Replace(s, replace[i], replace[i+1], 1)
		}
		body = signed(t, s)
	}
	req := request(body)
	req.Header = f.Header.Clone()
	return req
}

// handshake offers req to a connector's Handshake with fake's client.
func handshake(c connectors.Connector, fake *fakeAWS, req *connectors.Request) (*connectors.Reply, bool, error) {
	return c.(connectors.Handshaker).Handshake(fake.ctx, req, nil)
}

// TestConfirmation: a verified confirmation of an allowed topic fetches
// its SubscribeURL exactly once, however often SNS sends it, and the
// answer names the topic and the subscription.
func TestConfirmation(t *testing.T) {
	t.Parallel()
	fake := newFakeAWS(t)
	c := newConnector()
	for i := range 3 {
		reply, ok, err := handshake(c, fake, confirmation(t))
		if err != nil || !ok {
			t.Fatalf("Handshake %d = %v, %v", i, ok, err)
		}
		if reply.Status != http.StatusOK || !strings.Contains(reply.Message, testTopic) {
			t.Errorf("Handshake %d answered %d %q", i, reply.Status, reply.Message)
		}
		if i == 0 && !strings.Contains(reply.Message, testTopic+":2bcfbf39-05c3-41de-beaa-fcfcc21c8f55") {
			t.Errorf("the answer does not name the subscription: %q", reply.Message)
		}
	}
	if n := fake.confirms.Load(); n != 1 {
		t.Errorf("the SubscribeURL was fetched %d times, want 1", n)
	}
	if host, _ := fake.lastHost.Load().(string); host != "sns.us-east-1.amazonaws.com" {
		t.Errorf("the confirmation went to %q", host)
	}
	// Without the header, the body says what the message is.
	req := confirmation(t, "165545c9-2a5c-472c-8df2-7ff2be2b3b1b", "265545c9-2a5c-472c-8df2-7ff2be2b3b1b")
	req.Header.Del(sns.HeaderMessageType)
	req.Header.Del(sns.HeaderMessageID)
	if _, ok, err := handshake(c, fake, req); !ok || err != nil || fake.confirms.Load() != 2 {
		t.Errorf("a confirmation without its header: %v, %v, %d confirmations", ok, err, fake.confirms.Load())
	}
}

// TestConfirmationRefused: a confirmation that is not to be confirmed is
// refused, and nothing is fetched: neither the certificate nor the
// SubscribeURL, when the message is refused on its face.
func TestConfirmationRefused(t *testing.T) {
	t.Parallel()
	other := map[string]any{"topic_arns": []any{"arn:aws:sns:us-east-1:123456789012:deployments"}}
	tests := []struct {
		name        string
		settings    map[string]any
		req         func(t *testing.T) *connectors.Request
		want        error
		says        string
		certFetched bool
	}{
		{name: "topic not allowed", settings: other, req: func(t *testing.T) *connectors.Request { return confirmation(t) },
			want: connectors.ErrUnauthorized, says: `the topic "arn:aws:sns:us-east-1:123456789012:reflex-builds" is not one this source takes`},
		{name: "bad signature", req: func(t *testing.T) *connectors.Request {
			r := confirmation(t)
			r.Body = []byte(strings.Replace(string(r.Body), "To confirm", "To  confirm", 1))
			return r
		}, want: connectors.ErrUnauthorized, says: "Signature does not match", certFetched: true},
		{name: "foreign SubscribeURL host", req: func(t *testing.T) *connectors.Request {
			return confirmation(t, "https://sns.us-east-1.amazonaws.com/?Action", "https://sns.example.com/?Action")
		}, want: connectors.ErrUnauthorized, says: `host "sns.example.com" is not an Amazon SNS endpoint`, certFetched: true},
		{name: "lookalike SubscribeURL host", req: func(t *testing.T) *connectors.Request {
			return confirmation(t, "https://sns.us-east-1.amazonaws.com/?Action", "https://sns.us-east-1.amazonaws.com.evil.example/?Action")
		}, want: connectors.ErrUnauthorized, says: "not an Amazon SNS endpoint", certFetched: true},
		{name: "SubscribeURL over http", req: func(t *testing.T) *connectors.Request {
			return confirmation(t, "https://sns.us-east-1.amazonaws.com/?Action", "http://sns.us-east-1.amazonaws.com/?Action")
		}, want: connectors.ErrUnauthorized, says: "not an https URL", certFetched: true},
		{name: "SubscribeURL of another region", req: func(t *testing.T) *connectors.Request {
			return confirmation(t, "https://sns.us-east-1.amazonaws.com/?Action", "https://sns.eu-west-1.amazonaws.com/?Action")
		}, want: connectors.ErrUnauthorized, says: "topic's region", certFetched: true},
		{name: "SubscribeURL of another action", req: func(t *testing.T) *connectors.Request {
			return confirmation(t, "?Action=ConfirmSubscription", "?Action=Subscribe")
		}, want: connectors.ErrUnauthorized, says: "Action is not ConfirmSubscription", certFetched: true},
		{name: "SubscribeURL of another topic", req: func(t *testing.T) *connectors.Request {
			return confirmation(t, "&TopicArn=arn:aws:sns:us-east-1:123456789012:reflex-builds&", "&TopicArn=arn:aws:sns:us-east-1:123456789012:deployments&")
		}, want: connectors.ErrUnauthorized, says: "names another topic", certFetched: true},
		{name: "SubscribeURL with another path", req: func(t *testing.T) *connectors.Request {
			return confirmation(t, "amazonaws.com/?Action", "amazonaws.com/x?Action")
		}, want: connectors.ErrUnauthorized, says: "path is not /", certFetched: true},
		{name: "stale", req: func(t *testing.T) *connectors.Request {
			return confirmation(t, "2026-01-02T03:03:30.751Z", "2026-01-01T03:03:30.751Z")
		}, want: connectors.ErrStale, says: "old"},
		{name: "header disagrees", req: func(t *testing.T) *connectors.Request {
			r := confirmation(t)
			r.Header.Set(sns.HeaderTopicArn, "arn:aws:sns:us-east-1:123456789012:deployments")
			return r
		}, want: connectors.ErrMalformed, says: "x-amz-sns-topic-arn header does not match"},
		{name: "header says confirmation, body does not", req: func(t *testing.T) *connectors.Request {
			r := request(fixture(t, "notification.ecr-push").Body)
			r.Header.Set(sns.HeaderMessageType, sns.TypeSubscriptionConfirmation)
			return r
		}, want: connectors.ErrMalformed, says: "x-amz-sns-message-type header does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := newFakeAWS(t)
			c := newConnector()
			if tt.settings != nil {
				c = configured(t, tt.settings)
			}
			reply, ok, err := handshake(c, fake, tt.req(t))
			if !ok || reply != nil || !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Handshake = %v, %v, %v; want a claimed refusal wrapping %v saying %q", reply, ok, err, tt.want, tt.says)
			}
			if n := fake.confirms.Load(); n != 0 {
				t.Errorf("the SubscribeURL was fetched %d times", n)
			}
			if fetched := fake.certFetches.Load() > 0; fetched != tt.certFetched {
				t.Errorf("certificate fetched: %v, want %v", fetched, tt.certFetched)
			}
		})
	}
}

// TestConfirmationUnavailable: SNS unreachable or failing is
// ErrUnavailable, so SNS sends the confirmation again, and the next try
// confirms; SNS refusing the token is ErrMalformed.
func TestConfirmationUnavailable(t *testing.T) {
	t.Parallel()
	fake := newFakeAWS(t)
	c := newConnector()
	fake.confirmStatus.Store(http.StatusInternalServerError)
	if _, ok, err := handshake(c, fake, confirmation(t)); !ok || !errors.Is(err, connectors.ErrUnavailable) || !strings.Contains(err.Error(), "500") {
		t.Fatalf("Handshake with SNS failing = %v, %v; want ErrUnavailable", ok, err)
	}
	if strings.Contains(confirmErr(t, c), "Token=") {
		t.Error("the error holds the SubscribeURL's token")
	}
	fake.confirmStatus.Store(0)
	if reply, ok, err := handshake(c, fake, confirmation(t)); !ok || err != nil || reply.Status != http.StatusOK {
		t.Fatalf("Handshake once SNS is back = %v, %v, %v", reply, ok, err)
	}
	if n := fake.confirms.Load(); n != 2 {
		t.Errorf("%d confirmations, want 2 (one failed, one made)", n)
	}
	// A token SNS refuses.
	fake.confirmStatus.Store(http.StatusForbidden)
	req := confirmation(t, "165545c9-2a5c-472c-8df2-7ff2be2b3b1b", "365545c9-2a5c-472c-8df2-7ff2be2b3b1b")
	req.Header.Del(sns.HeaderMessageID)
	if _, ok, err := handshake(c, fake, req); !ok || !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), "403") {
		t.Fatalf("Handshake with the token refused = %v, %v; want ErrMalformed", ok, err)
	}
}

// confirmErr returns the error of a confirmation that fails to reach SNS
// (c has the certificate already).
func confirmErr(t *testing.T, c connectors.Connector) string {
	t.Helper()
	down := newFakeAWS(t)
	down.srv.Close()
	_, _, err := c.(connectors.Handshaker).Handshake(down.ctx, confirmation(t), nil)
	if !errors.Is(err, connectors.ErrUnavailable) {
		t.Fatalf("Handshake with SNS unreachable = %v, want ErrUnavailable", err)
	}
	return err.Error()
}

// TestHandshakeLeavesMessages: notifications and unsubscribe
// confirmations go on to Verify and Parse; nothing is fetched for them.
func TestHandshakeLeavesMessages(t *testing.T) {
	t.Parallel()
	fake := newFakeAWS(t)
	c := newConnector()
	for _, name := range []string{"notification.ecr-push", "notification.text", "unsubscribe-confirmation"} {
		f := fixture(t, name)
		req := request(f.Body)
		req.Header = f.Header.Clone()
		if reply, ok, err := handshake(c, fake, req); ok || reply != nil || err != nil {
			t.Errorf("%s: Handshake = %v, %v, %v; want it left alone", name, reply, ok, err)
		}
		req.Header.Del(sns.HeaderMessageType)
		if _, ok, err := handshake(c, fake, req); ok || err != nil {
			t.Errorf("%s without its header: Handshake = %v, %v", name, ok, err)
		}
	}
	get := confirmation(t)
	get.Method = http.MethodGet
	if _, ok, err := handshake(c, fake, get); ok || err != nil {
		t.Errorf("GET: Handshake = %v, %v", ok, err)
	}
	if fake.confirms.Load()+fake.certFetches.Load() != 0 {
		t.Error("Handshake fetched something for a message it left alone")
	}
}

// TestSubscribeURLs: the SubscribeURLs a confirmation may be made at.
func TestSubscribeURLs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{subscribeURL + "2336", true},
		{"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Areflex-builds&Token=2336", true},
		{"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336", true},
		{"https://sns.us-east-1.amazonaws.com?Action=ConfirmSubscription&Token=2336", true},
		{"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + testTopic + ":1", false},
		{"https://sns.us-east-1.amazonaws.com:444/?Action=ConfirmSubscription", false},
		{"https://sns.us-east-1.amazonaws.com%2f@evil.example/?Action=ConfirmSubscription", false},
		{"https://169.254.169.254/?Action=ConfirmSubscription", false},
		{"https://localhost/?Action=ConfirmSubscription", false},
		{"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription#x", false},
	} {
		err := sns.CheckSubscribeURL(tt.url, testTopic)
		if (err == nil) != tt.ok {
			t.Errorf("%q: CheckSubscribeURL = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
}
