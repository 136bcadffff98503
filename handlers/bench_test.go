package handlers_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/github"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/handlers"
	"github.com/reflexops/reflex/intake"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/sources"
	"github.com/reflexops/reflex/state"
)

// BenchmarkIntake measures the whole intake path of a push delivery through
// the HTTP handler: bounded read, verify, parse and normalize, de-duplicate
// and enqueue in Redis (a real one when REDIS_URL is set), and the answer.
// BenchmarkBaselineRedisSet stores the same body with one SET on the same
// Redis: the yardstick for the ratio.
func BenchmarkIntake(b *testing.B) {
	r := redistest.New(b)
	ctx, log := context.Background(), slog.New(slog.DiscardHandler)
	store := state.New(r.Client, state.Options{Check: policies.Check})
	secret := []byte("bench-secret")
	b.Setenv("REFLEX_SECRET_BENCH", string(secret))
	src := state.NewObject(state.TypeSource, map[string]any{"name": "acme-github", "connector": "github", "secrets": []any{"env:REFLEX_SECRET_BENCH"}})
	if _, err := store.Create(ctx, src, "bench"); err != nil {
		b.Fatal(err)
	}
	set := sources.NewSet(store, log, nil, sources.SecretRefs{})
	engine := policies.NewEngine(store, log)
	if err := policies.EnsureDefaults(ctx, store); err != nil {
		b.Fatal(err)
	}
	if err := errors.Join(set.Reload(ctx), engine.Reload(ctx)); err != nil {
		b.Fatal(err)
	}
	in := &intake.Intake{Redis: r.Client, Store: store, Authz: engine, Log: log}
	hooks := handlers.NewHooks(set, in, handlers.HooksOptions{})
	router, err := handlers.NewRouter(handlers.Deps{Redis: r.Client, Store: store, Hooks: hooks, Log: log})
	if err != nil {
		b.Fatal(err)
	}
	f, err := fixtures.Get(github.Name, "push.branch")
	if err != nil {
		b.Fatal(err)
	}
	header := f.Header.Clone()
	github.New().(connectors.Signer).Sign(header, f.Body, secret)
	b.ReportAllocs()
	b.SetBytes(int64(len(f.Body)))
	i := 0
	for b.Loop() {
		i++
		req := httptest.NewRequest(http.MethodPost, "/hooks/acme-github", bytes.NewReader(f.Body))
		req.Header = header.Clone()
		req.Header.Set(github.HeaderDelivery, "bench-"+strconv.Itoa(i))
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("answered %d %s", rec.Code, rec.Body)
		}
	}
}

func BenchmarkBaselineRedisSet(b *testing.B) {
	r := redistest.New(b)
	f, err := fixtures.Get(github.Name, "push.branch")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(f.Body)))
	i := 0
	for b.Loop() {
		i++
		if err := r.Client.Set(ctx, "bench:"+strconv.Itoa(i), f.Body, 0).Err(); err != nil {
			b.Fatal(err)
		}
	}
}
