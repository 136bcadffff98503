package handlers

import (
	"bytes"
	"cmp"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/delivery"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
)

//go:embed opsui
var opsUI embed.FS

// opsTemplates are the operators' pages and the fragments the live feed
// sends.
var opsTemplates = template.Must(template.New("ops").Funcs(template.FuncMap{
	"ago":   ago,
	"stamp": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"short": func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		return s[:n] + "…"
	},
}).ParseFS(opsUI, "opsui/*.html"))

// opsStatic serves the pages' stylesheet and script.
func opsStatic() http.Handler {
	sub, _ := fs.Sub(opsUI, "opsui/static")
	return http.StripPrefix(opsPath+"/static/", http.FileServer(http.FS(sub)))
}

// pageSecurity is what every page of ours answers with: nothing runs but
// our own script, nothing frames the page.
func pageSecurity(c *gin.Context) {
	c.Header("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "same-origin")
	c.Header("Cache-Control", "no-store")
}

// renderPage answers a page of opsTemplates.
func renderPage(c *gin.Context, status int, name string, data any) {
	var buf bytes.Buffer
	if err := opsTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		fail(c, err)
		return
	}
	pageSecurity(c)
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// ago says how long ago t was, roughly.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t).Round(time.Second)
	switch {
	case d < time.Minute:
		return d.String() + " ago"
	case d < time.Hour:
		return d.Round(time.Minute).String() + " ago"
	case d < 48*time.Hour:
		return d.Round(time.Hour).String() + " ago"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// opsRow is one row of the events page: an event in the history, or an
// entry of the intake log.
type opsRow struct {
	Key        string
	At         time.Time
	Source     string
	Connector  string
	ID         string
	Type       string
	Kind       string
	Repository string
	Ref        string
	Outcome    string
	Reason     string
	Status     string
	Message    string
	RequestID  string
	// Link is the event's page, for an event of the history.
	Link       string
	Deliveries []opsDelivery
}

// opsDelivery is a delivery as the events page shows it.
type opsDelivery struct {
	Name    string
	Service string
	Zone    string
	Status  string
	Agent   string
	Output  string
	// Row is the key of its event's row.
	Row string
}

// eventRowKey is the row key of a stored event.
func eventRowKey(source, id string) string { return "ev-" + keyspace.EventMember(source, id) }

// rowOfEvent is a stored event's row.
func rowOfEvent(ev *event.Event) opsRow {
	r := opsRow{
		Key: eventRowKey(ev.Source, ev.ID), At: ev.ReceivedAt, Source: ev.Source, Connector: ev.Connector, ID: ev.ID,
		Type: ev.Type, Kind: string(ev.Kind), Ref: cmp.Or(ev.Branch, ev.Tag, ev.Ref), Outcome: outcomeOfEvent(ev),
		Status: string(ev.Status), Message: ev.Error,
		Link: opsPath + "/events/" + ev.Source + "/" + ev.ID,
	}
	if ev.Repository != nil {
		r.Repository = ev.Repository.Name
	}
	if ev.Artifact != nil && r.Repository == "" {
		r.Repository = ev.Artifact.Repository
	}
	if ev.Action != "" {
		r.Type += "." + ev.Action
	}
	return r
}

// rowOfIntake is an intake log entry's row.
func rowOfIntake(e *state.IntakeEntry) opsRow {
	return opsRow{
		Key: "in-" + e.Position, At: e.At, Source: e.Source, Connector: e.Connector, ID: e.ID, Type: e.Type,
		Kind: string(e.Kind), Repository: e.Repository, Outcome: e.Outcome, Reason: e.Reason, Message: e.Message,
		RequestID: e.RequestID,
	}
}

// deliveryOf is a deployment object as the events page shows it.
func deliveryOf(o *state.Object) (opsDelivery, bool) {
	r, err := delivery.RecordOf(o)
	if err != nil || r.Event == nil {
		return opsDelivery{}, false
	}
	out := r.Output
	for i := len(r.Attempts) - 1; out == "" && i >= 0; i-- {
		out = cmp.Or(r.Attempts[i].Output, r.Attempts[i].Error)
	}
	if out = trimLines(out, 8); len(out) > 400 {
		out = "…" + strings.ToValidUTF8(out[len(out)-400:], "")
	}
	return opsDelivery{
		Name: o.Name, Service: r.Service, Zone: r.Zone, Status: string(r.Status), Agent: r.Agent,
		Output: out, Row: eventRowKey(r.Event.Source, r.Event.ID),
	}, true
}

// opsAgent is an agent as the events page shows it.
type opsAgent struct {
	Name, Zone, Status, Version, Hostname string
	LastSeen                              time.Time
}

func agentOf(o *state.Object) opsAgent {
	get := func(k string) string { s, _ := o.Content[k].(string); return s }
	seen, _ := time.Parse(time.RFC3339Nano, get("last_seen"))
	return opsAgent{Name: o.Name, Zone: get("zone"), Status: get("status"), Version: get("version"), Hostname: get("hostname"), LastSeen: seen}
}

// opsZone is a zone's queue of delivery jobs as the events page shows it.
type opsZone struct {
	Zone            string
	Waiting, Leased int
	Oldest          time.Time
	Error           string
}

// zones returns the queues of delivery jobs of the zones that the
// services and agents the caller may read name.
func (h opsPages) zones(c *gin.Context, agents []opsAgent) []opsZone {
	if h.dispatcher == nil || h.dispatcher.Leases == nil {
		return nil
	}
	var names []string
	for _, o := range h.readable(c, state.TypeService) {
		if z, _ := o.Content["zone"].(string); z != "" {
			names = append(names, z)
		}
	}
	for _, a := range agents {
		names = append(names, a.Zone)
	}
	slices.Sort(names)
	var out []opsZone
	for _, z := range slices.Compact(names) {
		st, err := h.dispatcher.Leases.Stats(c.Request.Context(), z)
		row := opsZone{Zone: z, Waiting: st.Offered, Leased: st.Leased, Oldest: st.OldestOffer}
		if err != nil {
			row.Error = "cannot read this queue now"
		}
		out = append(out, row)
	}
	return out
}

// opsPageFilter is the events page's filter: the feed's and a service.
type opsPageFilter struct {
	feedFilter
	Service string `form:"service"`
}

// opsPages serves the operators' events page, an event's page and its
// live feed.
type opsPages struct {
	objects
	feed feed
	// dispatcher offers delivery jobs to the zones' agents; nil when this
	// server runs none.
	dispatcher *delivery.Dispatcher
	// queues is whether the queue UI is mounted.
	queues bool
}

// pageRows is how many rows the events page starts with.
const pageRows = 100

// index answers GET /ops/: recent deliveries, newest first, with the
// deliveries each produced, the agents, and the feed that updates them.
func (h opsPages) index(c *gin.Context) {
	var f opsPageFilter
	if !bindFilter(c, &f, &f.feedFilter) {
		return
	}
	ctx := c.Request.Context()
	page, err := h.store.Events(ctx, state.EventFilter{Source: f.Source, Limit: state.MaxListLimit})
	if err != nil {
		fail(c, err)
		return
	}
	var rows []opsRow
	for _, ev := range page.Events {
		if f.keepsEvent(ev) {
			rows = append(rows, rowOfEvent(ev))
		}
	}
	recent, err := h.store.RecentIntake(ctx, state.MaxListLimit)
	if err != nil {
		fail(c, err)
		return
	}
	for i := range recent {
		if f.keepsIntake(&recent[i]) {
			rows = append(rows, rowOfIntake(&recent[i]))
		}
	}
	deliveries := h.deliveries(c)
	byRow := map[string][]opsDelivery{}
	for _, d := range deliveries {
		byRow[d.Row] = append(byRow[d.Row], d)
	}
	kept := rows[:0]
	for _, r := range rows {
		r.Deliveries = byRow[r.Key]
		if f.Service != "" && !slices.ContainsFunc(r.Deliveries, func(d opsDelivery) bool { return d.Service == f.Service }) {
			continue
		}
		kept = append(kept, r)
	}
	slices.SortStableFunc(kept, func(a, b opsRow) int { return b.At.Compare(a.At) })
	if len(kept) > pageRows {
		kept = kept[:pageRows]
	}
	agents := h.agents(c)
	renderPage(c, http.StatusOK, "events.html", map[string]any{
		"Rows": kept, "Agents": agents, "Zones": h.zones(c, agents), "Filter": f, "CSRF": csrfOf(c), "Caller": callerOf(c).Name,
		"Queues": h.queues, "Sources": h.sourceNames(c), "Outcomes": []string{outcomeAccepted, outcomeDuplicate, outcomeRefused, outcomeDenied},
		"Feed": opsPath + "/feed?" + c.Request.URL.RawQuery,
	})
}

// deliveries returns the newest deliveries the caller may read.
func (h opsPages) deliveries(c *gin.Context) []opsDelivery {
	page, err := h.store.ListObjects(c.Request.Context(), state.ObjectQuery{
		Type: state.TypeDeploy, Newest: true, Limit: state.MaxListLimit,
		Keep: func(o *state.Object) bool { return h.allow(c, policies.ActionRead, o, false) == nil },
	})
	if err != nil {
		return nil
	}
	out := make([]opsDelivery, 0, len(page.Objects))
	for _, o := range page.Objects {
		if d, ok := deliveryOf(o); ok {
			out = append(out, d)
		}
	}
	return out
}

// readable returns the objects of a type the caller may read.
func (h opsPages) readable(c *gin.Context, typ string) []*state.Object {
	list, err := h.store.Objects(c.Request.Context(), typ, "")
	if err != nil {
		return nil
	}
	return slices.DeleteFunc(list, func(o *state.Object) bool { return h.allow(c, policies.ActionRead, o, false) != nil })
}

// agents returns the agents the caller may read, by zone and name.
func (h opsPages) agents(c *gin.Context) []opsAgent {
	var out []opsAgent
	for _, o := range h.readable(c, state.TypeAgent) {
		out = append(out, agentOf(o))
	}
	slices.SortFunc(out, func(a, b opsAgent) int { return cmp.Or(cmp.Compare(a.Zone, b.Zone), cmp.Compare(a.Name, b.Name)) })
	return out
}

// sourceNames lists the sources the caller may read, for the filter.
func (h opsPages) sourceNames(c *gin.Context) []string {
	var out []string
	for _, o := range h.readable(c, state.TypeSource) {
		out = append(out, o.Name)
	}
	slices.Sort(out)
	return out
}

// live answers GET /ops/feed: the events page's updates as server-sent
// events whose data are rendered fragments: "row" (a delivery's row, new
// or changed), "delivery" (a delivery of a row), "agent" (an agent's
// row).
func (h opsPages) live(c *gin.Context) {
	var f opsPageFilter
	if !bindFilter(c, &f, &f.feedFilter) {
		return
	}
	startStream(c, "following")
	emit := func(it feedItem) error {
		switch it.Type {
		case "event":
			if f.Service != "" {
				return nil // a row appears with its first delivery to the service
			}
			return h.sendFragment(c, "row", "row", rowOfEvent(it.Event))
		case "intake":
			if f.Service != "" {
				return nil
			}
			return h.sendFragment(c, "row", "row", rowOfIntake(it.Intake))
		case state.TypeDeploy:
			o := it.Change.Object
			if o == nil || h.allow(c, policies.ActionRead, o, false) != nil {
				return nil
			}
			d, ok := deliveryOf(o)
			if !ok || (f.Service != "" && d.Service != f.Service) {
				return nil
			}
			return h.sendFragment(c, "delivery", "delivery", d)
		case state.TypeAgent:
			o := it.Change.Object
			if o == nil || h.allow(c, policies.ActionRead, o, false) != nil {
				return nil
			}
			return h.sendFragment(c, "agent", "agent", agentOf(o))
		}
		return nil
	}
	err := h.feed.follow(c.Request.Context(), f.feedFilter, true, emit, sseKeepalive(c))
	if err != nil && c.Request.Context().Err() == nil {
		_ = writeSSE(c, "failed", answer{Status: "failed", Message: "the live feed stopped; reload the page"})
	}
}

// fragment is a rendered piece of a page the feed sends: the script
// replaces the element with id Key by HTML, or adds it.
type fragment struct {
	Key  string `json:"key"`
	Row  string `json:"row,omitempty"`
	HTML string `json:"html"`
}

// sendFragment renders template name with data and sends it as event.
func (h opsPages) sendFragment(c *gin.Context, event, name string, data any) error {
	var buf bytes.Buffer
	if err := opsTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	f := fragment{HTML: buf.String()}
	switch v := data.(type) {
	case opsRow:
		f.Key = v.Key
	case opsDelivery:
		f.Key, f.Row = "dl-"+v.Name, v.Row
	case opsAgent:
		f.Key = "ag-" + v.Name
	}
	return writeSSE(c, event, f)
}

// row answers GET /ops/rows/{source}/{id}: one stored event's row with
// its deliveries, for the script to add a row the feed did not send.
func (h opsPages) row(c *gin.Context) {
	ev, err := h.store.Event(c.Request.Context(), c.Param("id"), c.Param("source"))
	if err != nil {
		fail(c, eventError(c.Param("id"), err))
		return
	}
	r := rowOfEvent(ev)
	for _, d := range h.deliveries(c) {
		if d.Row == r.Key {
			r.Deliveries = append(r.Deliveries, d)
		}
	}
	renderPage(c, http.StatusOK, "row", r)
}

// trimLines shortens a text to its last lines, for excerpts.
func trimLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// event answers GET /ops/events/{source}/{id}: one event, and why it
// did or did not fire (Explain): the policy decisions made about it, each
// trigger's "on" with the values it read, and the deliveries it produced.
func (h opsPages) event(c *gin.Context) {
	ctx := c.Request.Context()
	ex, err := Explain(ctx, h.store, c.Param("id"), c.Param("source"), func(o *state.Object) bool {
		return h.allow(c, policies.ActionRead, o, false) == nil
	})
	if err != nil {
		fail(c, eventError(c.Param("id"), err))
		return
	}
	renderPage(c, http.StatusOK, "event.html", map[string]any{
		"X": ex, "CSRF": csrfOf(c), "Caller": callerOf(c).Name, "Queues": h.queues,
	})
}
