package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/internal/loopback"
)

// DefaultAPIURL is github.com's API.
const DefaultAPIURL = "https://api.github.com/"

// DefaultTimeout bounds each request (token refreshes included) when
// Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// maxRetries bounds how many rate-limit waits one call waits out.
const maxRetries = 5

// Options configure a Provider. Exactly one of Token and App is set.
type Options struct {
	// Token is a personal access token (classic or fine-grained).
	Token string
	// App authenticates as a GitHub App installation.
	App *AppAuth
	// APIURL is the API's base URL: "https://HOST/api/v3/" for GitHub
	// Enterprise Server ("/api/v3/" is added to a bare host). Default:
	// DefaultAPIURL. Plain http is refused but for a loopback host.
	APIURL string
	// HTTPClient supplies the transport requests go through (tests); its
	// Timeout is used when Timeout is zero. Default: http.DefaultTransport.
	HTTPClient *http.Client
	// Timeout bounds each request. Default: DefaultTimeout.
	Timeout time.Duration
}

// AppAuth are a GitHub App's credentials.
type AppAuth struct {
	// AppID is the App's id (not its client id).
	AppID int64
	// PrivateKey is one of the App's private keys, PEM-encoded.
	PrivateKey []byte
	// InstallationID is the installation whose token is used. When zero
	// it is looked up per owner with the App's JWT (the repository's, the
	// organization's or the user's installation).
	InstallationID int64
}

// Provider is the hooks.Provider, hooks.Pinger and hooks.Redeliverer of
// GitHub and GitHub Enterprise Server. It is safe for concurrent use.
type Provider struct {
	base    *url.URL
	rt      http.RoundTripper
	timeout time.Duration

	// token is the client of token auth; nil with an App.
	token *github.Client

	// With an App: its JWT transport and client, its configured
	// installation, and what was learnt.
	app        *ghinstallation.AppsTransport
	appID      int64
	appClient  *github.Client
	appInstall int64

	mu       sync.Mutex
	installs map[int64]*github.Client // installation clients, by installation id
	owners   map[string]int64         // installation ids, by lower-cased owner
	login    *string                  // the token's user, once asked
}

var (
	_ hooks.Provider    = (*Provider)(nil)
	_ hooks.Pinger      = (*Provider)(nil)
	_ hooks.Redeliverer = (*Provider)(nil)
)

// New returns a Provider for the options.
func New(o Options) (*Provider, error) {
	if (o.Token == "") == (o.App == nil) {
		return nil, errors.New("github hooks: set exactly one of a token and a GitHub App")
	}
	base, err := apiBase(o.APIURL)
	if err != nil {
		return nil, fmt.Errorf("github hooks: %w", err)
	}
	p := &Provider{
		base:     base,
		rt:       http.DefaultTransport,
		timeout:  o.Timeout,
		installs: map[int64]*github.Client{},
		owners:   map[string]int64{},
	}
	if o.HTTPClient != nil {
		if o.HTTPClient.Transport != nil {
			p.rt = o.HTTPClient.Transport
		}
		if p.timeout == 0 {
			p.timeout = o.HTTPClient.Timeout
		}
	}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	if o.Token != "" {
		if strings.ContainsAny(o.Token, " \r\n\t") {
			return nil, errors.New("github hooks: the token holds white space")
		}
		p.token = p.newClient(&tokenTransport{token: o.Token, host: base.Host, next: p.rt})
		return p, nil
	}
	a := o.App
	if a.AppID <= 0 {
		return nil, errors.New("github hooks: app: the App id is required")
	}
	if len(a.PrivateKey) == 0 {
		return nil, errors.New("github hooks: app: the private key is required")
	}
	if a.InstallationID < 0 {
		return nil, errors.New("github hooks: app: the installation id is negative")
	}
	signer, err := newAppSigner(a.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("github hooks: app %d: %w", a.AppID, err)
	}
	atr, err := ghinstallation.NewAppsTransportWithOptions(p.rt, a.AppID, ghinstallation.WithSigner(signer))
	if err != nil {
		return nil, fmt.Errorf("github hooks: app %d: %w", a.AppID, err)
	}
	atr.BaseURL = p.apiRoot()
	p.app, p.appID, p.appInstall = atr, a.AppID, a.InstallationID
	p.appClient = p.newClient(atr)
	return p, nil
}

// Name returns "github".
func (p *Provider) Name() string { return "github" }

// apiBase parses and checks the API's base URL.
func apiBase(raw string) (*url.URL, error) {
	if raw == "" {
		raw = DefaultAPIURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("the API URL %q is not an http(s) base URL such as https://HOST/api/v3/", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback.Host(u.Hostname()) {
			return nil, fmt.Errorf("the API URL %q is plain http: the credentials would cross the network unencrypted", raw)
		}
	default:
		return nil, fmt.Errorf("the API URL %q is not an http(s) base URL such as https://HOST/api/v3/", raw)
	}
	if (u.Path == "" || u.Path == "/") && !strings.EqualFold(u.Hostname(), "api.github.com") {
		u.Path = "/api/v3/"
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath = ""
	return u, nil
}

// apiRoot is the base URL without its trailing slash, as ghinstallation
// takes it.
func (p *Provider) apiRoot() string { return strings.TrimSuffix(p.base.String(), "/") }

// newClient returns a go-github client on rt: requests bounded by the
// timeout, and redirects followed only on the API's own host.
func (p *Provider) newClient(rt http.RoundTripper) *github.Client {
	hc := &http.Client{Transport: rt, Timeout: p.timeout, CheckRedirect: sameHost}
	c := github.NewClient(hc)
	c.BaseURL = p.base
	c.UploadURL = p.base
	c.UserAgent = "reflex-hooks"
	return c
}

// sameHost refuses a redirect to another host (or scheme): the transports
// add credentials to every request, so they must never follow one out.
func sameHost(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || !strings.EqualFold(req.URL.Host, first.Host) {
		return fmt.Errorf("refused a redirect to %s://%s: credentials go to %s only", req.URL.Scheme, req.URL.Host, first.Host)
	}
	return nil
}

// tokenTransport adds a token to the requests for the API's host.
type tokenTransport struct {
	token string
	host  string
	next  http.RoundTripper
}

// RoundTrip sends req with the token when it goes to the API's host.
func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if strings.EqualFold(req.URL.Host, t.host) {
		r.Header.Set("Authorization", "Bearer "+t.token)
	}
	return t.next.RoundTrip(r)
}

// installation returns the client of an installation, made once: its
// ghinstallation.Transport keeps the installation token until a minute
// before it expires, then fetches the next.
func (p *Provider) installation(id int64) *github.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.installs[id]; ok {
		return c
	}
	itr := ghinstallation.NewFromAppsTransport(p.app, id)
	itr.BaseURL = p.apiRoot()
	c := p.newClient(itr)
	p.installs[id] = c
	return c
}

