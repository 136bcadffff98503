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

const (
	eventsDoc  = "../../docs/events.md"
	tableBegin = "<!-- connector-events:begin -->"
	tableEnd   = "<!-- connector-events:end -->"
)

// TestEventsDocListsEveryConnector keeps the table of docs/events.md
// (connector × event → kinds, with the CDEvents type where one fits)
// equal to what the connectors describe. UPDATE_DOCS=1 rewrites it.
func TestEventsDocListsEveryConnector(t *testing.T) {
	raw, err := os.ReadFile(eventsDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	begin, end := strings.Index(doc, tableBegin), strings.Index(doc, tableEnd)
	if begin < 0 || end < begin {
		t.Fatalf("%s has no %s … %s section", eventsDoc, tableBegin, tableEnd)
	}
	want := eventsTable(t)
	got := doc[begin+len(tableBegin) : end]
	if got == want {
		return
	}
	if os.Getenv("UPDATE_DOCS") != "" {
		if err := os.WriteFile(eventsDoc, []byte(doc[:begin+len(tableBegin)]+want+doc[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the connector table of %s is out of date; run UPDATE_DOCS=1 go test ./connectors/registry and review it", eventsDoc)
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
		if len(desc.Events) == 0 || desc.Verification == "" || desc.DeliveryID == "" || len(desc.Docs) == 0 {
			t.Errorf("connector %s: its description lacks events, verification, delivery id or docs", name)
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
