// Package registry lists every connector Reflex ships, by the name used in
// the configuration, and configures one for a source.
package registry

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/acr"
	"github.com/reflexops/reflex/connectors/artifactory"
	"github.com/reflexops/reflex/connectors/azuredevops"
	"github.com/reflexops/reflex/connectors/bitbucket"
	"github.com/reflexops/reflex/connectors/bitbucketserver"
	"github.com/reflexops/reflex/connectors/buildkite"
	"github.com/reflexops/reflex/connectors/circleci"
	"github.com/reflexops/reflex/connectors/cloudevents"
	"github.com/reflexops/reflex/connectors/dockerhub"
	"github.com/reflexops/reflex/connectors/eventbridge"
	"github.com/reflexops/reflex/connectors/gitea"
	"github.com/reflexops/reflex/connectors/github"
	"github.com/reflexops/reflex/connectors/gitlab"
	"github.com/reflexops/reflex/connectors/harbor"
	"github.com/reflexops/reflex/connectors/hmac"
	"github.com/reflexops/reflex/connectors/jenkins"
	"github.com/reflexops/reflex/connectors/pubsub"
	"github.com/reflexops/reflex/connectors/quay"
	"github.com/reflexops/reflex/connectors/sns"
	"github.com/reflexops/reflex/connectors/standardwebhooks"
	"github.com/reflexops/reflex/internal/schemacheck"
)

// constructors is the one table of connectors. Adding a connector means
// adding its line here, fixtures under fixtures/<name>/, and nothing else.
var constructors = map[string]func() connectors.Connector{
	azuredevops.Name:      azuredevops.New,
	sns.Name:              sns.New,
	jenkins.Name:          jenkins.New,
	harbor.Name:           harbor.New,
	eventbridge.Name:      eventbridge.New,
	artifactory.Name:      artifactory.New,
	quay.Name:             quay.New,
	pubsub.Name:           pubsub.New,
	dockerhub.Name:        dockerhub.New,
	acr.Name:              acr.New,
	bitbucket.Name:        bitbucket.New,
	bitbucketserver.Name:  bitbucketserver.New,
	buildkite.Name:        buildkite.New,
	circleci.Name:         circleci.New,
	cloudevents.Name:      cloudevents.New,
	gitea.Name:            gitea.New,
	github.Name:           github.New,
	gitlab.Name:           gitlab.New,
	hmac.Name:             hmac.New,
	standardwebhooks.Name: standardwebhooks.New,
}

// Lookup returns a new connector by name, with its default settings, or an
// error listing the names that exist.
func Lookup(name string) (connectors.Connector, error) {
	newConnector, ok := constructors[name]
	if !ok {
		return nil, fmt.Errorf("unknown connector %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return newConnector(), nil
}

// Configure returns a new connector by name, configured with a source's
// settings: checked against the connector's settings schema, then
// applied. Errors name the field, as "settings.<field>: …"; a connector
// that takes no settings refuses any.
func Configure(name string, settings map[string]any) (connectors.Connector, error) {
	conn, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	cfg, ok := conn.(connectors.Configurable)
	if !ok {
		if len(settings) > 0 {
			return nil, fmt.Errorf("settings: the %s connector takes no settings", name)
		}
		return conn, nil
	}
	sch, err := settingsSchema(name, cfg)
	if err != nil {
		return nil, err
	}
	var inst any = map[string]any{}
	if settings != nil {
		// The schema library wants the generic form decoding JSON gives.
		raw, err := json.Marshal(settings)
		if err != nil {
			return nil, fmt.Errorf("settings: %w", err)
		}
		if inst, err = jsonschema.UnmarshalJSON(strings.NewReader(string(raw))); err != nil {
			return nil, fmt.Errorf("settings: %w", err)
		}
	}
	if err := schemacheck.Validate(sch, "settings", inst); err != nil {
		return nil, err
	}
	if err := cfg.Configure(settings); err != nil {
		return nil, err
	}
	return conn, nil
}

// schemas caches each connector's compiled settings schema.
var schemas sync.Map // name → *jsonschema.Schema

func settingsSchema(name string, cfg connectors.Configurable) (*jsonschema.Schema, error) {
	if sch, ok := schemas.Load(name); ok {
		return sch.(*jsonschema.Schema), nil
	}
	sch, err := schemacheck.Compile("reflex:connectors/"+name+"/settings.json", cfg.SettingsSchema())
	if err != nil {
		return nil, fmt.Errorf("the %s connector's settings schema: %w", name, err)
	}
	schemas.Store(name, sch)
	return sch, nil
}

// SettingsSchema returns the JSON Schema of a connector's settings, or ""
// when it takes none.
func SettingsSchema(name string) (string, error) {
	conn, err := Lookup(name)
	if err != nil {
		return "", err
	}
	if cfg, ok := conn.(connectors.Configurable); ok {
		return cfg.SettingsSchema(), nil
	}
	return "", nil
}

// Names returns the names of all connectors, sorted.
func Names() []string {
	names := make([]string, 0, len(constructors))
	for name := range constructors {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
