package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/registry"
)

// maxAnswer bounds how much of the server's answer send reads.
const maxAnswer = 1 << 20

type sendFlags struct {
	url       string
	source    string
	connector string
	config    string
	secret    string
	event     string
	delivery  string
	form      bool
	timeout   time.Duration
}

func newSendCmd() *cobra.Command {
	var f sendFlags
	cmd := &cobra.Command{
		Use:   "send [flags] FILE",
		Short: "Sign a payload file as the provider would and post it to a running Reflex",
		Long: `Send a webhook delivery to a running Reflex without the provider: the payload
FILE is posted to <url>/hooks/<source> with the headers and signature the
provider would send, so a setup can be tested end to end.

With --config, the source's connector, settings and first secret come from
the server's configuration file; otherwise --connector (default github) and
--secret say them.

The event type comes from --event, else from a recorded headers file next to
FILE (X.headers.json for X.json, as in fixtures/), else from the file name
up to its first dot (push.branch.json is a push). Each run uses a fresh
delivery id unless --delivery gives one: send the same id twice to see
de-duplication at work.`,
		Example: `  reflex send --source acme-github --secret env:ACME_GITHUB_SECRET fixtures/github/push.branch.json
  reflex send --config reflex.yaml --source acme-gitlab fixtures/gitlab/push.branch.json
  reflex send --url https://reflex.example.com --source acme-github --secret file:/run/secret \
      --event workflow_run --delivery 3f2c… payload.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return send(cmd.Context(), f, args[0], cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "http://localhost:8080", "base URL of the Reflex server")
	fl.StringVar(&f.source, "source", "", "source name to post to (required)")
	fl.StringVar(&f.connector, "connector", "", "connector whose provider to imitate (default: the source's in --config, else github)")
	fl.StringVar(&f.config, "config", "", "the server's configuration file: the source's connector, settings and secret come from it")
	fl.StringVar(&f.secret, "secret", "", "webhook secret to sign with: a literal, env:NAME or file:PATH (default: the source's first in --config)")
	fl.StringVar(&f.event, "event", "", "provider event type, e.g. push")
	fl.StringVar(&f.delivery, "delivery", "", "delivery id (default: a new UUID)")
	fl.BoolVar(&f.form, "form", false, "send the payload form-encoded (payload=…) instead of as JSON")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "how long to wait for the answer")
	return cmd
}

func send(ctx context.Context, f sendFlags, file string, out io.Writer) error {
	if f.source == "" {
		return fmt.Errorf("--source is required: the name of the source to post to")
	}
	conn, err := sendConnector(&f)
	if err != nil {
		return err
	}
	if f.secret == "" {
		return fmt.Errorf("--secret is required: the source's webhook secret (a literal, env:NAME or file:PATH), or give --config")
	}
	sim, ok := conn.(connectors.Simulator)
	if !ok {
		return fmt.Errorf("connector %s cannot imitate its provider", f.connector)
	}
	secret, err := config.ResolveSecret(f.secret)
	if err != nil {
		return fmt.Errorf("--secret: %w", err)
	}
	body, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read payload: %w", err)
	}
	if !json.Valid(body) {
		return fmt.Errorf("%s is not valid JSON", file)
	}
	typ := f.event
	if typ == "" {
		if typ, err = recordedEventType(sim, file, body); err != nil {
			return err
		}
	}
	id := f.delivery
	if id == "" {
		id = uuid.NewString()
	}
	h, body := sim.Delivery(typ, id, body)
	if f.form {
		body = []byte(url.Values{"payload": {string(body)}}.Encode())
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	// The signer gets the body as it is sent, Content-Type set: GitHub
	// signs a form body whole, Gitea the payload field it reads from it.
	sim.Sign(h, body, secret)
	var token string
	if t, ok := conn.(connectors.PathTokenTaker); ok && t.TakesPathToken() {
		// The provider signs nothing: the secret is the URL's token.
		token = string(secret)
	}
	return post(ctx, f, token, h, body, out)
}

// sendConnector returns the connector to sign with, configured as the
// source is in --config when that is given (which also gives the secret
// when --secret does not).
func sendConnector(f *sendFlags) (connectors.Connector, error) {
	if f.config == "" {
		if f.connector == "" {
			f.connector = "github"
		}
		return registry.Lookup(f.connector)
	}
	raw, err := os.ReadFile(f.config)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := config.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", f.config, err)
	}
	for _, s := range cfg.Sources {
		if s.Name != f.source {
			continue
		}
		if f.connector != "" && f.connector != s.Connector {
			return nil, fmt.Errorf("--connector %s: source %q of %s uses the %s connector", f.connector, s.Name, f.config, s.Connector)
		}
		f.connector = s.Connector
		if f.secret == "" && len(s.Secrets) > 0 {
			f.secret = s.Secrets[0]
		}
		conn, err := registry.Configure(s.Connector, s.Settings)
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", s.Name, err)
		}
		return conn, nil
	}
	return nil, fmt.Errorf("%s declares no source %q", f.config, f.source)
}

// recordedEventType returns the event type in the headers file recorded
// next to a payload, as the connector reads it, or else the payload file's
// name up to its first dot.
func recordedEventType(sim connectors.Simulator, file string, body []byte) (string, error) {
	headersFile := strings.TrimSuffix(file, ".json") + ".headers.json"
	if raw, err := os.ReadFile(headersFile); err == nil {
		var recorded map[string]string
		if err := json.Unmarshal(raw, &recorded); err != nil {
			return "", fmt.Errorf("read %s: %w", headersFile, err)
		}
		h := http.Header{}
		for k, v := range recorded {
			h.Set(k, v)
		}
		if typ := sim.EventType(h, body); typ != "" {
			return typ, nil
		}
	}
	if typ := sim.EventType(http.Header{}, body); typ != "" {
		return typ, nil
	}
	typ, _, _ := strings.Cut(filepath.Base(file), ".")
	if typ == "" {
		return "", fmt.Errorf("cannot tell the event type of %s: give --event", file)
	}
	return typ, nil
}

// post sends a delivery to the source's URL, with token after it when
// the connector takes one there; errors show the URL without it.
func post(ctx context.Context, f sendFlags, token string, h http.Header, body []byte, out io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	target := strings.TrimRight(f.url, "/") + "/hooks/" + url.PathEscape(f.source)
	shown := target
	if token != "" {
		shown = target + "/[token]"
		target += "/" + url.PathEscape(token)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("--url: cannot make a request to %s", shown)
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post to %s: %w", shown, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	answer = bytes.TrimSpace(answer)
	if resp.StatusCode >= 400 {
		return fmt.Errorf("delivery refused: %s: %s", resp.Status, answer)
	}
	fmt.Fprintf(out, "%s %s\n", resp.Status, answer)
	return nil
}
