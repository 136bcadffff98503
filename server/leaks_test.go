package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/server"
	"github.com/reflexops/reflex/sources"
)

// TestSecretReferencesAreLimited: a source written through the API may
// use only env: variables with the allowed prefix and files in the
// allowed folder; pointed at any other variable or file of the server it
// verifies nothing, and answers exactly as for a reference that names
// nothing, so the intake cannot be used to test guesses.
func TestSecretReferencesAreLimited(t *testing.T) {
	dir := t.TempDir()
	allowed := filepath.Join(dir, "allowed")
	if err := os.Mkdir(allowed, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{filepath.Join(allowed, "ok"): "file-secret", filepath.Join(dir, "outside"): "outside-secret"} {
		if err := os.WriteFile(name, []byte(content+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "outside"), filepath.Join(allowed, "link")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SERVER_PRIVATE", "private-value")
	t.Setenv("REFLEX_ADMIN_KEY", adminKey)
	t.Setenv("REFLEX_SECRET_OK", "env-secret")
	t.Setenv("REFLEX_SECRET_CFG", "cfg-secret")
	in := start(t, newRedis(t), func(o *server.Options) {
		o.Worker = false
		o.SecretRefs = sources.SecretRefs{Dir: allowed}
		o.Config.Sources = append(o.Config.Sources, config.SourceSpec{Name: "cfg", Connector: "github", Secrets: []string{"env:REFLEX_SECRET_CFG"}})
	})
	tests := []struct {
		source, ref, signWith string
		want                  int
	}{
		{"env-private", "env:SERVER_PRIVATE", "private-value", 503},
		{"env-admin", "env:REFLEX_ADMIN_KEY", adminKey, 503},
		{"env-unset", "env:REFLEX_SECRET_UNSET", "anything", 503},
		{"file-outside", "file:" + filepath.Join(dir, "outside"), "outside-secret", 503},
		{"file-escape", "file:" + allowed + "/../outside", "outside-secret", 503},
		{"file-link-out", "file:" + filepath.Join(allowed, "link"), "outside-secret", 503},
		{"file-missing", "file:" + filepath.Join(allowed, "nope"), "anything", 503},
		{"file-system", "file:/etc/hostname", "anything", 503},
		{"env-borrowed", "env:REFLEX_SECRET_CFG", "cfg-secret", 503}, // the file's, for another source
		{"env-allowed", "env:REFLEX_SECRET_OK", "env-secret", 200},
		{"file-allowed", "file:" + filepath.Join(allowed, "ok"), "file-secret", 200},
	}
	for _, tt := range tests {
		body := fmt.Sprintf(`{"name":%q,"connector":"github","secrets":[%q]}`, tt.source, tt.ref)
		if r, _ := master(t, in, "POST", "/api/v1/source", body); r.Code != http.StatusCreated {
			t.Fatalf("create source %s: %d %s", tt.source, r.Code, r.Body)
		}
	}
	ping := fixture(t, "ping")
	send := func(source, secret string) reply {
		return post(t, in.URL+"/hooks/"+source, signedHeaders(ping, ping.Body, secret), ping.Body)
	}
	waitFor(t, func() bool { return send("file-allowed", "file-secret").Code == 200 }) // the sources are loaded
	var refusal string
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			r := send(tt.source, tt.signWith)
			if r.Code != tt.want {
				t.Fatalf("ping signed with the referenced value answered %d %s, want %d", r.Code, r.Body, tt.want)
			}
			if tt.want != 503 {
				return
			}
			msg := strings.ReplaceAll(r.Message, tt.source, "SOURCE")
			if refusal == "" {
				refusal = msg
			}
			if msg != refusal {
				t.Errorf("refusals differ:\n%s\n%s", msg, refusal)
			}
		})
	}
}

// TestExistenceIsNotRevealed: a caller without the right to read an
// object gets the same answer whether it exists or not; one whose rights
// cover the name learns that it does not exist.
func TestExistenceIsNotRevealed(t *testing.T) {
	in := start(t, newRedis(t), withDeclarations(t, `
policies:
  - {name: own-pipeline, expression: 'has(object.pipeline) && object.pipeline == "mine"'}
  - {name: names, expression: 'caller.name == "namer" && object.name.startsWith("svc-")'}
scopes:
  - {name: services, actions: [read, write], types: [service], mode: global, policies: [own-pipeline, names]}
`), func(o *server.Options) { o.Worker = false })
	mustCreate(t, in, "service", `{"name":"theirs","pipeline":"other"}`)
	mustCreate(t, in, "service", `{"name":"ours","pipeline":"mine"}`)
	ci, namer := newKey(t, in, "ci"), newKey(t, in, "namer")
	tests := []struct {
		key, method, path, body string
		want                    int
	}{
		{ci, "GET", "/api/v1/service/theirs", "", 403},
		{ci, "GET", "/api/v1/service/ghost", "", 403},
		{ci, "GET", "/api/v1/service/ghost/versions", "", 403},
		{ci, "GET", "/api/v1/service/theirs?version=1", "", 403},
		{ci, "PUT", "/api/v1/service/ghost", `{"name":"ghost","pipeline":"mine"}`, 403},
		{ci, "PUT", "/api/v1/service/theirs", `{"name":"theirs","pipeline":"mine"}`, 403},
		{ci, "PATCH", "/api/v1/service/theirs?if=stale", `{"pipeline":"mine"}`, 403},
		{ci, "PATCH", "/api/v1/service/ghost?if=stale", `{"pipeline":"mine"}`, 403},
		{ci, "DELETE", "/api/v1/service/ghost", "", 403},
		{ci, "DELETE", "/api/v1/service/theirs", "", 403},
		{ci, "GET", "/api/v1/service/ours", "", 200},
		{ci, "GET", "/api/v1/service/ours?version=7", "", 404},
		{namer, "GET", "/api/v1/service/svc-ghost", "", 404},
		{namer, "GET", "/api/v1/service/ghost", "", 403},
	}
	answers := map[string]string{}
	for _, tt := range tests {
		path, stale := strings.CutSuffix(tt.path, "?if=stale")
		var header []string
		if stale {
			header = []string{"If-Match", `"99"`, "Content-Type", "application/merge-patch+json"}
		}
		r, _ := call(t, in, tt.key, tt.method, path, tt.body, header...)
		if r.Code != tt.want {
			t.Errorf("%s %s answered %d %s, want %d", tt.method, tt.path, r.Code, r.Body, tt.want)
			continue
		}
		if r.Code == 403 {
			msg := strings.NewReplacer("theirs", "NAME", "ghost", "NAME").Replace(r.Message)
			if prev, ok := answers[tt.method]; ok && prev != msg {
				t.Errorf("%s: refusals differ for an existing and a missing object:\n%s\n%s", tt.method, prev, msg)
			}
			answers[tt.method] = msg
		}
	}
}

