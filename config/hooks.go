package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// HooksSpec is how this server reaches the APIs that hold webhooks, for
// the hooks sources declare (SourceSpec.Hooks): `reflex hooks plan` and
// `apply` run here, with these credentials.
type HooksSpec struct {
	// PublicURL is the base URL providers reach Reflex at, e.g.
	// https://reflex.example.com: hooks post to its /hooks/{source}, and
	// a hook whose URL starts so is this Reflex's (no other is ever
	// changed). Required.
	PublicURL string `yaml:"public_url"`
	// GitHub reaches GitHub (or GitHub Enterprise Server).
	GitHub *GitHubHooksSpec `yaml:"github"`
	// GitLab reaches GitLab.com or a self-managed GitLab.
	GitLab *TokenAPISpec `yaml:"gitlab"`
	// Gitea reaches a Gitea or Forgejo instance.
	Gitea *TokenAPISpec `yaml:"gitea"`
	// Bitbucket reaches Bitbucket Cloud.
	Bitbucket *BitbucketHooksSpec `yaml:"bitbucket"`
	// Harbor reaches a Harbor registry, as a robot account.
	Harbor *HarborHooksSpec `yaml:"harbor"`
	// Quay reaches quay.io or a Red Hat Quay registry. Default URL:
	// https://quay.io.
	Quay *TokenAPISpec `yaml:"quay"`
	// Redeliver, when set, runs the background reconciler in `reflex
	// serve` that asks GitHub to redeliver what failed to arrive.
	// Default: off.
	Redeliver *RedeliverSpec `yaml:"redeliver"`
}

// GitHubHooksSpec authenticates to GitHub's API: a token, or (better) a
// GitHub App.
type GitHubHooksSpec struct {
	// Token is a token with the webhooks permission, as a secret
	// reference.
	Token string `yaml:"token"`
	// App authenticates as a GitHub App instead of a token.
	App *GitHubAppSpec `yaml:"app"`
	// APIURL is the API's base URL for GitHub Enterprise Server
	// (https://HOST/api/v3/). Default: github.com.
	APIURL string `yaml:"api_url"`
}

// GitHubAppSpec is a GitHub App's identity.
type GitHubAppSpec struct {
	// ID is the App's id. Required.
	ID int64 `yaml:"id"`
	// PrivateKey is the App's PEM private key, as a secret reference.
	// Required.
	PrivateKey string `yaml:"private_key"`
	// InstallationID, when set, is the installation used for every
	// repository; otherwise each owner's installation is looked up.
	InstallationID int64 `yaml:"installation_id"`
}

// TokenAPISpec is an API reached with a token.
type TokenAPISpec struct {
	// URL is the instance's base URL, e.g. https://gitlab.example.com.
	URL string `yaml:"url"`
	// Token is the API token, as a secret reference. Required.
	Token string `yaml:"token"`
}

// BitbucketHooksSpec authenticates to Bitbucket Cloud's API: an API
// token (or app password) with its user, or an access token.
type BitbucketHooksSpec struct {
	// URL is the API's base URL. Default: https://api.bitbucket.org/2.0.
	URL string `yaml:"url"`
	// Username is the Atlassian account's email for an API token (the
	// Bitbucket username for an app password).
	Username string `yaml:"username"`
	// Token is the API token or app password, as a secret reference.
	Token string `yaml:"token"`
	// AccessToken is a repository, project or workspace access token, as
	// a secret reference, instead of Username and Token.
	AccessToken string `yaml:"access_token"`
}

// HarborHooksSpec authenticates to a Harbor registry's API.
type HarborHooksSpec struct {
	// URL is the registry's base URL, e.g. https://harbor.example.com.
	// Required.
	URL string `yaml:"url"`
	// Username is the robot account's full name, e.g. robot$reflex.
	// Required.
	Username string `yaml:"username"`
	// Password is its secret, as a secret reference. Required.
	Password string `yaml:"password"`
}

// RedeliverSpec configures the background redelivery of missed
// deliveries.
type RedeliverSpec struct {
	// Interval is how often it runs, e.g. "10m". Default 10m, at least
	// 1m.
	Interval string `yaml:"interval"`
	// Since is how far back it looks, e.g. "6h". Default 6h.
	Since string `yaml:"since"`
	// Events limits it to these event types (GitHub's, with an optional
	// ".action"). Default: every event the hooks send.
	Events []string `yaml:"events"`
}

