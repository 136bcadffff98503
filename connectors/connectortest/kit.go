package connectortest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// ReceivedAt is when the kit's requests arrive: 2026-01-02T03:04:05Z,
// Unix 1767323045. Fixtures whose provider signs a timestamp record one
// close to it.
var ReceivedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Kit is a connector under test with the fixtures of its provider.
type Kit struct {
	// Name is the connector's name, which is also its fixtures'
	// directory.
	Name string
	// New returns the connector, configured as the fixtures need.
	New func() connectors.Connector
	// Source is the source name the requests are posted to.
	Source string
	// Secret signs the requests (through the connector's Signer) and
	// verifies them.
	Secret []byte
	// Presigned is true when the fixtures carry their own signature (an
	// SNS message signs itself, in its body, with a test key): Request
	// then sends them as recorded, without Sign.
	Presigned bool
	// PathToken is true for a connector whose provider signs nothing and
	// is given a URL ending in the secret (connectors.PathTokenTaker):
	// Request puts the secret in Request.PathToken as the intake would,
	// besides whatever Sign sets.
	PathToken bool
	// Context, when set, is what Verify is called with: one carrying a
	// test's key client (keyfetch.WithClient). Default
	// context.Background().
	Context context.Context
	// WrongKeys, for a connector that verifies with keys it fetches
	// rather than with the source's secrets, returns it configured to
	// trust only keys that did not sign the fixtures. FuzzVerify then
	// uses it in place of a wrong secret.
	WrongKeys func() connectors.Connector
}

// ctx returns the context Verify is called with.
func (k Kit) ctx() context.Context {
	if k.Context != nil {
		return k.Context
	}
	return context.Background()
}

// Fixtures returns the connector's fixtures, failing the test when there
// are none.
func (k Kit) Fixtures(t testing.TB) []fixtures.Fixture {
	t.Helper()
	all, err := fixtures.Load(k.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatalf("no %s fixtures found", k.Name)
	}
	return all
}

// Request returns a fixture as a signed request received at ReceivedAt:
// its recorded headers, signed with the kit's secret by the connector.
func (k Kit) Request(t testing.TB, f fixtures.Fixture) *connectors.Request {
	t.Helper()
	h := f.Header.Clone()
	if !k.Presigned {
		signer, ok := k.New().(connectors.Signer)
		if !ok {
			t.Fatalf("connector %s cannot sign", k.Name)
		}
		signer.Sign(h, f.Body, k.Secret)
	}
	req := &connectors.Request{Source: k.Source, Method: http.MethodPost, Header: h, Body: f.Body, ReceivedAt: ReceivedAt}
	if k.PathToken {
		req.PathToken = string(k.Secret)
	}
	return req
}

// Golden verifies and normalizes every fixture and compares the result
// field by field with its golden file. UPDATE_GOLDEN=1 rewrites the
// goldens, to be reviewed before they are committed.
func (k Kit) Golden(t *testing.T) {
	c := k.New()
	for _, f := range k.Fixtures(t) {
		t.Run(f.Name, func(t *testing.T) {
			req := k.Request(t, f)
			if err := c.Verify(k.ctx(), req, [][]byte{k.Secret}); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			res, err := c.Parse(req)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := outcome(res)
			if err != nil {
				t.Fatal(err)
			}
			if os.Getenv("UPDATE_GOLDEN") != "" {
				out, _ := json.MarshalIndent(got, "", "  ")
				if err := os.WriteFile(f.GoldenPath(), append(out, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if f.Golden == nil {
				t.Fatalf("no golden file %s; run UPDATE_GOLDEN=1 go test ./connectors/... and review it", f.GoldenPath())
			}
			want := reflect.New(reflect.TypeOf(got))
			if err := json.Unmarshal(f.Golden, want.Interface()); err != nil {
				t.Fatalf("decode golden: %v", err)
			}
			if diff := cmp.Diff(want.Elem().Interface(), got); diff != "" {
				t.Errorf("normalized event differs from %s (-want +got):\n%s", f.GoldenPath(), diff)
			}
		})
	}
}

// Kinds guards the goldens themselves: each fixture must normalize to the
// kind want gives for its name (a ping to "", a batch to its events' kinds
// joined by ","), and every fixture must be in want, so a wrong golden
// written by UPDATE_GOLDEN cannot pass unnoticed.
func (k Kit) Kinds(t *testing.T, want map[string]event.Kind) {
	c := k.New()
	for _, f := range k.Fixtures(t) {
		kind, ok := want[f.Name]
		if !ok {
			t.Errorf("fixture %s has no expected kind in this test", f.Name)
			continue
		}
		res, err := c.Parse(k.Request(t, f))
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		var got event.Kind
		if res.Event != nil {
			got = res.Event.Kind
		}
		for i, r := range res.Batch {
			if i > 0 {
				got += ","
			}
			got += r.Event.Kind
		}
		if got != kind {
			t.Errorf("%s: kind = %q, want %q", f.Name, got, kind)
		}
	}
}

// Refusal is a request Verify (or Parse) must refuse.
type Refusal struct {
	// Name names the case.
	Name string
	// Fixture is the fixture the request starts from.
	Fixture string
	// Secrets verify it; nil means the kit's secret.
	Secrets [][]byte
	// Change alters the signed request.
	Change func(req *connectors.Request)
	// Want is the error every refusal must wrap, e.g.
	// connectors.ErrUnauthorized.
	Want error
	// Says is a part of the message, so the sender can tell what is
	// wrong.
	Says string
}

// Refusals checks that each case is refused with its error, and that no
// message echoes the secret.
func (k Kit) Refusals(t *testing.T, cases []Refusal) {
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			f, err := fixtures.Get(k.Name, tc.Fixture)
			if err != nil {
				t.Fatal(err)
			}
			req := k.Request(t, f)
			if tc.Change != nil {
				tc.Change(req)
			}
			secrets := tc.Secrets
			if secrets == nil {
				secrets = [][]byte{k.Secret}
			}
			c := k.New()
			err = c.Verify(k.ctx(), req, secrets)
			if err == nil {
				_, err = c.Parse(req)
			}
			if !errors.Is(err, tc.Want) {
				t.Fatalf("got %v, want an error wrapping %v", err, tc.Want)
			}
			if msg := err.Error(); !contains(msg, tc.Says) {
				t.Errorf("message %q does not say %q", msg, tc.Says)
			}
			if len(k.Secret) > 3 && contains(err.Error(), string(k.Secret)) {
				t.Errorf("message echoes the secret: %v", err)
			}
		})
	}
}

