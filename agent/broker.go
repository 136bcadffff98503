package agent

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/internal/loopback"
	"github.com/reflexops/reflex/wire"
)

// callTimeout bounds one call of the agent API, a poll's wait aside.
const callTimeout = 30 * time.Second

// errLeaseLost says the job is no longer the agent's: its lease ran out,
// was never granted, or Reflex knows no such job of the agent's zone. The
// agent stops the job and says nothing more of it.
var errLeaseLost = errors.New("the lease on the job is no longer this agent's")

// statusError is an answer of the agent API that is not a success.
type statusError struct {
	status  int
	message string
	// retryAfter is the wait the answer asked for, if any.
	retryAfter time.Duration
}

func (e *statusError) Error() string {
	if e.message == "" {
		return fmt.Sprintf("Reflex answered %d %s", e.status, http.StatusText(e.status))
	}
	return fmt.Sprintf("Reflex answered %d %s: %s", e.status, http.StatusText(e.status), e.message)
}

// transient reports whether a failed call may succeed if made again: the
// broker could not be reached, timed out, is restarting, or asks to wait.
func transient(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.status >= 500 || se.status == http.StatusTooManyRequests || se.status == http.StatusRequestTimeout
	}
	return err != nil && !errors.Is(err, errLeaseLost) && !errors.Is(err, context.Canceled)
}

// broker calls Reflex's agent API with the agent's key.
type broker struct {
	base string
	key  string
	http *http.Client
	// userAgent names the agent's build to the broker.
	userAgent string
}

// newBroker checks the broker's URL: HTTPS, or plain HTTP to a loopback
// address only (a trial on one machine), since every call carries the
// agent's key.
func newBroker(base, key, version string, client *http.Client) (*broker, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("broker URL %q: want https://host[:port]", base)
	}
	if u.Scheme == "http" && !loopback.Host(u.Hostname()) {
		return nil, fmt.Errorf("broker URL %q: the agent's key would cross the network in clear; use https:// (plain http:// only to localhost)", base)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("broker URL %q: want no credentials, query or fragment in it", base)
	}
	if !strings.Contains(key, ".") {
		return nil, errors.New("the agent's API key must be name.secret, as Reflex printed it when the key was created")
	}
	return &broker{base: u.String(), key: key, http: client, userAgent: "reflex-agent/" + cmp.Or(version, "dev")}, nil
}

// call makes one call: a POST of in (nil: no body) to path, whose JSON
// answer (2xx other than 204) is decoded into out. A job's operation
// answered 401, 403, 404 or 409 is errLeaseLost: the job is no longer the
// agent's to run, and a 401 (its key was deleted) stops it at once rather
// than when its lease runs out.
func (b *broker) call(ctx context.Context, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("encode %s: %w", path, err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", b.userAgent)
	if id := requestIDOf(ctx); id != "" {
		req.Header.Set("X-Request-Id", id)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("reach Reflex: %w", redact(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("read Reflex's answer to %s: %w", path, err)
	}
	switch {
	case resp.StatusCode == http.StatusNoContent:
		return resp.StatusCode, nil
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return resp.StatusCode, fmt.Errorf("decode the answer to %s: %w", path, err)
			}
		}
		return resp.StatusCode, nil
	}
	var e struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(raw, &e)
	se := &statusError{status: resp.StatusCode, message: e.Message}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		se.retryAfter = time.Duration(min(s, 300)) * time.Second
	}
	if out != nil && resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
		_ = json.Unmarshal(raw, out)
	}
	if strings.HasPrefix(path, "/api/v1/agents/jobs/") && path != wire.PathNext {
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict:
			return resp.StatusCode, fmt.Errorf("%w: %w", errLeaseLost, se)
		}
	}
	return resp.StatusCode, se
}

// requestIDKey holds, in a call's context, the request id of the job the
// call is about.
type requestIDKey struct{}

// withRequestID returns ctx carrying a job's request id: the calls made
// with it send it in X-Request-Id, and Reflex logs them under it. An
// id that could not be a header's value is not carried.
func withRequestID(ctx context.Context, id string) context.Context {
	if id == "" || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return ctx
	}
	return context.WithValue(ctx, requestIDKey{}, id)
}

// requestIDOf returns the request id ctx carries, or "".
func requestIDOf(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// redact drops the URL's query from a transport error: nothing secret is
// in it, but a log line stays short.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// callAgain makes a call until it succeeds, fails for good, or until
// (real time); failures that may pass are tried again after a growing,
// jittered wait.
func (b *broker) callAgain(ctx context.Context, until time.Time, path string, in, out any) error {
	var wait backoff
	for {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		_, err := b.call(cctx, path, in, out)
		cancel()
		if err == nil || !transient(err) || ctx.Err() != nil {
			return err
		}
		d := wait.next(err)
		if time.Now().Add(d).After(until) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
}

// backoff is a growing wait between calls that failed: from a quarter of
// a second to 30 seconds, doubling, each wait a random time between half
// and all of it (so agents that lost the broker together do not return in
// lockstep), or what the broker asked for.
type backoff struct{ n int }

// Bounds of backoff.
const (
	backoffMin = 250 * time.Millisecond
	backoffMax = 30 * time.Second
)

func (b *backoff) next(err error) time.Duration {
	var se *statusError
	if errors.As(err, &se) && se.retryAfter > 0 {
		return se.retryAfter
	}
	d := min(backoffMin<<min(b.n, 10), backoffMax)
	b.n++
	return d/2 + rand.N(d/2+1)
}

func (b *backoff) reset() { b.n = 0 }
