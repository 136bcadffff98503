package registry_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/registry"
	"github.com/reflexops/reflex/event"
)

// TestDocsListEveryConnector keeps the generated tables of the docs equal
// to what the connectors describe: docs/events.md's (connector × event →
// kinds, with the CDEvents type where one fits) and docs/connectors.md's
// (how each verifies and de-duplicates). UPDATE_DOCS=1 rewrites them.
func TestDocsListEveryConnector(t *testing.T) {
	checkGenerated(t, "../../docs/events.md", "connector-events", eventsTable(t))
	checkGenerated(t, "../../docs/connectors.md", "connectors", connectorsTable(t))
}

// checkGenerated compares the section of file between the markers
// <!-- name:begin --> and <!-- name:end --> with want.
func checkGenerated(t *testing.T, file, name, want string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	open, end := "<!-- "+name+":begin -->", "<!-- "+name+":end -->"
	b, e := strings.Index(doc, open), strings.Index(doc, end)
	if b < 0 || e < b {
		t.Fatalf("%s has no %s … %s section", file, open, end)
	}
	if doc[b+len(open):e] == want {
		return
	}
	if os.Getenv("UPDATE_DOCS") != "" {
		if err := os.WriteFile(file, []byte(doc[:b+len(open)]+want+doc[e:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the generated table of %s is out of date; run UPDATE_DOCS=1 go test ./connectors/registry and review it", file)
}

// connectorsTable renders the table of how each connector verifies.
func connectorsTable(t *testing.T) string {
	var b strings.Builder
	b.WriteString("\n| connector | provider | verification | delivery id |\n| --- | --- | --- | --- |\n")
	for _, name := range registry.Names() {
		conn, _ := registry.Lookup(name)
		d, ok := conn.(connectors.Describer)
		if !ok {
			t.Errorf("connector %s does not describe itself (connectors.Describer)", name)
			continue
		}
		desc := d.Describe()
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", name, desc.Provider, desc.Verification, desc.DeliveryID)
	}
	return b.String()
}

// eventsTable renders the table from the connectors' descriptions.
func eventsTable(t *testing.T) string {
	var b strings.Builder
	b.WriteString("\n| connector | event type | kinds | CDEvents type | note |\n| --- | --- | --- | --- | --- |\n")
	for _, name := range registry.Names() {
		conn, _ := registry.Lookup(name)
		d, ok := conn.(connectors.Describer)
		if !ok {
			t.Errorf("connector %s does not describe itself (connectors.Describer)", name)
			continue
		}
		desc := d.Describe()
		if len(desc.Events) == 0 || desc.Scheme == "" || desc.Verification == "" || desc.DeliveryID == "" || len(desc.Docs) == 0 {
			t.Errorf("connector %s: its description lacks events, a scheme, verification, delivery id or docs", name)
		}
		for _, e := range desc.Events {
			var cd []string
			for _, k := range e.Kinds {
				ev := event.Event{Kind: event.Kind(k), Deployment: &event.Deployment{State: "success"}}
				if !event.KnownKind(ev.Kind) {
					t.Errorf("connector %s, event %s: %q is not a kind", name, e.Type, k)
				}
				if c := ev.CDEventsType(); c != "" && !contains(cd, c) {
					cd = append(cd, c)
				}
			}
			fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s |\n", name, e.Type, codeList(e.Kinds), codeList(cd), e.Note)
		}
	}
	return b.String()
}

func codeList(values []string) string {
	if len(values) == 0 {
		return "—"
	}
	return "`" + strings.Join(values, "`, `") + "`"
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