// clientFor returns the client that may act on a target: the token's, or
// the installation's that covers the target's owner.
func (p *Provider) clientFor(ctx context.Context, t hooks.Target) (*github.Client, error) {
	switch t.Kind {
	case hooks.KindRepository:
		owner, repo, err := splitRepo(t.Name)
		if err != nil {
			return nil, err
		}
		return p.ownerClient(ctx, owner, repo, false)
	case hooks.KindOrganization:
		if err := checkName("organization", t.Name); err != nil {
			return nil, err
		}
		return p.ownerClient(ctx, t.Name, "", true)
	}
	return nil, fmt.Errorf("%s: GitHub has repositories and organizations, not a %q", t, t.Kind)
}

// ownerClient returns the client for an owner's resources. With an App
// and no configured installation, the owner's installation is looked up
// once: by the repository when one is given, else as an organization's
// (and, unless org, as a user's).
func (p *Provider) ownerClient(ctx context.Context, owner, repo string, org bool) (*github.Client, error) {
	if p.token != nil {
		return p.token, nil
	}
	if p.appInstall != 0 {
		return p.installation(p.appInstall), nil
	}
	key := strings.ToLower(owner)
	p.mu.Lock()
	id, ok := p.owners[key]
	p.mu.Unlock()
	if ok {
		return p.installation(id), nil
	}
	type lookup struct {
		what string
		find func() (*github.Installation, *github.Response, error)
	}
	var lookups []lookup
	apps := p.appClient.Apps
	switch {
	case repo != "":
		lookups = []lookup{{owner + "/" + repo, func() (*github.Installation, *github.Response, error) {
			return apps.FindRepositoryInstallation(ctx, owner, repo)
		}}}
	default:
		lookups = append(lookups, lookup{"organization " + owner, func() (*github.Installation, *github.Response, error) {
			return apps.FindOrganizationInstallation(ctx, owner)
		}})
		if !org {
			lookups = append(lookups, lookup{"user " + owner, func() (*github.Installation, *github.Response, error) {
				return apps.FindUserInstallation(ctx, owner)
			}})
		}
	}
	for i, l := range lookups {
		var inst *github.Installation
		err := p.call(ctx, "find the GitHub App's installation on "+l.what, func() (*github.Response, error) {
			var resp *github.Response
			var err error
			inst, resp, err = l.find()
			return resp, err
		})
		if status(err) == http.StatusNotFound && i < len(lookups)-1 {
			continue
		}
		if status(err) == http.StatusNotFound {
			return nil, fmt.Errorf("the GitHub App %d is not installed on %s (or the installation cannot see it)", p.appID, l.what)
		}
		if err != nil {
			return nil, p.explain(err, hooks.Target{}, "find the GitHub App's installation on "+l.what)
		}
		id = inst.GetID()
		if id == 0 {
			return nil, fmt.Errorf("find the GitHub App's installation on %s: GitHub answered no installation id", l.what)
		}
		p.mu.Lock()
		p.owners[key] = id
		p.mu.Unlock()
		return p.installation(id), nil
	}
	return nil, fmt.Errorf("no installation of the GitHub App %d covers %s", p.appID, owner)
}

// theInstallation returns the installation an Installation selection
// means: the configured one, else the App's only installation.
func (p *Provider) theInstallation(ctx context.Context) (int64, error) {
	if p.appInstall != 0 {
		return p.appInstall, nil
	}
	var all []*github.Installation
	opt := &github.ListOptions{PerPage: 100}
	for {
		var page []*github.Installation
		var resp *github.Response
		err := p.call(ctx, "list the GitHub App's installations", func() (*github.Response, error) {
			var err error
			page, resp, err = p.appClient.Apps.ListInstallations(ctx, opt)
			return resp, err
		})
		if err != nil {
			return 0, p.explain(err, hooks.Target{}, "list the GitHub App's installations")
		}
		all = append(all, page...)
		if resp.NextPage <= opt.Page || resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	switch len(all) {
	case 0:
		return 0, fmt.Errorf("the GitHub App %d is installed nowhere", p.appID)
	case 1:
		return all[0].GetID(), nil
	}
	names := make([]string, 0, len(all))
	for _, in := range all {
		names = append(names, in.GetAccount().GetLogin()+" ("+strconv.FormatInt(in.GetID(), 10)+")")
	}
	return 0, fmt.Errorf("the GitHub App %d has %d installations (%s): set the installation id to say which one the selection means", p.appID, len(all), strings.Join(names, ", "))
}
