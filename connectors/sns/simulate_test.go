package sns_test

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/sns"
	"github.com/reflexops/reflex/fixtures"
)

// TestSimulatorRecorded: a recorded message is sent as it is, with the
// headers SNS sends, and still verifies; its event type is Parse's.
func TestSimulatorRecorded(t *testing.T) {
	t.Parallel()
	c := newConnector()
	sim := c.(connectors.Simulator)
	for _, f := range kit.Fixtures(t) {
		typ := sim.EventType(f.Header, f.Body)
		h, body := sim.Delivery(typ, "ignored", f.Body)
		if !bytes.Equal(body, f.Body) || &body[0] == &f.Body[0] {
			t.Errorf("%s: Delivery changed the recorded message, or did not copy it", f.Name)
		}
		for _, name := range []string{sns.HeaderMessageType, sns.HeaderMessageID, sns.HeaderTopicArn, "Content-Type", "User-Agent"} {
			if h.Get(name) != f.Header.Get(name) {
				t.Errorf("%s: Delivery's %s is %q, recorded %q", f.Name, name, h.Get(name), f.Header.Get(name))
			}
		}
		// A secret that is no key changes nothing.
		sim.Sign(h, body, kit.Secret)
		if !bytes.Equal(body, f.Body) {
			t.Errorf("%s: Sign with a secret changed the body", f.Name)
		}
		req := request(body)
		req.Header = h
		if err := c.Verify(aws.ctx, req, nil); err != nil {
			t.Fatalf("%s: Verify: %v", f.Name, err)
		}
		res, err := c.Parse(req)
		if err != nil {
			t.Fatalf("%s: Parse: %v", f.Name, err)
		}
		if res.Ping {
			if typ != sns.TypeSubscriptionConfirmation {
				t.Errorf("%s: a ping of type %q", f.Name, typ)
			}
			continue
		}
		if res.Event.Type != typ {
			t.Errorf("%s: EventType %q, Parse's type %q", f.Name, typ, res.Event.Type)
		}
	}
}

// TestSimulatorNotification: any other payload becomes a notification
// that Sign signs with a PEM key, in place, and that then verifies and
// parses with the id and type asked for.
func TestSimulatorNotification(t *testing.T) {
	t.Parallel()
	c := newConnector()
	sim := c.(connectors.Simulator)
	ecr, err := fixtures.Get("eventbridge", "ecr.push")
	if err != nil {
		t.Skip("no eventbridge fixtures:", err)
	}
	for _, tt := range []struct {
		name, typ string
		payload   []byte
		want      string
	}{
		{name: "EventBridge event", typ: "ECR Image Action", payload: ecr.Body, want: "ECR Image Action"},
		{name: "another detail-type", typ: "ECR Image Scan", payload: ecr.Body, want: "ECR Image Scan"},
		{name: "text", typ: "", payload: []byte("hello"), want: sns.TypeNotification},
	} {
		h, body := sim.Delivery(tt.typ, "5a0c4b1e-load-17", tt.payload)
		if h.Get(sns.HeaderMessageType) != sns.TypeNotification || h.Get(sns.HeaderMessageID) != "5a0c4b1e-load-17" || h.Get(sns.HeaderTopicArn) != testTopic {
			t.Errorf("%s: Delivery headers %v", tt.name, h)
		}
		req := &connectors.Request{Header: h, Body: body, ReceivedAt: time.Now()}
		if err := c.Verify(aws.ctx, req, nil); err == nil {
			t.Fatalf("%s: an unsigned simulated delivery verified", tt.name)
		}
		sim.Sign(h, body, testKeyPEM)
		if err := c.Verify(aws.ctx, req, nil); err != nil {
			t.Fatalf("%s: Verify of a signed simulated delivery: %v", tt.name, err)
		}
		res, err := c.Parse(req)
		if err != nil {
			t.Fatalf("%s: Parse: %v", tt.name, err)
		}
		if res.Event.ID != "5a0c4b1e-load-17" || res.Event.Type != tt.want || sim.EventType(h, body) != tt.want {
			t.Errorf("%s: parsed as %q of %q, EventType %q; want %q", tt.name, res.Event.ID, res.Event.Type, sim.EventType(h, body), tt.want)
		}
	}
}

