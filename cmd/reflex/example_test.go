package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/wire"
)

// TestSecuredDeliveryExample walks examples/secured-delivery as its README
// does, with the example's own files.
func TestSecuredDeliveryExample(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"reflex.yaml", "actions.json", "deploy.sh", "harbor-push.json"} {
		raw, err := os.ReadFile(filepath.Join("../../examples/secured-delivery", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), raw, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	seed, pub, err := wire.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	redisURL := ""
	if os.Getenv("REDIS_URL") != "" {
		redisURL = redistest.New(t).URL
	}
	p := serveWith(t, redisURL, filepath.Join(dir, "reflex.yaml"),
		[]string{"ACME_GITHUB_SECRET=" + e2eSecret, "ACME_HARBOR_SECRET=" + e2eSecret + "-harbor", "REFLEX_SIGNING_KEY_K1=" + seed})
	for _, args := range [][]string{
		{"create", "pipeline", "-c", `{"name":"hello","services":["hello-prod"]}`},
		{"create", "service", "-c", `{"name":"hello-prod","pipeline":"hello","zone":"production"}`},
	} {
		if _, errOut, code := stateCLI(t, p, "", args...); code != 0 {
			t.Fatalf("state %v: %s", args, errOut)
		}
	}
	s := &securedDelivery{serve: p, agentURL: p.url, pub: "k1=" + pub, dir: dir}
	s.agent(t, "agent-1")

	send := func(fixture, id string) {
		t.Helper()
		if _, errOut, code := reflexCmd(t, nil, "send", "--url", p.url, "--source", "acme-github", "--secret", e2eSecret,
			"--delivery", id, "../../fixtures/github/"+fixture); code != 0 {
			t.Fatalf("send %s: %s", fixture, errOut)
		}
	}
	send("registry_package.published.json", "ex-image")
	rec := s.record(t, wire.ID("hello-image", "acme-github", "ex-image"), 30*time.Second, "succeeded", "failed", "refused")
	if rec["status"] != "succeeded" || !strings.Contains(rec["output"].(string), "deploying ghcr.io/Codertocat/hello-world:1.4.2 (1.4.2) to hello-prod in production") {
		t.Fatalf("record = %v", rec)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "releases.log"))
	if !strings.Contains(string(log), "hello-prod 1.4.2 ghcr.io/Codertocat/hello-world:1.4.2") {
		t.Fatalf("releases.log = %q", log)
	}
	out, _, _ := stateCLI(t, p, "", "get", "release", "hello-prod")
	if !strings.Contains(out, `"version": "1.4.2"`) {
		t.Fatalf("release = %s", out)
	}

	// The same release again is not newer: nothing fires.
	send("registry_package.published.json", "ex-image-again")
	// A build of master: the trigger fires, the policy refuses.
	send("workflow_run.completed.json", "ex-build")
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, _, _ := reflexCmd(t, []string{"REFLEX_APIKEY=" + e2eAdminKey}, "policy", "test", "--url", p.url, "--event", "ex-build", "--action", "deliver", "--type", "service", "--name", "hello-prod")
		if strings.Contains(out, "DENY  deliver event ex-build") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("policy test: %s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Processed means every delivery the event triggers is queued.
	waitEvent(t, p, "ex-image-again")
	waitEvent(t, p, "ex-build")
	list, _, _ := stateCLI(t, p, "", "list", "deployment", "-o", "json")
	if strings.Count(list, `"name": "d-`) != 1 {
		t.Fatalf("deployments:\n%s\nwant only the first image's", list)
	}

	// The mirror on Harbor publishes 1.5.0: the same trigger fires.
	harborPush := filepath.Join(dir, "harbor-push.json")
	sent, errOut, code := reflexCmd(t, nil, "send", "--url", p.url, "--source", "acme-harbor", "--connector", "harbor",
		"--secret", e2eSecret+"-harbor", harborPush)
	if code != 0 {
		t.Fatalf("send harbor-push.json: %s", errOut)
	}
	// Harbor sends no delivery id: the answer names the content hash
	// that stands for one.
	var answer struct{ ID string }
	if _, js, _ := strings.Cut(sent, " {"); json.Unmarshal([]byte("{"+js), &answer) != nil || !strings.HasPrefix(answer.ID, "sha256-") {
		t.Fatalf("send answered %q", sent)
	}
	rec = s.record(t, wire.ID("hello-image", "acme-harbor", answer.ID), 30*time.Second, "succeeded", "failed", "refused")
	if rec["status"] != "succeeded" || !strings.Contains(rec["output"].(string), "deploying harbor.acme.example/library/hello-world:1.5.0 (1.5.0) to hello-prod") {
		t.Fatalf("record = %v", rec)
	}
	out, _, _ = stateCLI(t, p, "", "get", "release", "hello-prod")
	if !strings.Contains(out, `"version": "1.5.0"`) {
		t.Fatalf("release = %s", out)
	}
}
