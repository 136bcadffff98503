package server_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/server"
	"github.com/reflexops/reflex/wire"
)

// brokenTriggers adds to the delivery scenario a trigger whose service has
// no zone and one whose expression fails on every push.
const brokenTriggers = `
  - {name: no-zone, on: 'event.kind == "code.pushed"', service: zoneless, action: deploy}
  - {name: bad-expression, on: 'event.build.name == "x"', service: web-prod, action: deploy}
`

// TestTriggerProblemsAreRecorded: a trigger that cannot decide, or whose
// service has no zone, is recorded on the event at once and delivers
// nothing, without holding the event in retries; the other triggers of
// the event deliver.
func TestTriggerProblemsAreRecorded(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl+brokenTriggers)
	master(t, rig.instance, "POST", "/api/v1/service", `{"name":"zoneless","pipeline":"web"}`)
	f := withDelivery(fixture(t, "push.branch"))
	if r := deliver(t, rig.instance, f); r.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", r.Code, r.Body)
	}
	ev := waitProcessedWithin(t, rig.instance, f.Header.Get("X-GitHub-Delivery"), 10*time.Second)
	if ev.Attempts != 0 || ev.Error != "" {
		t.Errorf("event attempts %d, error %q: a trigger problem must not fail the event", ev.Attempts, ev.Error)
	}
	joined := strings.Join(ev.TriggerErrors, "\n")
	if len(ev.TriggerErrors) != 2 || !strings.Contains(joined, "trigger no-zone: service zoneless: the service has no zone") ||
		!strings.Contains(joined, "trigger bad-expression: on: no such key: build") {
		t.Fatalf("trigger errors = %q", ev.TriggerErrors)
	}
	rig.record(t, wire.ID("push-web", "acme-github", ev.ID), "queued")
	if r, _ := master(t, rig.instance, "GET", "/api/v1/deployment/"+wire.ID("no-zone", "acme-github", ev.ID), ""); r.Code != http.StatusNotFound {
		t.Errorf("the zoneless trigger left a delivery record: %d", r.Code)
	}
}

// failOnce is a Redis hook that fails the first command reading a key
// with a given prefix as if the connection had been refused.
type failOnce struct {
	prefix string
	failed atomic.Bool
}

func (f *failOnce) DialHook(next redis.DialHook) redis.DialHook { return next }

func (f *failOnce) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (f *failOnce) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		args := cmd.Args()
		if len(args) > 1 && cmd.Name() == "hget" {
			if key, _ := args[1].(string); strings.HasPrefix(key, f.prefix) && f.failed.CompareAndSwap(false, true) {
				err := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
				cmd.SetErr(err)
				return err
			}
		}
		return next(ctx, cmd)
	}
}

// TestRedisBlipWhileMatching: a failure to read the trigger's service is
// not taken for "no match": the delivery is still made.
func TestRedisBlipWhileMatching(t *testing.T) {
	rdb := newRedis(t)
	hook := &failOnce{prefix: keyspace.Object("service", "web-prod")}
	rig := startDelivery(t, rdb, deliveryDecl)
	rdb.AddHook(hook) // after the start: its reads of the service are not the worker's
	f := withDelivery(fixture(t, "push.branch"))
	if r := deliver(t, rig.instance, f); r.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", r.Code, r.Body)
	}
	waitProcessed(t, rig.instance, f.Header.Get("X-GitHub-Delivery"))
	if !hook.failed.Load() {
		t.Fatal("the service was never read through the failing hook; the test proves nothing")
	}
	rig.record(t, wire.ID("push-web", "acme-github", f.Header.Get("X-GitHub-Delivery")), "queued")
}

// TestDeployingBeforeTheActionStarts: the service is marked deploying,
// and its release's next version set, before the agent can start the
// action, however short the action is; the release records the image,
// digest and build as well as the version.
func TestDeployingBeforeTheActionStarts(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl)
	started := filepath.Join(rig.dir, "started")
	rig.runAgent(t, "agent-1", `{"actions": {"deploy": {"type": "system", "exec": ["sh", "-c", "date +%s%N > `+started+`"], "params": {"COMMIT": {}}}}}`)
	f := withDelivery(fixture(t, "push.branch"))
	if r := deliver(t, rig.instance, f); r.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", r.Code, r.Body)
	}
	rig.record(t, wire.ID("push-web", "acme-github", f.Header.Get("X-GitHub-Delivery")), "succeeded")
	raw, err := os.ReadFile(started)
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	actionAt := time.Unix(0, ns)

	var revisions []map[string]any
	apiGet(t, rig.instance, "/api/v1/service/web-prod/versions", &revisions)
	var markedAt time.Time
	for _, v := range revisions {
		var rev map[string]any
		apiGet(t, rig.instance, "/api/v1/service/web-prod?version="+strconv.Itoa(int(v["revision"].(float64))), &rev)
		if dig(rev, "status")["deploying"] == true {
			markedAt, _ = time.Parse(time.RFC3339Nano, rev["updated_at"].(string))
		}
	}
	if markedAt.IsZero() || !markedAt.Before(actionAt) {
		t.Fatalf("the service was marked deploying at %v, the action started at %v: want it marked first", markedAt, actionAt)
	}
	var rel map[string]any
	apiGet(t, rig.instance, "/api/v1/release/web-prod", &rel)
	cur := dig(rel, "current")
	if cur["version"] != pushedCommit[:7] || cur["build"] != "acme-github:Codertocat:Hello-World:"+pushedCommit[:12] {
		t.Fatalf("current release = %v", cur)
	}
}

// TestReleaseRecordsTheImage: a delivery of a published image records
// the image and its digest on the release.
func TestReleaseRecordsTheImage(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl+`
  - {name: image-web, on: 'event.kind == "artifact.published"', service: web-prod, action: deploy, release: event.tag}
`, func(o *server.Options) {
		o.Config.Scopes = append(o.Config.Scopes, map[string]any{"name": "images", "actions": []any{"deliver"}, "types": []any{"event"}, "mode": "global", "policies": []any{"verified"}})
	})
	rig.runAgent(t, "agent-1", `{"actions": {"deploy": {"type": "system", "exec": ["true"], "params": {"COMMIT": {}}}}}`)
	f := withDelivery(fixture(t, "registry_package.published"))
	if r := deliver(t, rig.instance, f); r.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", r.Code, r.Body)
	}
	ev := waitProcessed(t, rig.instance, f.Header.Get("X-GitHub-Delivery"))
	rig.record(t, wire.ID("image-web", "acme-github", ev.ID), "succeeded")
	var rel map[string]any
	apiGet(t, rig.instance, "/api/v1/release/web-prod", &rel)
	cur := dig(rel, "current")
	if ev.Artifact == nil || cur["version"] != ev.Tag || cur["image"] != ev.Artifact.Reference || cur["digest"] != ev.Artifact.Digest || cur["digest"] == nil {
		t.Fatalf("current release = %v, want the version, image and digest of %+v", cur, ev.Artifact)
	}
}
