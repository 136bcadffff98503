package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/registry"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/server"
)

// The body limit of every source under attack, as configured and in bytes.
const (
	hostileMaxBody     = "128KiB"
	hostileMaxBodySize = 128 << 10
)

// signsTime lists the sources under attack whose credential covers a
// timestamp (or an expiry) the intake judges against its tolerance: only
// these can be attacked with a replay.
var signsTime = map[string]bool{
	"buildkite": true, "hmac": true, "pubsub": true, "sns": true, "standard-webhooks": true,
	"gitlab-signing-token": true, "cloudevents-standard-webhooks": true,
}

// hostileVariants are sources beside one per connector with its fixtures'
// settings: a connector whose fixtures' source leaves out the scheme that
// signs a timestamp gets one with it too.
var hostileVariants = []struct {
	label, connector string
	settings         map[string]any
}{
	{"gitlab-signing-token", "gitlab", nil},
	{"cloudevents-standard-webhooks", "cloudevents", map[string]any{"auth": "standard-webhooks"}},
}

// hostileTarget is one connector's source under attack: how a genuine
// delivery of it is made, and where its credential travels.
type hostileTarget struct {
	// label names the source under attack: its connector's name, or a
	// variant's.
	label   string
	rig     connectorRig
	conn    connectors.Connector
	fixture fixtures.Fixture
	// base is the source's URL, without a token.
	base string
	// credential names the headers that carry the credential (a
	// signature or a token); none when the URL or the body carries it.
	credential []string
	// inBody is true when the signature is inside the body (SNS).
	inBody bool
	// bodyBound is true when the credential covers the body, so that
	// one made for another body does not verify.
	bodyBound bool
}

// hostileTargetFor returns the target of a source of a connector, with
// the connector's first fixture that is an event: which headers its
// signer sets, and whether its credential changes with the body, are read
// from the signer itself.
func hostileTargetFor(t *testing.T, label, connector string, rig connectorRig, base string) hostileTarget {
	t.Helper()
	conn, err := registry.Configure(connector, rig.settings)
	if err != nil {
		t.Fatal(err)
	}
	all, err := fixtures.Load(connector)
	if err != nil {
		t.Fatal(err)
	}
	tg := hostileTarget{label: label, rig: rig, conn: conn, fixture: firstEvent(t, all), base: base}
	body := bytes.Clone(tg.fixture.Body)
	h := signedFixture(t, conn, tg.fixture, body, rig.secret)
	tg.inBody = !bytes.Equal(body, tg.fixture.Body)
	other := withField(tg.fixture.Body, `"forged":true`)
	h2 := signedFixture(t, conn, tg.fixture, other, rig.secret)
	for name, values := range h {
		if strings.Contains(strings.ToLower(name), "timestamp") || slices.Equal(values, tg.fixture.Header.Values(name)) {
			continue
		}
		tg.credential = append(tg.credential, name)
		if !slices.Equal(values, h2.Values(name)) {
			tg.bodyBound = true
		}
	}
	slices.Sort(tg.credential)
	tg.bodyBound = tg.bodyBound || tg.inBody
	return tg
}

// genuine returns a delivery of body as the provider sends it: the URL,
// and the fixture's headers signed with the source's secret. A signer
// that signs in the body (SNS) signs the copy returned.
func (tg hostileTarget) genuine(t *testing.T, body []byte) hostileRequest {
	t.Helper()
	body = bytes.Clone(body)
	h := signedFixture(t, tg.conn, tg.fixture, body, tg.rig.secret)
	return hostileRequest{url: tg.rig.url(tg.base, tg.rig.secret), header: h, body: body}
}

// forged returns the credential headers' values as signed with a secret
// other than the source's, for the fixture's body.
func (tg hostileTarget) forged(t *testing.T) http.Header {
	t.Helper()
	return signedFixture(t, tg.conn, tg.fixture, bytes.Clone(tg.fixture.Body), tg.rig.wrong)
}

