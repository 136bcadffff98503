package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/server"
	"github.com/reflexops/reflex/wire"
)

// logLines decodes a JSON log, one record a line.
func logLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		lines = append(lines, line)
	}
	return lines
}

// step is a log line of a webhook's journey: its message, and attributes
// it must have besides the request id.
type step struct {
	msg   string
	attrs map[string]any
}

func (s step) String() string { return fmt.Sprintf("%q %v", s.msg, s.attrs) }

// matches reports whether a log line is the step's.
func (s step) matches(line map[string]any) bool {
	if line["msg"] != s.msg {
		return false
	}
	for k, v := range s.attrs {
		if line[k] != v {
			return false
		}
	}
	return true
}

// missing returns the steps no line of log shows with the request id, and
// the lines that name the delivery (or its event) with another.
func missing(lines []map[string]any, requestID, delivery, eventID string, steps []step) (absent []string, strays []map[string]any) {
	for _, s := range steps {
		found := false
		for _, line := range lines {
			if s.matches(line) && line["request_id"] == requestID {
				found = true
				break
			}
		}
		if !found {
			absent = append(absent, s.String())
		}
	}
	for _, line := range lines {
		if (line["delivery"] == delivery || line["delivery_id"] == eventID) && line["request_id"] != requestID {
			strays = append(strays, line)
		}
	}
	return absent, strays
}

// TestRequestIDEndToEnd: a webhook sent with a known X-Request-Id is
// followed by it end to end: the event and delivery records keep it, the
// action finds it in REFLEX_REQUEST_ID, and every log line of its journey
// carries it, on the broker (the intake, the event's job, the delivery,
// the agent's reports and the provider's status) and on the agent (the
// job it ran); no line naming the delivery carries another.
func TestRequestIDEndToEnd(t *testing.T) {
	const requestID = "trace-7f3a9c.e2e"
	var brokerLog, agentLog syncBuffer
	debug := &slog.HandlerOptions{Level: slog.LevelDebug}
	rig := startDelivery(t, newRedis(t), deliveryDecl, func(o *server.Options) {
		o.Log = slog.New(slog.NewJSONHandler(&brokerLog, debug))
	})
	rig.agentLog = slog.New(slog.NewJSONHandler(&agentLog, debug))
	rig.runAgent(t, "agent-1", `{"actions": {"deploy": {"type": "system", "exec": ["sh", "-c", "echo request=$REFLEX_REQUEST_ID"], "params": {"COMMIT": {"env": "COMMIT"}}}}}`)

	f := withDelivery(fixture(t, "push.branch"))
	f.Header.Set("X-Request-Id", requestID)
	if r := deliver(t, rig.instance, f); r.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", r.Code, r.Body)
	}
	eventID := f.Header.Get("X-GitHub-Delivery")
	id := wire.ID("push-web", "acme-github", eventID)
	rec := rig.record(t, id, "succeeded", "failed", "refused")
	if rec["status"] != "succeeded" {
		t.Fatalf("delivery %s: %v", rec["status"], rec)
	}
	if got := dig(rec, "event")["request_id"]; got != requestID {
		t.Errorf("the delivery record keeps request id %v, want %s", got, requestID)
	}
	if out, _ := rec["output"].(string); !strings.Contains(out, "request="+requestID+"\n") {
		t.Errorf("the action's output %q: want REFLEX_REQUEST_ID=%s in its environment", out, requestID)
	}
	if ev := waitProcessed(t, rig.instance, eventID); ev.RequestID != requestID {
		t.Errorf("the event record keeps request id %q, want %s", ev.RequestID, requestID)
	}

	job := id + ".1"
	brokerSteps := []step{
		{msg: "http request", attrs: map[string]any{"path": "/hooks/acme-github", "status": float64(http.StatusAccepted)}},
		{msg: "event processed", attrs: map[string]any{"delivery_id": eventID}},
		{msg: "delivery queued", attrs: map[string]any{"delivery": id}},
		{msg: "opening the provider's record of the delivery", attrs: map[string]any{"delivery": id}},
		{msg: "http request", attrs: map[string]any{"path": "/api/v1/agents/jobs/" + job + "/report", "report": wire.ReportStarted}},
		{msg: "delivery running", attrs: map[string]any{"delivery": id, "agent": "agent-1"}},
		{msg: "http request", attrs: map[string]any{"path": "/api/v1/agents/jobs/" + job + "/report", "report": wire.ReportFinished}},
		{msg: "delivery attempt finished", attrs: map[string]any{"delivery": id, "status": "succeeded"}},
		{msg: "reporting the delivery to its provider", attrs: map[string]any{"delivery": id, "phase": "running"}},
		{msg: "reporting the delivery to its provider", attrs: map[string]any{"delivery": id, "phase": "succeeded"}},
	}
	agentSteps := []step{
		{msg: "running", attrs: map[string]any{"delivery": id, "job": job}},
		{msg: "succeeded", attrs: map[string]any{"delivery": id, "job": job}},
	}
	// The record reads succeeded a moment before the report's task logs
	// that it finished.
	var absent []string
	var strays []map[string]any
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		a, s := missing(logLines(t, brokerLog.String()), requestID, id, eventID, brokerSteps)
		b, u := missing(logLines(t, agentLog.String()), requestID, id, eventID, agentSteps)
		absent, strays = append(a, b...), append(s, u...)
		if len(absent) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(absent) > 0 {
		t.Errorf("no log line with request_id %s for:\n  %s\nbroker log:\n%s\nagent log:\n%s", requestID, strings.Join(absent, "\n  "), brokerLog.String(), agentLog.String())
	}
	if len(strays) > 0 {
		t.Errorf("log lines of delivery %s without request_id %s: %v", id, requestID, strays)
	}
}

// TestRequestIDOfAnEvent: an event keeps the id its request was logged
// under: the sender's X-Request-Id when usable, else the one Reflex made
// and answered.
func TestRequestIDOfAnEvent(t *testing.T) {
	in := start(t, newRedis(t))
	tests := []struct {
		name   string
		header string
		// sent is true when the event keeps the header as sent.
		sent bool
	}{
		{name: "a usable id is kept", header: "proxy-1:abc.def_9", sent: true},
		{name: "no id: Reflex's own", header: ""},
		{name: "an id with spaces: Reflex's own", header: "not an id"},
		{name: "an overlong id: Reflex's own", header: strings.Repeat("a", 129)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := withDelivery(fixture(t, "push.branch"))
			req, err := http.NewRequest(http.MethodPost, in.URL+"/hooks/acme-github", strings.NewReader(string(f.Body)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = signedHeaders(f, f.Body, testSecret)
			if tt.header != "" {
				req.Header.Set("X-Request-Id", tt.header)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			answered := resp.Header.Get("X-Request-Id")
			if resp.StatusCode != http.StatusAccepted || answered == "" {
				t.Fatalf("webhook answered %d with X-Request-Id %q, want 202 and an id", resp.StatusCode, answered)
			}
			if tt.sent && answered != tt.header {
				t.Errorf("answered X-Request-Id %q, want the one sent, %q", answered, tt.header)
			}
			if !tt.sent && answered == tt.header {
				t.Errorf("answered X-Request-Id %q: an unusable id was kept", answered)
			}
			ev := waitProcessed(t, in, f.Header.Get("X-GitHub-Delivery"))
			if diff := cmp.Diff(answered, ev.RequestID); diff != "" {
				t.Errorf("the event's request id differs from the answered one (-answered +event):\n%s", diff)
			}
		})
	}
}
