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
