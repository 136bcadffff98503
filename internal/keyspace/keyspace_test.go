package keyspace_test

import (
	"strings"
	"testing"

	"github.com/reflexops/reflex/internal/keyspace"
)

// TestLayout pins every key name: a change to one changes the layout of
// existing stores, and needs a migration (Store.Migrate) with it.
func TestLayout(t *testing.T) {
	m := keyspace.EventMember("acme", "d-1")
	l := keyspace.Legacy
	tests := []struct{ got, want string }{
		{keyspace.Events(), "reflex:{events}:all"},
		{keyspace.SourceEvents("acme"), "reflex:{events}:source:acme"},
		{keyspace.EventIDs(), "reflex:{events}:ids"},
		{keyspace.Event(m), "reflex:{events}:event:acme/d-1"},
		{keyspace.Payload(m), "reflex:{events}:payload:acme/d-1"},
		{keyspace.Decisions(m), "reflex:{events}:decisions:acme/d-1"},
		{keyspace.Dedupe("acme", "d-1"), "reflex:{events}:dedupe:acme/d-1"},
		{keyspace.Object("service", "web"), "reflex:{state}:obj:service:web"},
		{keyspace.ObjectVersions("service", "web"), "reflex:{state}:objv:service:web"},
		{keyspace.ObjectNames("service"), "reflex:{state}:objn:service"},
		{keyspace.ObjectTimes("service"), "reflex:{state}:objt:service"},
		{keyspace.Changes(), "reflex:{state}:changes"},
		{keyspace.CursorKey(), "reflex:{state}:cursor-key"},
		{keyspace.Once("default-policy"), "reflex:{state}:once:default-policy"},
		{keyspace.DeliveryLocks(), "reflex:{delivery}:locks"},
		{keyspace.DeliveryLock("web"), "reflex:{delivery}:lock:web"},
		{keyspace.DeliveryPending("web"), "reflex:{delivery}:pending:web"},
		{keyspace.DeliveryReportLock("d1"), "reflex:{delivery}:report-lock:d1"},
		{keyspace.DeliveryJob("d1"), "reflex:{delivery}:job:d1"},
		{keyspace.DeliverySequence("web"), "reflex:{delivery}:sequence:web"},
		{keyspace.AgentOffers("prod"), "reflex:{agents:prod}:offers"},
		{keyspace.AgentJobs("prod"), "reflex:{agents:prod}:jobs"},
		{keyspace.AgentEnded("prod"), "reflex:{agents:prod}:ended"},
		{keyspace.AgentWake(), "reflex:agents:offered"},

		{l.Events(), "reflex:events"},
		{l.SourceEvents("acme"), "reflex:events:source:acme"},
		{l.EventIDs(), "reflex:events:ids"},
		{l.Event(m), "reflex:event:acme/d-1"},
		{l.Payload(m), "reflex:payload:acme/d-1"},
		{l.Decisions(m), "reflex:decisions:acme/d-1"},
		{l.Dedupe(m), "reflex:dedupe:acme/d-1"},
		{l.Object("service", "web"), "reflex:obj:service:web"},
		{l.ObjectVersions("service", "web"), "reflex:objv:service:web"},
		{l.ObjectNames("service"), "reflex:objn:service"},
		{l.ObjectTimes("service"), "reflex:objt:service"},
		{l.ObjectSet("service"), "reflex:objs:service"},
		{l.Changes(), "reflex:changes"},
		{l.CursorKey(), "reflex:cursor-key"},
		{l.Once("default-policy"), "reflex:once:default-policy"},
		{l.DeliveryLock("web"), "reflex:delivery:lock:web"},
		{l.DeliveryPending("web"), "reflex:delivery:pending:web"},
		{l.DeliveryJob("d1"), "reflex:delivery:job:d1"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("key %q, want %q", tt.got, tt.want)
		}
	}
}

// TestTagComesFirst: a name part holding braces (an object named "{x}")
// cannot move a key to another slot, since Redis hashes the first tag.
func TestTagComesFirst(t *testing.T) {
	for _, k := range []string{keyspace.Object("service", "{x}"), keyspace.Event(keyspace.EventMember("{a}", "{b}")), keyspace.DeliveryLock("}{")} {
		open, end := strings.IndexByte(k, '{'), strings.IndexByte(k, '}')
		if tag := k[open+1 : end]; tag != "state" && tag != "events" && tag != "delivery" {
			t.Errorf("%s hashes by %q", k, tag)
		}
	}
}

// TestZoneKeysShareATag: the keys of one zone, which one script writes
// together, hash by the zone's tag, and no two zones share one.
func TestZoneKeysShareATag(t *testing.T) {
	for _, zone := range []string{"prod", "eu-west-1"} {
		for _, k := range []string{keyspace.AgentOffers(zone), keyspace.AgentJobs(zone), keyspace.AgentEnded(zone)} {
			open, end := strings.IndexByte(k, '{'), strings.IndexByte(k, '}')
			if tag := k[open+1 : end]; tag != "agents:"+zone {
				t.Errorf("%s hashes by %q, want %q", k, tag, "agents:"+zone)
			}
		}
	}
}
