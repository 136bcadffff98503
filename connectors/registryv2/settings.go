package registryv2

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// MaxUsername bounds Settings.Username.
const MaxUsername = 256

// Settings are a registry connector's settings.confirm: the registry a
// push is confirmed with, and the account that asks.
type Settings struct {
	// Registry is the base URL of the registry's API, https.
	Registry string `json:"registry"`
	// Username is the account the confirmation authenticates as when the
	// credential names none. Default: none (anonymous, or the
	// credential's).
	Username string `json:"username"`
}

// Check applies defaultRegistry when the settings name none ("" makes
// the registry required) and checks them. Errors name the field, as
// "settings.confirm.<field>: …".
func (s *Settings) Check(defaultRegistry string) error {
	if s.Registry == "" {
		if defaultRegistry == "" {
			return errors.New("settings.confirm.registry: is required: the registry's base URL, e.g. https://myregistry.azurecr.io")
		}
		s.Registry = defaultRegistry
	}
	u, err := url.Parse(s.Registry)
	switch {
	case err != nil:
		return errors.New("settings.confirm.registry: cannot read the URL")
	case u.Scheme != "https" || u.Host == "":
		return errors.New("settings.confirm.registry: is not an https URL; the registry is asked over https only")
	case u.User != nil || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "":
		return errors.New("settings.confirm.registry: name the registry by its base URL alone, e.g. https://registry.example.com, without a user, path or query")
	case len(s.Username) > MaxUsername:
		return fmt.Errorf("settings.confirm.username: is longer than %d characters", MaxUsername)
	case strings.ContainsFunc(s.Username, unicode.IsControl):
		return errors.New("settings.confirm.username: holds a control character")
	}
	return nil
}

// Host returns the host of the registry's base URL, as Confirmations
// name it.
func (s *Settings) Host() string {
	if u, err := url.Parse(s.Registry); err == nil && u.Host != "" {
		return u.Host
	}
	return s.Registry
}

// Confirm asks the registry whether an image push is true, as Confirm
// does, authenticating as cred (as s.Username when cred names no user).
// It returns nil, nil for an event that is not an image push, and
// refutes, without asking, an artifact that is not a container image
// (the registry API serves images alone).
func (s *Settings) Confirm(ctx context.Context, ev *event.Event, cred connectors.Credential) (*event.Confirmation, error) {
	if ev == nil || ev.Kind != event.KindArtifactPublished || ev.Artifact == nil {
		return nil, nil
	}
	if t := ev.Artifact.Type; t != "" && t != "container" {
		return &event.Confirmation{By: "registry " + s.Host(), Detail: "a " + t + " artifact cannot be asked about through the registry API", At: time.Now().UTC()}, nil
	}
	if cred.Username == "" {
		cred.Username = s.Username
	}
	return Confirm(ctx, s.Registry, ev.Artifact, cred)
}