// FuzzSeeds adds every fixture's body to f, for a fuzz test of Parse.
func (k Kit) FuzzSeeds(f *testing.F, add func(fx fixtures.Fixture)) {
	for _, fx := range k.Fixtures(f) {
		add(fx)
	}
}

// outcome checks a result's shape and returns what its golden holds: the
// event (nil for a ping), or a batch's events.
func outcome(res *connectors.Result) (any, error) {
	if res.Batch != nil {
		if res.Event != nil || res.Payload != nil || res.Ping || len(res.Batch) > connectors.MaxBatch {
			return nil, fmt.Errorf("a batch of %d with an event, a payload or a ping of its own", len(res.Batch))
		}
		events := make([]*event.Event, len(res.Batch))
		for i, r := range res.Batch {
			if r.Event == nil || r.Batch != nil {
				return nil, fmt.Errorf("batch[%d] is not one event", i)
			}
			if err := connectors.CheckPayload(r.Payload); err != nil {
				return nil, fmt.Errorf("batch[%d]: payload: %w", i, err)
			}
			events[i] = r.Event
		}
		return events, nil
	}
	if res.Ping != (res.Event == nil) {
		return nil, fmt.Errorf("the result has Ping %v and event %v; a result is either a ping or an event", res.Ping, res.Event)
	}
	if err := connectors.CheckPayload(res.Payload); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return res.Event, nil
}

// CheckParse is the body of a Parse fuzz test: Parse must return a ping,
// an event with the mandatory fields, or one of the connector errors, and
// never panic.
func CheckParse(t *testing.T, c connectors.Connector, req *connectors.Request) {
	res, err := c.Parse(req)
	if err != nil {
		if !errors.Is(err, connectors.ErrMalformed) && !errors.Is(err, connectors.ErrUnsupportedMediaType) {
			t.Fatalf("Parse returned an unclassified error: %v", err)
		}
		return
	}
	if res.Ping {
		return
	}
	events := []*connectors.Result{res}
	if res.Batch != nil {
		events = res.Batch
	}
	for _, r := range events {
		if r.Event == nil {
			t.Fatal("Parse returned neither an event nor a ping")
		}
		if r.Event.ID == "" || r.Event.Kind == "" || r.Event.Connector == "" {
			t.Fatalf("event lacks its id, kind or connector: %+v", r.Event)
		}
		if err := connectors.CheckDeliveryID("the event's id", r.Event.ID); err != nil {
			t.Fatalf("event id: %v", err)
		}
		if r.Checked {
			if err := connectors.CheckPayload(r.Payload); err != nil {
				t.Fatalf("a payload said to be checked is not JSON: %v", err)
			}
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// FuzzVerify is the body of a connector's Verify fuzz test: it seeds f with
// every fixture, signed with the kit's secret, and then feeds Verify the
// fixture's headers (signed or not, one header replaced by a fuzzed value)
// with a fuzzed body, checked against a secret that is not the kit's (or
// by the connector WrongKeys returns). No input may verify, panic, or
// come back with an error that is not ErrUnauthorized, ErrMalformed or
// ErrUnavailable.
func (k Kit) FuzzVerify(f *testing.F) {
	all := k.Fixtures(f)
	for i, fx := range all {
		req := k.Request(f, fx)
		for name := range req.Header {
			f.Add(i, name, req.Header.Get(name), fx.Body)
		}
	}
	wrong := [][]byte{append([]byte("not-"), k.Secret...)}
	f.Fuzz(func(t *testing.T, i int, name, value string, body []byte) {
		if i < 0 {
			i = -i
		}
		fx := all[i%len(all)]
		req := k.Request(t, fx)
		req.Body = body
		if name != "" {
			req.Header[http.CanonicalHeaderKey(name)] = []string{value}
		}
		c := k.New()
		if k.WrongKeys != nil {
			c = k.WrongKeys()
		}
		err := c.Verify(k.ctx(), req, wrong)
		if err == nil {
			t.Fatalf("a delivery verified against a secret or keys that did not sign it (header %q = %q)", name, value)
		}
		if !errors.Is(err, connectors.ErrUnauthorized) && !errors.Is(err, connectors.ErrMalformed) && !errors.Is(err, connectors.ErrUnavailable) {
			t.Fatalf("Verify returned an unclassified error: %v", err)
		}
		if strings.Contains(err.Error(), string(wrong[0])) || len(k.Secret) > 3 && strings.Contains(err.Error(), string(k.Secret)) {
			t.Fatalf("the error echoes a secret: %v", err)
		}
	})
}
