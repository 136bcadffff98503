package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestParams: a job's parameters are only those its action declares,
// matching their patterns, never shaped as an option unless allowed, and
// reach a command as whole arguments and the environment only under the
// declared name.
func TestParams(t *testing.T) {
	f, err := actionsFile(t, `{
  "actions": {
    "deploy": {"type": "system", "exec": ["sh", "-c", "printf '%s|' \"$@\"; echo; env", "sh", "${VERSION}", "${IMAGE}"],
      "params": {"VERSION": {"pattern": "[0-9]+[.][0-9]+[.][0-9]+", "env": "APP_VERSION"}, "IMAGE": {}, "FLAGS": {"allowDash": true}}}
  }
}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{File: f}
	tests := []struct {
		name    string
		params  map[string]string
		refused string // part of the refusal, "" when the job runs
		args    string
	}{
		{"declared values", map[string]string{"VERSION": "1.2.3", "IMAGE": "ghcr.io/acme/web:1.2.3"}, "", "1.2.3|ghcr.io/acme/web:1.2.3|"},
		{"a value with shell syntax is one argument", map[string]string{"VERSION": "1.2.3", "IMAGE": "a; rm -rf / $(id)"}, "", "1.2.3|a; rm -rf / $(id)|"},
		{"an allowed leading dash", map[string]string{"VERSION": "1.2.3", "IMAGE": "x", "FLAGS": "-v"}, "", "1.2.3|x|"},
		{"a value off its pattern", map[string]string{"VERSION": "1.2", "IMAGE": "x"}, "does not match the pattern", ""},
		{"a value shaped as an option", map[string]string{"VERSION": "1.2.3", "IMAGE": "--privileged"}, `starts with "-"`, ""},
		{"an undeclared parameter", map[string]string{"VERSION": "1.2.3", "IMAGE": "x", "LD_PRELOAD": "/tmp/evil.so"}, `declares no parameter "LD_PRELOAD"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.CheckParams("deploy", tt.params)
			res := r.Run(context.Background(), "deploy", tt.params)
			if tt.refused != "" {
				if !errors.Is(err, ErrParams) || !strings.Contains(err.Error(), tt.refused) {
					t.Fatalf("CheckParams = %v, want a refusal saying %q", err, tt.refused)
				}
				if res.OK || res.Output != "" || !res.Permanent {
					t.Fatalf("Run of a refused job: %+v, want nothing run", res)
				}
				return
			}
			if err != nil || !res.OK {
				t.Fatalf("CheckParams = %v, Run = %+v", err, res)
			}
			if !strings.Contains(res.Output, tt.args) {
				t.Errorf("arguments: want %q in\n%s", tt.args, res.Output)
			}
			if !strings.Contains(res.Output, "APP_VERSION="+tt.params["VERSION"]) {
				t.Errorf("VERSION not exported as APP_VERSION:\n%s", res.Output)
			}
			for _, leaked := range []string{"\nVERSION=", "\nIMAGE=", "\nFLAGS="} {
				if strings.Contains(res.Output, leaked) {
					t.Errorf("%s reached the environment without a declared name", strings.TrimSpace(leaked))
				}
			}
		})
	}
}

// TestHTTPParams: an http action escapes a parameter for where it goes,
// and refuses one that would choose the host or break out of a header.
func TestHTTPParams(t *testing.T) {
	type seen struct{ rawPath, note, header, body string }
	var (
		mu  sync.Mutex
		got []seen
	)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var doc struct{ Note string }
		_ = json.Unmarshal(b, &doc)
		mu.Lock()
		got = append(got, seen{r.URL.EscapedPath(), r.URL.Query().Get("note") + "|" + r.URL.Query().Get("z"), r.Header.Get("X-Note"), doc.Note})
		mu.Unlock()
	}))
	defer api.Close()
	f, err := actionsFile(t, `{
  "config": {"base": "`+api.URL+`"},
  "actions": {
    "notify": {"type": "http", "method": "POST", "url": "${base}/hooks/${SERVICE}?note=${NOTE}",
      "headers": {"X-Note": "${NOTE}"}, "body": "{\"note\": \"${NOTE}\"}", "params": {"SERVICE": {}, "NOTE": {}}},
    "elsewhere": {"type": "http", "url": "http://${HOST}/x", "params": {"HOST": {}}}
  }
}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{File: f}
	ctx := context.Background()
	note := `a "quote" & z=1 / ?`
	if res := r.Run(ctx, "notify", map[string]string{"SERVICE": "web/../admin x", "NOTE": note}); !res.OK {
		t.Fatalf("notify: %+v", res)
	}
	mu.Lock()
	first := got[0]
	mu.Unlock()
	want := seen{"/hooks/web%2F..%2Fadmin%20x", note + "|", note, note}
	if first != want {
		t.Errorf("the receiver saw %+v, want %+v", first, want)
	}
	for _, tt := range []struct {
		action string
		params map[string]string
		want   string
	}{
		{"notify", map[string]string{"SERVICE": "web", "NOTE": "x\r\nX-Evil: 1"}, "control character"},
		{"elsewhere", map[string]string{"HOST": "attacker.example"}, "may not choose the scheme or the host"},
	} {
		if res := r.Run(ctx, tt.action, tt.params); res.OK || res.Err == nil || !strings.Contains(res.Err.Error(), tt.want) {
			t.Errorf("%s %v: %+v, want an error saying %q", tt.action, tt.params, res, tt.want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Errorf("the receiver got %d requests, want only the first", len(got))
	}
}

// TestParamDeclarations: declarations an actions file may not make.
func TestParamDeclarations(t *testing.T) {
	for _, tt := range []struct{ name, params, want string }{
		{"an unsafe variable", `{"X": {"env": "LD_PRELOAD"}}`, "not a variable a job parameter may set"},
		{"a proxy variable", `{"X": {"env": "https_proxy"}}`, "not a variable a job parameter may set"},
		{"a bad pattern", `{"X": {"pattern": "("}}`, "pattern"},
		{"a bad name", `{"1X": {}}`, "not a usable name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := actionsFile(t, `{"actions":{"a":{"type":"system","exec":["true"],"params":`+tt.params+`}}}`, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadActions = %v, want %q", err, tt.want)
			}
		})
	}
}
