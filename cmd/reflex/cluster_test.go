package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestServeRefusesRedisSettings: serve stops with one clear line on a
// REDIS_URL it cannot use, and on --redis-replica-acks where Redis has no
// replicas to wait for; the password never shows.
func TestServeRefusesRedisSettings(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"sentinel without master", []string{"REDIS_URL=redis-sentinel://:hunter2@127.0.0.1:1/0"}, nil,
			[]string{"redis-sentinel://:xxxxx@127.0.0.1:1/0", "master parameter is missing"}},
		{"cluster with a database", []string{"REDIS_URL=redis-cluster://:hunter2@127.0.0.1:1/2"}, nil,
			[]string{"only database 0"}},
		{"replica acks on the embedded Redis", nil, []string{"--redis-replica-acks", "1"},
			[]string{"--redis-replica-acks needs one Redis primary with replicas", "not embedded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startRaw(t, append(tt.env, "REFLEX_ADMIN_KEY="+e2eAdminKey), append([]string{"--addr", "127.0.0.1:0"}, tt.args...)...)
			select {
			case err := <-p.done:
				if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
					t.Fatalf("exit = %v, want 1", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("serve started")
			}
			last := lastLine(p.logs.String())
			for _, w := range tt.want {
				if !strings.Contains(last, w) {
					t.Errorf("last line %q, want it to contain %q", last, w)
				}
			}
			if strings.Contains(p.logs.String(), "hunter2") {
				t.Errorf("the output shows the password:\n%s", p.logs)
			}
		})
	}
}