// SourceHooksSpec declares where a source's webhooks must exist at one
// provider, and what they send. A source object holds it as its "hooks",
// in its JSON form.
type SourceHooksSpec struct {
	// Provider is the API that holds them: github, gitlab, gitea,
	// bitbucket, harbor or quay.
	// Required.
	Provider string `yaml:"provider" json:"provider,omitempty"`
	// Repositories are "owner/name" names, or globs over an owner's
	// repositories ("acme/web-*").
	Repositories []string `yaml:"repositories" json:"repositories,omitempty"`
	// Organizations get organization-wide hooks (GitHub, Gitea).
	Organizations []string `yaml:"organizations" json:"organizations,omitempty"`
	// Installation selects every repository the GitHub App installation
	// can see.
	Installation bool `yaml:"installation" json:"installation,omitempty"`
	// Projects are GitLab's (by full path; globs over a group's too) or
	// Harbor's; Groups are GitLab's.
	Projects []string `yaml:"projects" json:"projects,omitempty"`
	Groups   []string `yaml:"groups" json:"groups,omitempty"`
	// Events are the provider's event names the hooks send. Required.
	Events []string `yaml:"events" json:"events,omitempty"`
	// ContentType is json (the default) or form.
	ContentType string `yaml:"content_type" json:"content_type,omitempty"`
}

// hookProviders are the providers a source's hooks may be declared at.
var hookProviders = []string{"github", "gitlab", "gitea", "bitbucket", "harbor", "quay"}

// validate checks a source's hooks declaration.
func (h *SourceHooksSpec) validate() error {
	switch {
	case !slices.Contains(hookProviders, h.Provider):
		return fmt.Errorf("hooks.provider: %q is not one of %s", h.Provider, strings.Join(hookProviders, ", "))
	case len(h.Events) == 0:
		return errors.New("hooks.events: at least one event is required")
	case h.ContentType != "" && h.ContentType != "json" && h.ContentType != "form":
		return fmt.Errorf("hooks.content_type: %q is neither json nor form", h.ContentType)
	case len(h.Repositories)+len(h.Organizations)+len(h.Projects)+len(h.Groups) == 0 && !h.Installation:
		return errors.New("hooks: name where the hooks go: repositories, organizations, installation, projects or groups")
	case h.Installation && h.Provider != "github":
		return errors.New("hooks.installation: only a GitHub App has installations")
	case len(h.Groups) > 0 && h.Provider != "gitlab":
		return errors.New("hooks.groups: only GitLab has groups")
	case len(h.Projects) > 0 && h.Provider != "gitlab" && h.Provider != "harbor":
		return errors.New("hooks.projects: only GitLab and Harbor have projects; name repositories")
	case len(h.Repositories) > 0 && (h.Provider == "gitlab" || h.Provider == "harbor"):
		return fmt.Errorf("hooks.repositories: %s's hooks are its projects': name them under hooks.projects", h.Provider)
	}
	for _, r := range h.Repositories {
		if owner, name, ok := strings.Cut(r, "/"); !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return fmt.Errorf("hooks.repositories: %q is not owner/name", r)
		}
	}
	return nil
}

// validate checks the server's hooks settings.
func (h *HooksSpec) validate() error {
	if h == nil {
		return nil
	}
	u, err := url.Parse(h.PublicURL)
	if h.PublicURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("public_url: the base URL providers reach Reflex at is required, e.g. https://reflex.example.com")
	}
	if g := h.GitHub; g != nil {
		switch {
		case g.Token == "" && g.App == nil, g.Token != "" && g.App != nil:
			return errors.New("github: give a token or an app, one of them")
		case g.App != nil && (g.App.ID <= 0 || g.App.PrivateKey == ""):
			return errors.New("github.app: id and private_key are required")
		}
	}
	for name, t := range map[string]*TokenAPISpec{"gitlab": h.GitLab, "gitea": h.Gitea} {
		if t != nil && t.Token == "" {
			return fmt.Errorf("%s: token is required", name)
		}
	}
	if b := h.Bitbucket; b != nil && (b.AccessToken == "") == (b.Token == "" || b.Username == "") {
		return errors.New("bitbucket: give username and token, or access_token, one of them")
	}
	if hb := h.Harbor; hb != nil && (hb.URL == "" || hb.Username == "" || hb.Password == "") {
		return errors.New("harbor: url, username and password are required")
	}
	if h.Quay != nil && h.Quay.Token == "" {
		return errors.New("quay: token is required")
	}
	if h.Gitea != nil && h.Gitea.URL == "" {
		return errors.New("gitea: url is required: the instance's base URL")
	}
	if r := h.Redeliver; r != nil {
		for field, v := range map[string]string{"interval": r.Interval, "since": r.Since} {
			if v == "" {
				continue
			}
			if d, err := time.ParseDuration(v); err != nil || d <= 0 {
				return fmt.Errorf("redeliver.%s: %q is not a duration such as 10m", field, v)
			}
		}
		if d, err := time.ParseDuration(r.Interval); err == nil && d < time.Minute {
			return errors.New("redeliver.interval: at least 1m")
		}
	}
	return nil
}