// withHeaderCredential skips a connector whose credential no header
// carries, saying where it is.
func withHeaderCredential(tg hostileTarget) string {
	switch {
	case tg.inBody:
		return "the signature is inside the body, not in a header"
	case tg.rig.pathToken:
		return "the credential is the URL's token, not a header"
	case len(tg.credential) == 0:
		return "no header carries the credential"
	}
	return ""
}

// hostileRequest is one request of the matrix.
type hostileRequest struct {
	url    string
	header http.Header
	body   []byte
	// chunked sends the body without a Content-Length.
	chunked bool
}

// send posts the request and returns the answer's status, content type
// and body.
func (r hostileRequest) send(t *testing.T) (int, string, []byte) {
	t.Helper()
	var body io.Reader = bytes.NewReader(r.body)
	if r.chunked {
		body = io.MultiReader(body) // no length the client can see
	}
	req, err := http.NewRequest(http.MethodPost, r.url, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.chunked {
		req.ContentLength = -1
	}
	req.Header = r.header
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", r.url, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), answer
}

// withField returns a JSON body with field ("name":value) inserted as the
// first member of its first object.
func withField(body []byte, field string) []byte {
	i := bytes.IndexByte(body, '{')
	if i < 0 {
		return slices.Clone(body)
	}
	return slices.Concat(body[:i+1], []byte(field+","), body[i+1:])
}

// hostileAttack is one row of the matrix: a hostile request made from a
// connector's genuine delivery, and the refusal it must get.
type hostileAttack struct {
	name string
	// skip returns why a connector cannot be attacked this way, or "".
	skip func(tg hostileTarget) string
	make func(t *testing.T, tg hostileTarget) hostileRequest
	want int
	// says is a part of the message the refusal must give.
	says string
	// stale moves the server's clock past every tolerance while the
	// request is answered: the delivery was captured and is replayed.
	stale bool
	// plain is true when net/http answers before any handler runs, in
	// plain text rather than Reflex's JSON.
	plain bool
}

// hostileAttacks is the matrix's rows.
func hostileAttacks() []hostileAttack {
	oversize := func(t *testing.T, tg hostileTarget) hostileRequest {
		body := append(bytes.Clone(tg.fixture.Body), bytes.Repeat([]byte(" "), hostileMaxBodySize)...)
		return tg.genuine(t, body)
	}
	nested := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	return []hostileAttack{
		{name: "oversize body with Content-Length", make: oversize, want: http.StatusRequestEntityTooLarge, says: "larger than the limit"},
		{name: "oversize body chunked", make: func(t *testing.T, tg hostileTarget) hostileRequest {
			r := oversize(t, tg)
			r.chunked = true
			return r
		}, want: http.StatusRequestEntityTooLarge, says: "larger than the limit"},
		{name: "truncated JSON signed", make: func(t *testing.T, tg hostileTarget) hostileRequest {
			return tg.genuine(t, tg.fixture.Body[:len(tg.fixture.Body)/2])
		}, want: http.StatusBadRequest},
		{name: "10000 nested arrays signed", make: func(t *testing.T, tg hostileTarget) hostileRequest {
			return tg.genuine(t, withField(tg.fixture.Body, `"nested":`+nested))
		}, want: http.StatusBadRequest},
		{name: "invalid UTF-8 in a string signed", make: func(t *testing.T, tg hostileTarget) hostileRequest {
			return tg.genuine(t, withField(tg.fixture.Body, "\"note\":\"caf\xe9 \xff\xfe\""))
		}, want: http.StatusBadRequest},
		{name: "two credential headers genuine first", skip: withHeaderCredential, make: func(t *testing.T, tg hostileTarget) hostileRequest {
			r, forged := tg.genuine(t, tg.fixture.Body), tg.forged(t)
			for _, name := range tg.credential {
				r.header[name] = append(r.header[name], forged.Values(name)...)
			}
			return r
		}, want: http.StatusUnauthorized},
		{name: "two credential headers genuine last", skip: withHeaderCredential, make: func(t *testing.T, tg hostileTarget) hostileRequest {
			r, forged := tg.genuine(t, tg.fixture.Body), tg.forged(t)
			for _, name := range tg.credential {
				r.header[name] = append(forged.Values(name), r.header[name]...)
			}
			return r
		}, want: http.StatusUnauthorized},
		{name: "case-variant credential header names", skip: withHeaderCredential, make: func(t *testing.T, tg hostileTarget) hostileRequest {
			// The client sends names as the map holds them; the server
			// canonicalizes them, so the two arrive as one header twice.
			r, forged := tg.genuine(t, tg.fixture.Body), tg.forged(t)
			for _, name := range tg.credential {
				r.header[strings.ToUpper(name)] = forged.Values(name)
			}
			return r
		}, want: http.StatusUnauthorized},
		{name: "a header beyond the server's header limit", make: func(t *testing.T, tg hostileTarget) hostileRequest {
			r := tg.genuine(t, tg.fixture.Body)
			r.header.Set("X-Padding", strings.Repeat("p", 100<<10))
			return r
		}, want: http.StatusRequestHeaderFieldsTooLarge, plain: true},
		{name: "a huge credential within the header limit", skip: func(tg hostileTarget) string {
			if tg.inBody {
				return "the signature is inside the body, not in a header"
			}
			return ""
		}, make: func(t *testing.T, tg hostileTarget) hostileRequest {
			// 40 KiB in all, within the server's 64 KiB.
			r := tg.genuine(t, tg.fixture.Body)
			huge := strings.Repeat("0", (40<<10)/max(1, len(tg.credential)))
			if tg.rig.pathToken {
				r.url = tg.rig.url(tg.base, tg.rig.secret+huge)
			}
			for _, name := range tg.credential {
				r.header.Set(name, r.header.Get(name)+huge)
			}
			return r
		}, want: http.StatusUnauthorized},
		{name: "replay outside the tolerance", skip: func(tg hostileTarget) string {
			if !signsTime[tg.label] {
				return "the credential covers no timestamp"
			}
			return ""
		}, make: func(t *testing.T, tg hostileTarget) hostileRequest {
			return tg.genuine(t, tg.fixture.Body)
		}, want: http.StatusUnauthorized, says: "outside the tolerance", stale: true},
		{name: "a genuine credential for another body", skip: func(tg hostileTarget) string {
			if !tg.bodyBound {
				return "the credential (a token) does not cover the body"
			}
			return ""
		}, make: func(t *testing.T, tg hostileTarget) hostileRequest {
			r := tg.genuine(t, tg.fixture.Body)
			if tg.inBody {
				// The signature covers the message's fields, not its
				// bytes: change one of them.
				var m map[string]any
				if err := json.Unmarshal(r.body, &m); err != nil {
					t.Fatal(err)
				}
				m["Message"] = m["Message"].(string) + " "
				b, err := json.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				r.body = b
				return r
			}
			r.body = withField(tg.fixture.Body, `"forged":true`)
			return r
		}, want: http.StatusUnauthorized},
	}
}

// TestHostileInputEveryConnector posts, to a source of every connector,
// a matrix of hostile requests made from its genuine deliveries: each is
// refused with its 4xx and a JSON message, and leaves nothing behind but
// the intake log's line (no event, payload, dedupe record, decision or
// job). A row a connector cannot be attacked with says why. Then each
// genuine delivery is accepted, so no refusal was the rig's doing.
func TestHostileInputEveryConnector(t *testing.T) {
	type source struct {
		label, connector string
		rig              connectorRig
	}
	var sources []source
	for _, name := range registry.Names() {
		sources = append(sources, source{name, name, rigFor(t, name)})
	}
	signing := func(secret string) string { return "whsec_" + base64.StdEncoding.EncodeToString([]byte(secret)) }
	for _, v := range hostileVariants {
		rig := connectorRig{settings: v.settings, secret: signing(testSecret), wrong: signing("not-the-" + testSecret)}
		sources = append(sources, source{v.label, v.connector, rig})
	}
	var specs []config.SourceSpec
	for _, src := range sources {
		specs = append(specs, config.SourceSpec{Name: "acme-" + src.label, Connector: src.connector, Secrets: []string{src.rig.secret}, Settings: src.rig.settings, MaxBody: hostileMaxBody})
	}
	aws := fakeAWS(t)
	var skew atomic.Int64 // the server clock's lead, in nanoseconds
	rdb := newRedis(t)
	in := start(t, rdb, logOnFailure(t), func(o *server.Options) {
		o.Config = &config.Config{Sources: specs}
		o.KeyClient = aws.client
		o.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	})
	// Past any tolerance (at most connectors.MaxTolerance) and any
	// token's lifetime.
	const replayAfter = 3 * time.Hour
	// keys returns the event history's and the events queue's keys, but
	// the intake log (a refusal may add a line to it) and asynq's daily
	// counts of finished jobs.
	keys := func(t *testing.T) []string {
		t.Helper()
		var all []string
		for _, pattern := range []string{"reflex:{events}:*", "asynq:{" + keyspace.EventsQueue + "}:*"} {
			found, err := rdb.Keys(context.Background(), pattern).Result()
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range found {
				if k != keyspace.IntakeLog() && !strings.HasPrefix(k, "asynq:{"+keyspace.EventsQueue+"}:processed") && !strings.HasPrefix(k, "asynq:{"+keyspace.EventsQueue+"}:failed") {
					all = append(all, k)
				}
			}
		}
		slices.Sort(all)
		return all
	}
	var targets []hostileTarget
	for _, src := range sources {
		targets = append(targets, hostileTargetFor(t, src.label, src.connector, src.rig, in.URL+"/hooks/acme-"+src.label))
	}
	for _, tg := range targets {
		t.Run(tg.label, func(t *testing.T) {
			for _, a := range hostileAttacks() {
				t.Run(a.name, func(t *testing.T) {
					if a.skip != nil {
						if why := a.skip(tg); why != "" {
							t.Skipf("%s: %s", tg.label, why)
						}
					}
					r := a.make(t, tg)
					before := keys(t)
					if a.stale {
						skew.Store(int64(replayAfter))
					}
					code, ctype, body := r.send(t)
					skew.Store(0)
					var got struct{ Status, Message string }
					switch {
					case code != a.want:
						t.Errorf("answered %d %.300s, want %d", code, body, a.want)
					case a.plain:
						if !strings.HasPrefix(ctype, "text/plain") {
							t.Errorf("answered %d with Content-Type %q, want net/http's text/plain", code, ctype)
						}
					case !strings.HasPrefix(ctype, "application/json") || json.Unmarshal(body, &got) != nil:
						t.Errorf("answered %d with Content-Type %q and body %.300s, want a JSON answer", code, ctype, body)
					case got.Status != "failed" || got.Message == "" || !strings.Contains(got.Message, a.says):
						t.Errorf("answered %d %.300s, want status failed with a message saying %q", code, body, a.says)
					}
					if added := slices.DeleteFunc(keys(t), func(k string) bool { return slices.Contains(before, k) }); len(added) > 0 {
						t.Errorf("the refusal left keys behind: %s", strings.Join(added, ", "))
					}
				})
			}
		})
	}
	if left := keys(t); len(left) > 0 {
		t.Errorf("the matrix left keys behind: %s", strings.Join(left, ", "))
	}
	t.Run("genuine deliveries are accepted", func(t *testing.T) {
		for _, tg := range targets {
			code, _, body := tg.genuine(t, tg.fixture.Body).send(t)
			if code != http.StatusAccepted {
				t.Errorf("%s: the genuine delivery answered %d %.300s, want 202", tg.label, code, body)
			}
		}
	})
	if n := aws.confirmed.Load(); n != 0 {
		t.Errorf("SNS subscriptions were confirmed %d times, want none", n)
	}
}
