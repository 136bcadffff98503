package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/connectors/registry"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/internal/redistest"
)

const connectorsExample = "../../examples/connectors.yaml"

// connectorsEnv is the environment examples/connectors.yaml reads its
// secrets from.
var connectorsEnv = []string{"ACME_WEBHOOK_SECRET=" + e2eSecret, "ACME_AZURE_CREDENTIALS=reflex:" + e2eSecret}

// TestConnectorsTour walks the README's tour for every connector: the
// example declares a source of each, and `reflex send --config` signs a
// fixture of each as its provider would, which the server accepts.
func TestConnectorsTour(t *testing.T) {
	raw, err := os.ReadFile(connectorsExample)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	var covered []string
	for _, s := range cfg.Sources {
		covered = append(covered, s.Connector)
	}
	for _, name := range registry.Names() {
		if !slices.Contains(covered, name) {
			t.Errorf("%s declares no source of the %s connector", connectorsExample, name)
		}
	}
	redisURL := ""
	if os.Getenv("REDIS_URL") != "" {
		redisURL = redistest.New(t).URL
	}
	p := serveWith(t, redisURL, connectorsExample, connectorsEnv)
	for _, s := range cfg.Sources {
		t.Run(s.Name, func(t *testing.T) {
			conn, err := registry.Configure(s.Connector, s.Settings)
			if err != nil {
				t.Fatal(err)
			}
			if config.HoldsKeys(conn) && len(s.Secrets) == 0 {
				// Pub/Sub and SNS deliveries are signed by Google's and
				// AWS's own keys, which no local sender holds; server's
				// TestEveryConnectorOverHTTP posts them signed by test
				// keys that stand-in key endpoints publish.
				return
			}
			file := firstEventFixture(t, s.Connector)
			out, errOut, code := reflexCmd(t, connectorsEnv, "send", "--url", p.url, "--config", connectorsExample, "--source", s.Name, file)
			if code != 0 || !strings.HasPrefix(out, "202 Accepted") {
				t.Fatalf("send %s: exit %d, out %q, err %q", file, code, out, errOut)
			}
			if len(s.Settings) == 0 {
				// Without the file: the connector and secret on the command line.
				secret := e2eSecret
				if s.Connector == "azure-devops" {
					secret = "reflex:" + e2eSecret
				}
				out, errOut, code := reflexCmd(t, nil, "send", "--url", p.url, "--connector", s.Connector, "--source", s.Name, "--secret", secret, file)
				// A provider that sends no delivery id is de-duplicated by
				// its body: the same fixture again is the same delivery.
				again := strings.HasPrefix(out, `200 OK {"status":"duplicate","id":"sha256-`)
				if code != 0 || !strings.HasPrefix(out, "202 Accepted") && !again {
					t.Fatalf("send --connector %s: exit %d, out %q, err %q", s.Connector, code, out, errOut)
				}
			}
			_, errOut, code = reflexCmd(t, nil, "send", "--url", p.url, "--config", connectorsExample, "--source", s.Name, "--secret", "wrong:secret", file)
			if code == 0 || !strings.Contains(errOut, "401") {
				t.Errorf("send with a wrong secret: exit %d, err %q; want a 401", code, errOut)
			}
		})
	}
	out, errOut, code := reflexCmd(t, nil, "connectors", "--config", connectorsExample, "--url", "https://reflex.example.com", "--json")
	if code != 0 {
		t.Fatalf("connectors --json: exit %d: %s", code, errOut)
	}
	var infos []struct {
		Name string   `json:"name"`
		URLs []string `json:"urls"`
	}
	if err := json.Unmarshal([]byte(out), &infos); err != nil {
		t.Fatalf("connectors --json: %v in %s", err, out)
	}
	for _, in := range infos {
		want := "https://reflex.example.com/hooks/acme-" + in.Name
		if slices.Contains([]string{"dockerhub", "quay", "jenkins"}, in.Name) {
			// The URL ends in the secret, which is never printed.
			want += "/<secret>"
		}
		if !slices.Contains(in.URLs, want) {
			t.Errorf("connector %s: urls %v, want %s among them", in.Name, in.URLs, want)
		}
	}
}

// firstEventFixture returns the path of a connector's first fixture that
// is an event, not a ping.
func firstEventFixture(t *testing.T, connector string) string {
	t.Helper()
	all, err := fixtures.Load(connector)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range all {
		if !f.IsPing() {
			return filepath.Join("../../fixtures", connector, f.Name+".json")
		}
	}
	t.Fatalf("connector %s has no event fixture", connector)
	return ""
}

// TestConnectorsCommand: the list names every connector; one connector's
// page shows its verification, URL and settings; an unknown one is an
// error listing the known ones.
func TestConnectorsCommand(t *testing.T) {
	out, errOut, code := reflexCmd(t, nil, "connectors")
	if code != 0 {
		t.Fatalf("connectors: exit %d: %s", code, errOut)
	}
	for _, name := range registry.Names() {
		if !strings.Contains(out, "\n"+name+" ") {
			t.Errorf("connectors does not list %s:\n%s", name, out)
		}
	}
	out, _, code = reflexCmd(t, nil, "connectors", "github", "--url", "https://r.example")
	if code != 0 || !strings.Contains(out, "X-Hub-Signature-256") || !strings.Contains(out, "https://r.example/hooks/<source>") {
		t.Errorf("connectors github: exit %d:\n%s", code, out)
	}
	_, errOut, code = reflexCmd(t, nil, "connectors", "gitlub")
	if code == 0 || !strings.Contains(errOut, "unknown connector") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("connectors gitlub: exit %d, err %q; want one line naming the known connectors", code, errOut)
	}
}
