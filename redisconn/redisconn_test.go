package redisconn_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/reflexops/reflex/redisconn"
)

func TestRedact(t *testing.T) {
	got := redisconn.Redact("redis://user:hunter2@db:6379/3")
	if strings.Contains(got, "hunter2") || !strings.Contains(got, "db:6379/3") {
		t.Fatalf("Redact = %q", got)
	}
}

func TestOpenEmbeddedWarns(t *testing.T) {
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	c, err := redisconn.Open(context.Background(), "", "", log)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.Embedded || c.Client.Ping(context.Background()).Err() != nil {
		t.Fatalf("embedded Redis not usable: %+v", c)
	}
	if strings.Count(logs.String(), "Nothing survives a restart") != 1 {
		t.Fatalf("want exactly one restart warning, log:\n%s", logs.String())
	}
}

func TestOpenErrorsNeverShowThePassword(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, u := range []string{"ftp://user:hunter2@x", "redis://user:hunter2@127.0.0.1:1/0", "redis://user:hunter2@host:abc/0", "redis://user:hun%zzter2@host/0"} {
		_, err := redisconn.Open(context.Background(), u, "", log)
		if err == nil {
			t.Fatalf("Open(%s) succeeded", u)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("error shows the password: %v", err)
		}
	}
}

func TestRedactEveryForm(t *testing.T) {
	tests := []struct{ url, want string }{
		{"redis://user:hunter2@db:6379/3", "redis://user:xxxxx@db:6379/3"},
		{"redis://:hunter2@db", "redis://:xxxxx@db"},
		{"redis://db:6379/0", "redis://db:6379/0"},
		{"redis-sentinel://:hunter2@s1,[::1]:26380/0?master=m&sentinel_password=hunter3", "redis-sentinel://:xxxxx@s1,[::1]:26380/0?master=m&sentinel_password=xxxxx"},
		{"redis-cluster://app:hunter2@n1:7000,n2:7001", "redis-cluster://app:xxxxx@n1:7000,n2:7001"},
		{"redis://db?password=hunter2", "redis://db?password=xxxxx"},
		{"nonsense", "(unparseable URL)"},
	}
	for _, tt := range tests {
		if got := redisconn.Redact(tt.url); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestOpenErrorsOfEachModeNeverShowThePassword(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, u := range []string{
		"redis-sentinel://:hunter2@127.0.0.1:1/0", // no master
		"redis-sentinel://u:hunter2@127.0.0.1:1/x?master=m",
		"redis-sentinel://127.0.0.1:1/0?master=m&sentinel_password=hunter2&bad=1",
		"redis-sentinel://:hunter2@127.0.0.1:1/0?master=m", // nothing listens
		"redis-cluster://:hunter2@127.0.0.1:1,127.0.0.1:2/5",
		"redis-cluster://:hunter2@127.0.0.1:1",
		"rediss-cluster://:hunter2@bad host:1",
	} {
		_, err := redisconn.Open(context.Background(), u, "", log)
		if err == nil {
			t.Fatalf("Open(%s) succeeded", u)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("Open(%s): the error shows the password: %v", u, err)
		}
	}
}
