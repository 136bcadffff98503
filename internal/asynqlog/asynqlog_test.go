package asynqlog_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/reflexops/reflex/internal/asynqlog"
)

func TestLevels(t *testing.T) {
	var buf bytes.Buffer
	log := asynqlog.New(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	tests := []struct {
		name  string
		log   func(...any)
		level slog.Level
	}{
		{"debug", log.Debug, slog.LevelDebug},
		{"info", log.Info, slog.LevelInfo},
		{"warn", log.Warn, slog.LevelWarn},
		{"error", log.Error, slog.LevelError},
		{"fatal", log.Fatal, asynqlog.LevelFatal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			tt.log("queue ", "down", 3)
			var rec struct{ Level, Msg string }
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("not one JSON record: %q", buf.String())
			}
			if rec.Level != tt.level.String() || rec.Msg != "queue down3" {
				t.Fatalf("logged %+v, want level %s and message %q", rec, tt.level, "queue down3")
			}
		})
	}
}
