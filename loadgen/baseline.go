package loadgen

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/asynqlog"
	"github.com/reflexops/reflex/jobs"
)

// BaselineQueue is the queue the baseline server queues its jobs on.
const BaselineQueue = "baseline"

// Baseline is the naive webhook server Reflex is measured against: for
// each GitHub delivery it verifies the HMAC, decodes two fields, evaluates
// one CEL expression and queues a job with asynq (the delivery id as task
// id), and answers 202; with Worker set, asynq's own worker runs the jobs
// with a handler that does nothing. It is what a team would write in an
// afternoon, so what Reflex costs beyond it is what its features cost.
type Baseline struct {
	Redis  redis.UniversalClient
	Secret []byte
	// Worker also runs the jobs, with Reflex's default worker settings.
	Worker bool
	Log    *slog.Logger
}

// Serve serves on ln until ctx ends.
func (b *Baseline) Serve(ctx context.Context, ln net.Listener) error {
	env, err := cel.NewEnv(cel.Variable("ref", cel.StringType), cel.Variable("repository", cel.StringType))
	if err != nil {
		return err
	}
	ast, iss := env.Compile(`ref.startsWith("refs/heads/") && repository != ""`)
	if iss.Err() != nil {
		return iss.Err()
	}
	prg, err := env.Program(ast)
	if err != nil {
		return err
	}
	client := asynq.NewClientFromRedisClient(b.Redis)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hooks/{source}", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 25<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sig, ok := strings.CutPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256=")
		got, _ := hex.DecodeString(sig)
		mac := hmac.New(sha256.New, b.Secret)
		mac.Write(body)
		if !ok || !hmac.Equal(got, mac.Sum(nil)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var doc struct {
			Ref        string `json:"ref"`
			Repository struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if _, _, err := prg.Eval(map[string]any{"ref": doc.Ref, "repository": doc.Repository.FullName}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		task := asynq.NewTask("baseline:event", body, asynq.Queue(BaselineQueue), asynq.TaskID(r.Header.Get("X-GitHub-Delivery")), asynq.MaxRetry(12))
		switch _, err := client.EnqueueContext(r.Context(), task); {
		case errors.Is(err, asynq.ErrTaskIDConflict):
			w.WriteHeader(http.StatusOK)
		case err != nil:
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	var worker *asynq.Server
	if b.Worker {
		worker = asynq.NewServerFromRedisClient(b.Redis, asynq.Config{
			Concurrency: jobs.DefaultConcurrency(), TaskCheckInterval: jobs.DefaultPollInterval,
			Queues: map[string]int{BaselineQueue: 1}, LogLevel: asynq.WarnLevel, Logger: asynqlog.New(b.Log),
		})
		if err := worker.Start(asynq.HandlerFunc(func(context.Context, *asynq.Task) error { return nil })); err != nil {
			return fmt.Errorf("start the baseline's worker: %w", err)
		}
		defer worker.Shutdown()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		// No request of a load is worth waiting for.
		return srv.Close()
	case err := <-errc:
		return err
	}
}
