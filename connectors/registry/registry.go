// Package registry lists every connector Reflex ships, by the name used in
// the configuration.
package registry

import (
	"fmt"
	"slices"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/github"
)

// constructors is the one table of connectors. Adding a connector means
// adding its line here, fixtures under fixtures/<name>/, and nothing else.
var constructors = map[string]func() connectors.Connector{
	github.Name: github.New,
}

// Lookup returns a new connector by name, or an error listing the names
// that exist.
func Lookup(name string) (connectors.Connector, error) {
	newConnector, ok := constructors[name]
	if !ok {
		return nil, fmt.Errorf("unknown connector %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return newConnector(), nil
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
