// Package keyfetch fetches what a connector needs from the network to
// verify a delivery (a provider's published keys, a signing certificate)
// and keeps each document as long as the provider's cache headers allow,
// so that a delivery seldom waits on the network and never waits long.
//
// A document is fetched at most once per cache period, by one request
// however many deliveries want it at once, with a timeout. When a fetch
// fails, the last good copy is used while it is no older than MaxStale;
// without one the caller gets an error wrapping
// connectors.ErrUnavailable (the intake answers 503 with Retry-After), and
// the fetch is not tried again for RetryAfter, so a provider that is down
// is not hammered by every delivery.
package keyfetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/internal/loopback"
)

// Defaults of a Cache.
const (
	// DefaultTimeout bounds one fetch.
	DefaultTimeout = 5 * time.Second
	// DefaultMaxBytes bounds a fetched document.
	DefaultMaxBytes = 1 << 20
	// MinAge and MaxAge bound how long a document is kept, whatever its
	// headers say; DefaultAge applies when they say nothing.
	MinAge     = time.Minute
	MaxAge     = 24 * time.Hour
	DefaultAge = time.Hour
	// MaxStale is how long past its age a document still serves while it
	// cannot be fetched again.
	MaxStale = 24 * time.Hour
	// RetryAfter is how long a failed fetch is not tried again.
	RetryAfter = 5 * time.Second
	// MinRefresh is how often Refresh may fetch a document that is still
	// fresh (for a key id the cached set lacks: a rotation).
	MinRefresh = time.Minute
	// MaxEntries bounds the documents one cache keeps: a sender may name
	// URLs (an SNS message its certificate's), and each would otherwise
	// stay.
	MaxEntries = 256
)

// Cache fetches documents by URL and keeps them. The zero value is ready
// to use. It is safe for concurrent use.
type Cache struct {
	// Now is the cache's clock; time.Now when nil.
	Now func() time.Time

	group   singleflight.Group
	mu      sync.Mutex
	entries map[string]*entry
}

// entry is one URL's document, or its last failure.
type entry struct {
	body      []byte
	fetchedAt time.Time
	expires   time.Time
	failedAt  time.Time
	err       error
}

// Get returns the document at rawURL, from the cache while it is fresh.
// Errors wrap connectors.ErrUnavailable when it cannot be had now, and
// say which host failed how (for the server's log, never a secret).
func (c *Cache) Get(ctx context.Context, rawURL string) ([]byte, error) {
	return c.get(ctx, rawURL, false)
}

// Refresh returns the document at rawURL fetched anew, unless it was
// fetched less than MinRefresh ago: a key id the cached set lacks may be
// a key the provider has just published, or a forger's guess, and only
// the first should cost a fetch.
func (c *Cache) Refresh(ctx context.Context, rawURL string) ([]byte, error) {
	return c.get(ctx, rawURL, true)
}

func (c *Cache) get(ctx context.Context, rawURL string, refresh bool) ([]byte, error) {
	now := c.now()
	c.mu.Lock()
	e := c.entries[rawURL]
	c.mu.Unlock()
	if e != nil {
		fresh := e.body != nil && now.Before(e.expires)
		if fresh && (!refresh || now.Sub(e.fetchedAt) < MinRefresh) {
			return e.body, nil
		}
		if e.err != nil && now.Sub(e.failedAt) < RetryAfter {
			return e.stale(now)
		}
	}
	v, err, _ := c.group.Do(rawURL, func() (any, error) {
		// One fetch serves every caller waiting for it, so no one
		// caller's cancellation may end it.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultTimeout)
		defer cancel()
		return c.fetch(fctx, rawURL)
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// stale returns a failed entry's last good copy while it may still serve,
// and its failure otherwise.
func (e *entry) stale(now time.Time) ([]byte, error) {
	if e.body != nil && now.Before(e.expires.Add(MaxStale)) {
		return e.body, nil
	}
	return nil, e.err
}

// fetch fetches rawURL and records the outcome.
func (c *Cache) fetch(ctx context.Context, rawURL string) ([]byte, error) {
	body, age, err := Fetch(ctx, rawURL)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*entry{}
	}
	e := c.entries[rawURL]
	if e == nil {
		if len(c.entries) >= MaxEntries {
			c.evictOldest()
		}
		e = &entry{}
		c.entries[rawURL] = e
	}
	if err != nil {
		e.err, e.failedAt = err, now
		return e.stale(now)
	}
	*e = entry{body: body, fetchedAt: now, expires: now.Add(age)}
	return body, nil
}

// evictOldest removes the entry fetched (or failed) longest ago. The
// caller holds c.mu.
func (c *Cache) evictOldest() {
	var oldest string
	var at time.Time
	for u, e := range c.entries {
		t := e.fetchedAt
		if e.failedAt.After(t) {
			t = e.failedAt
		}
		if oldest == "" || t.Before(at) {
			oldest, at = u, t
		}
	}
	delete(c.entries, oldest)
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Fetch fetches rawURL once, with the client of ctx (WithClient), and
// returns its body and how long it may be kept. Only https URLs are
// fetched, and http only on a loopback address; redirects are not
// followed. Errors wrap connectors.ErrUnavailable.
func Fetch(ctx context.Context, rawURL string) ([]byte, time.Duration, error) {
	if err := CheckURL(rawURL); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", connectors.ErrUnavailable, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", connectors.ErrUnavailable, err)
	}
	req.Header.Set("Accept", "application/json, application/x-pem-file, */*")
	resp, err := ClientFrom(ctx).Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: fetch %s: %v", connectors.ErrUnavailable, hostOf(rawURL), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("%w: fetch %s: %s", connectors.ErrUnavailable, hostOf(rawURL), resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, DefaultMaxBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: fetch %s: %v", connectors.ErrUnavailable, hostOf(rawURL), err)
	}
	if len(body) > DefaultMaxBytes {
		return nil, 0, fmt.Errorf("%w: fetch %s: the document is larger than %d bytes", connectors.ErrUnavailable, hostOf(rawURL), DefaultMaxBytes)
	}
	return body, MaxAgeOf(resp.Header, time.Now()), nil
}

