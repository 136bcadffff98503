// Package providers builds the hook providers a server's configuration
// names (its "hooks" section), with their credentials resolved.
package providers

import (
	"fmt"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/hooks/bitbucket"
	"github.com/reflexops/reflex/hooks/gitea"
	"github.com/reflexops/reflex/hooks/github"
	"github.com/reflexops/reflex/hooks/gitlab"
	"github.com/reflexops/reflex/hooks/harbor"
	"github.com/reflexops/reflex/hooks/quay"
)

// New returns the providers spec configures, by name.
func New(spec *config.HooksSpec) (map[string]hooks.Provider, error) {
	out := map[string]hooks.Provider{}
	if spec == nil {
		return out, nil
	}
	if g := spec.GitHub; g != nil {
		o := github.Options{APIURL: g.APIURL}
		if g.Token != "" {
			token, err := config.ResolveSecret(g.Token)
			if err != nil {
				return nil, fmt.Errorf("hooks.github.token: %w", err)
			}
			o.Token = string(token)
		}
		if a := g.App; a != nil {
			key, err := config.ResolveSecret(a.PrivateKey)
			if err != nil {
				return nil, fmt.Errorf("hooks.github.app.private_key: %w", err)
			}
			o.App = &github.AppAuth{AppID: a.ID, PrivateKey: key, InstallationID: a.InstallationID}
		}
		p, err := github.New(o)
		if err != nil {
			return nil, fmt.Errorf("hooks.github: %w", err)
		}
		out["github"] = p
	}
	if g := spec.GitLab; g != nil {
		token, err := config.ResolveSecret(g.Token)
		if err != nil {
			return nil, fmt.Errorf("hooks.gitlab.token: %w", err)
		}
		p, err := gitlab.New(gitlab.Options{BaseURL: g.URL, Token: string(token)})
		if err != nil {
			return nil, fmt.Errorf("hooks.gitlab: %w", err)
		}
		out["gitlab"] = p
	}
	if g := spec.Gitea; g != nil {
		token, err := config.ResolveSecret(g.Token)
		if err != nil {
			return nil, fmt.Errorf("hooks.gitea.token: %w", err)
		}
		p, err := gitea.New(gitea.Options{BaseURL: g.URL, Token: string(token)})
		if err != nil {
			return nil, fmt.Errorf("hooks.gitea: %w", err)
		}
		out["gitea"] = p
	}
	if b := spec.Bitbucket; b != nil {
		o := bitbucket.Options{BaseURL: b.URL, Username: b.Username}
		for _, ref := range []struct {
			field, ref string
			to         *string
		}{{"token", b.Token, &o.Token}, {"access_token", b.AccessToken, &o.AccessToken}} {
			if ref.ref == "" {
				continue
			}
			v, err := config.ResolveSecret(ref.ref)
			if err != nil {
				return nil, fmt.Errorf("hooks.bitbucket.%s: %w", ref.field, err)
			}
			*ref.to = string(v)
		}
		p, err := bitbucket.New(o)
		if err != nil {
			return nil, fmt.Errorf("hooks.bitbucket: %w", err)
		}
		out["bitbucket"] = p
	}
	if hb := spec.Harbor; hb != nil {
		pw, err := config.ResolveSecret(hb.Password)
		if err != nil {
			return nil, fmt.Errorf("hooks.harbor.password: %w", err)
		}
		p, err := harbor.New(harbor.Options{BaseURL: hb.URL, Username: hb.Username, Password: string(pw)})
		if err != nil {
			return nil, fmt.Errorf("hooks.harbor: %w", err)
		}
		out["harbor"] = p
	}
	if q := spec.Quay; q != nil {
		token, err := config.ResolveSecret(q.Token)
		if err != nil {
			return nil, fmt.Errorf("hooks.quay.token: %w", err)
		}
		p, err := quay.New(quay.Options{BaseURL: q.URL, Token: string(token)})
		if err != nil {
			return nil, fmt.Errorf("hooks.quay: %w", err)
		}
		out["quay"] = p
	}
	return out, nil
}