// TestParseMessages: what a notification's Message becomes.
func TestParseMessages(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, message, typ string
		kind               string
		wantErr            bool
	}{
		{name: "text", message: "hello", typ: "Notification", kind: "unnormalized"},
		{name: "empty", message: "", typ: "Notification", kind: "unnormalized"},
		{name: "text in braces", message: "{not json", typ: "Notification", kind: "unnormalized"},
		{name: "JSON of another shape", message: `{"AlarmName":"cpu","NewStateValue":"ALARM"}`, typ: "Notification", kind: "unnormalized"},
		{name: "JSON array", message: `[1,2]`, typ: "Notification", kind: "unnormalized"},
		{name: "JSON with a nested detail-type", message: `{"x":{"detail-type":"ECR Image Action"}}`, typ: "Notification", kind: "unnormalized"},
		{name: "another detail-type", message: `{"id":"e1","detail-type":"EC2 Instance State-change Notification","detail":{"state":"running"}}`, typ: "EC2 Instance State-change Notification", kind: "unnormalized"},
		{name: "ECR push", message: ` {"id":"e1","detail-type":"ECR Image Action","account":"123456789012","region":"us-east-1","detail":{"action-type":"PUSH","result":"SUCCESS","repository-name":"api","image-tag":"1"}}`, typ: "ECR Image Action", kind: "artifact.published"},
		{name: "ECR push of another shape", message: `{"id":"e1","detail-type":"ECR Image Action","detail":{"result":true}}`, wantErr: true},
	} {
		m, _ := json.Marshal(tt.message)
		body := `{"Type":"Notification","MessageId":"m-1","TopicArn":"` + testTopic + `","Message":` + string(m) + `}`
		res, err := sns.New().Parse(&connectors.Request{Header: http.Header{}, Body: []byte(body)})
		if tt.wantErr {
			if !errors.Is(err, connectors.ErrMalformed) {
				t.Errorf("%s: Parse = %v, want ErrMalformed", tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: Parse: %v", tt.name, err)
		}
		if res.Event.Type != tt.typ || string(res.Event.Kind) != tt.kind || res.Event.ID != "m-1" || !res.Checked || !bytes.Equal(res.Payload, []byte(body)) {
			t.Errorf("%s: %+v", tt.name, res.Event)
		}
	}
}

// TestSignRecorded: Sign with the test key publishes a recorded message
// anew, stamped now, so it verifies now; another key's signature does
// not verify, and a secret that merely holds a key changes nothing.
func TestSignRecorded(t *testing.T) {
	t.Parallel()
	c := newConnector()
	other := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(otherKey())})
	for _, f := range kit.Fixtures(t) {
		for _, tt := range []struct {
			name    string
			secret  []byte
			changed bool
			wantErr error
		}{
			{name: "test key", secret: testKeyPEM, changed: true},
			{name: "another key", secret: other, changed: true, wantErr: connectors.ErrUnauthorized},
			{name: "a key inside a secret", secret: append([]byte("not-the-"), testKeyPEM...), wantErr: connectors.ErrStale},
		} {
			sim := c.(connectors.Simulator)
			h, body := sim.Delivery("", "x", f.Body)
			sim.Sign(h, body, tt.secret)
			if changed := !bytes.Equal(body, f.Body); changed != tt.changed {
				t.Errorf("%s, %s: body changed %v, want %v", f.Name, tt.name, changed, tt.changed)
			}
			req := &connectors.Request{Header: h, Body: body, ReceivedAt: time.Now()}
			err := c.Verify(aws.ctx, req, nil)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("%s, %s: Verify = %v, want %v", f.Name, tt.name, err, tt.wantErr)
			}
		}
	}
}