// CheckURL returns an error unless rawURL is an https URL, or an http URL
// on a loopback address (a test's or a local mirror's).
func CheckURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("cannot read the URL: %v", err)
	}
	switch {
	case u.Host == "":
		return fmt.Errorf("the URL %q has no host", rawURL)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopback.Host(u.Hostname()):
		return nil
	}
	return fmt.Errorf("the URL of %s is not https: keys are fetched only over https (http only on a loopback address)", u.Host)
}

func hostOf(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
		return u.Host
	}
	return "the key endpoint"
}

// MaxAgeOf returns how long a response with header h may be kept, between
// MinAge and MaxAge: Cache-Control's max-age less Age, else Expires less
// Date (or now), else DefaultAge. no-store and no-cache keep it MinAge.
func MaxAgeOf(h http.Header, now time.Time) time.Duration {
	age, ok := cacheControlAge(h.Get("Cache-Control"))
	if ok {
		if a, err := strconv.Atoi(strings.TrimSpace(h.Get("Age"))); err == nil && a > 0 {
			age -= time.Duration(a) * time.Second
		}
	} else if exp, err := http.ParseTime(h.Get("Expires")); err == nil {
		if d, err := http.ParseTime(h.Get("Date")); err == nil {
			now = d
		}
		age, ok = exp.Sub(now), true
	}
	if !ok {
		return DefaultAge
	}
	return min(max(age, MinAge), MaxAge)
}

// cacheControlAge reads max-age from a Cache-Control header; no-store and
// no-cache give 0.
func cacheControlAge(cc string) (time.Duration, bool) {
	if cc == "" {
		return 0, false
	}
	age, found := time.Duration(0), false
	for _, d := range strings.Split(cc, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return 0, true
		case "max-age":
			if n, err := strconv.Atoi(strings.Trim(value, `"`)); err == nil && n >= 0 {
				age, found = time.Duration(n)*time.Second, true
			}
		}
	}
	return age, found
}

// clientKey is the context key of the HTTP client keys are fetched with.
type clientKey struct{}

// WithClient returns ctx carrying the HTTP client that fetches keys and
// certificates: the intake's (with its proxy and trusted roots), or a
// test's.
func WithClient(ctx context.Context, client *http.Client) context.Context {
	return context.WithValue(ctx, clientKey{}, client)
}

// ClientFrom returns the client WithClient put in ctx, or DefaultClient.
func ClientFrom(ctx context.Context) *http.Client {
	if c, ok := ctx.Value(clientKey{}).(*http.Client); ok && c != nil {
		return c
	}
	return DefaultClient
}

// DefaultClient fetches through the environment's proxy (HTTPS_PROXY,
// NO_PROXY), with DefaultTimeout, and follows no redirect: a key
// endpoint's address is the one configured or checked, not one it names.
var DefaultClient = NewClient(nil)

// NewClient returns a client like DefaultClient over transport (the
// default transport when nil).
func NewClient(transport http.RoundTripper) *http.Client {
	if transport == nil {
		transport = http.DefaultTransport
	}
	return &http.Client{
		Transport: transport,
		Timeout:   DefaultTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("key endpoints may not redirect")
		},
	}
}