// TestSourceBodyLimit: a source's own max_body lowers the server's limit
// for its deliveries only.
func TestSourceBodyLimit(t *testing.T) {
	in := start(t, newRedis(t), func(o *server.Options) {
		o.Worker = false
		o.Config.Sources = append(o.Config.Sources, config.SourceSpec{Name: "small", Connector: "github", Secrets: []string{"env:REFLEX_TEST_SECRET"}, MaxBody: "1KiB"})
	})
	f := fixture(t, "push.branch")
	if r := post(t, in.URL+"/hooks/small", signedHeaders(f, f.Body, testSecret), f.Body); r.Code != http.StatusRequestEntityTooLarge || !strings.Contains(r.Message, "limit of 1024 bytes") {
		t.Fatalf("a %d-byte push to a 1 KiB source answered %d %s, want 413", len(f.Body), r.Code, r.Body)
	}
	if r := deliver(t, in, withDelivery(f)); r.Code != http.StatusAccepted {
		t.Fatalf("the same push to another source answered %d %s", r.Code, r.Body)
	}
}

// TestBodyBudget: while the body budget is held by a delivery still being
// received, another is refused with 503 and Retry-After, without being
// read; once it ends, deliveries are accepted again.
func TestBodyBudget(t *testing.T) {
	const budget = 1 << 20
	in := start(t, newRedis(t), func(o *server.Options) {
		o.Worker = false
		o.BodyBudget, o.MaxBody = budget, budget
	})
	f := fixture(t, "push.branch")
	var r reply
	var pw *io.PipeWriter
	var done chan struct{}
	deadline := time.Now().Add(10 * time.Second)
	for r.Code != http.StatusServiceUnavailable && time.Now().Before(deadline) {
		if done == nil {
			// An unsigned delivery that sends all but one byte of the
			// whole budget and holds the connection open. It may itself
			// be refused when a delivery below is being read as it grows:
			// it is then sent again.
			var pr *io.PipeReader
			pr, pw = io.Pipe()
			held, _ := http.NewRequest(http.MethodPost, in.URL+"/hooks/acme-github", pr)
			held.ContentLength = budget - 1
			held.Header.Set("Content-Type", "application/json")
			done = make(chan struct{})
			go func(done chan struct{}) {
				defer close(done)
				if resp, err := client.Do(held); err == nil {
					resp.Body.Close()
				}
			}(done)
			go func(pw *io.PipeWriter) { _, _ = pw.Write(bytes.Repeat([]byte(" "), budget-2)) }(pw)
		}
		r = deliver(t, in, withDelivery(f))
		select {
		case <-done:
			done = nil // refused: send it again
		case <-time.After(10 * time.Millisecond):
		}
	}
	if r.Code != http.StatusServiceUnavailable || r.RetryAfter == "" || !strings.Contains(r.Message, "retry later") {
		t.Fatalf("with the budget held, a delivery answered %d %s (Retry-After %q), want 503 with Retry-After", r.Code, r.Body, r.RetryAfter)
	}
	pw.CloseWithError(io.ErrUnexpectedEOF) // the held delivery ends, short
	<-done
	waitFor(t, func() bool { return deliver(t, in, withDelivery(f)).Code == http.StatusAccepted })

	// Connections that only announce large bodies hold nothing: the
	// budget follows the bytes that arrive.
	var idle []*io.PipeWriter
	for range 8 {
		pr, pw := io.Pipe()
		idle = append(idle, pw)
		req, _ := http.NewRequest(http.MethodPost, in.URL+"/hooks/acme-github", pr)
		req.ContentLength = 25 << 20
		req.Header.Set("Content-Type", "application/json")
		go func() {
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	defer func() {
		for _, pw := range idle {
			pw.CloseWithError(io.ErrUnexpectedEOF)
		}
	}()
	time.Sleep(100 * time.Millisecond) // let them reach the handler; nothing is asserted on timing
	if r := deliver(t, in, withDelivery(f)); r.Code != http.StatusAccepted {
		t.Fatalf("with eight connections announcing 25 MiB each, a push answered %d %s", r.Code, r.Body)
	}
}
