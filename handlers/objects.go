package handlers

import (
	"cmp"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
)

// maxObjectBody bounds an object document sent to the API.
const maxObjectBody = 1 << 20

// objects serves the live-state API: /api/v1/{type}[/{name}].
type objects struct {
	store *state.Store
	authz policies.Authorizer
	// keys forgets an API key this replica changed at once; the other
	// replicas forget it as the change reaches them.
	keys *auth.Authenticator
}

// wrote is called after a write of an object lands.
func (h objects) wrote(typ, name string) {
	if typ == state.TypeAPIKey && h.keys != nil {
		h.keys.Forget(name)
	}
}

// allow asks the authorizer and returns a 403 error when it refuses. The
// master API key may be written by the master alone, whatever a policy
// says: a key named master is the master key.
func (h objects) allow(c *gin.Context, action policies.Action, o *state.Object, sensitive bool) error {
	if err := guardMaster(callerOf(c), action, o.Type, o.Name); err != nil {
		return err
	}
	d := h.authz.Authorize(c.Request.Context(), policies.Request{
		Caller: callerOf(c), Action: action, Type: o.Type, Name: o.Name, Object: o, Sensitive: sensitive,
	})
	if !d.Allowed {
		return &Error{Status: http.StatusForbidden, Message: d.Reason}
	}
	return nil
}

// guardMaster refuses writes of the master API key to anyone but the
// master.
func guardMaster(caller *auth.Caller, action policies.Action, typ, name string) error {
	if typ == state.TypeAPIKey && name == auth.MasterKey && action == policies.ActionWrite && !caller.Master {
		return &Error{Status: http.StatusForbidden, Message: "only the master key may create or change the API key named master"}
	}
	return nil
}

// view returns an object's API document, its sensitive part in clear only
// for a caller allowed to read it.
func (h objects) view(c *gin.Context, o *state.Object) map[string]any {
	reveal := o.HasSensitive() && h.allow(c, policies.ActionRead, o, true) == nil && h.store.Reveal(o) == nil
	return o.Document(reveal)
}

// load reads the object a route names (at revision version when not 0)
// and checks the caller may act on it; on failure it answers and returns
// nil.
func (h objects) load(c *gin.Context, typ string, version int64, action policies.Action, sensitive bool) *state.Object {
	name := c.Param("name")
	o, err := h.store.Object(c.Request.Context(), typ, name, version)
	switch {
	case errors.Is(err, state.ErrNotFound) && version != 0:
		// A revision no longer kept: decided on the object as it is now.
		if cur, curErr := h.store.Object(c.Request.Context(), typ, name, 0); curErr == nil {
			if denied := h.allow(c, action, cur, sensitive); denied != nil {
				err = denied
			}
		} else {
			err = h.missing(c, action, typ, name, err)
		}
	case errors.Is(err, state.ErrNotFound):
		err = h.missing(c, action, typ, name, err)
	case err == nil:
		err = h.allow(c, action, o, sensitive)
	}
	if err != nil {
		fail(c, err)
		return nil
	}
	return o
}

// missing returns the answer for an object that does not exist. Whether
// an object exists is told only to a caller whose rights cover its name
// whatever the object holds; anyone else is refused exactly as for an
// object that exists and it may not touch, so answers never reveal what
// exists.
func (h objects) missing(c *gin.Context, action policies.Action, typ, name string, notFound error) error {
	if err := h.allow(c, action, &state.Object{Type: typ, Name: name}, false); err != nil {
		return err
	}
	return notFound
}

// knownType checks the type parameter.
func knownType(c *gin.Context) (string, bool) {
	typ := c.Param("type")
	if !state.KnownType(typ) {
		fail(c, Errorf(http.StatusNotFound, "no object type %q (known: %s)", typ, strings.Join(state.Types(), ", ")))
		return "", false
	}
	return typ, true
}

// list answers GET /api/v1/{type}/: the objects the caller may read, as a
// JSON array, one page at a time. Query: match (a glob on names), cols
// (fields; name, id and revision by default; * for all), limit (page
// size, default 50, at most 1000), cursor (the next page, as the Link
// header names it), order (name, or newest for newest first; deliveries
// default to newest) and, per type, equality filters on a few fields
// (deployment: service, zone, status, …).
func (h objects) list(c *gin.Context) {
	typ, ok := knownType(c)
	if !ok {
		return
	}
	q, filters, err := objectQuery(c, typ)
	if err != nil {
		fail(c, err)
		return
	}
	q.Keep = func(o *state.Object) bool {
		for field, want := range filters {
			if got, _ := o.Content[field].(string); got != want {
				return false
			}
		}
		return h.allow(c, policies.ActionRead, o, false) == nil // row-level
	}
	page, err := h.store.ListObjects(c.Request.Context(), q)
	if err != nil {
		fail(c, err)
		return
	}
	cols := []string{"name", "id", "revision"}
	if v := c.Query("cols"); v != "" {
		cols = append([]string{"name"}, strings.Split(v, ",")...)
	}
	out := make([]map[string]any, 0, len(page.Objects))
	for _, o := range page.Objects {
		out = append(out, project(h.view(c, o), cols))
	}
	linkNext(c, page.Next)
	writeJSON(c, http.StatusOK, out)
}

// listParams are the query parameters every object list takes.
var listParams = []string{"match", "cols", "limit", "cursor", "order"}

// objectQuery reads a list's query: paging, order and the type's field
// filters. An unknown parameter is refused, so a misspelt filter never
// silently lists everything.
func objectQuery(c *gin.Context, typ string) (state.ObjectQuery, map[string]string, error) {
	q := state.ObjectQuery{Type: typ, Match: c.Query("match"), Cursor: c.Query("cursor"), Newest: state.NewestFirst(typ)}
	var err error
	if q.Limit, err = pageLimit(c); err != nil {
		return q, nil, err
	}
	switch c.Query("order") {
	case "":
	case "name":
		q.Newest = false
	case "newest":
		q.Newest = true
	default:
		return q, nil, Errorf(http.StatusBadRequest, "order must be name or newest")
	}
	filters := map[string]string{}
	allowed := state.ListFilters(typ)
	for param, values := range c.Request.URL.Query() {
		switch {
		case slices.Contains(listParams, param):
		case slices.Contains(allowed, param):
			filters[param] = values[0]
		case len(allowed) == 0:
			return q, nil, Errorf(http.StatusBadRequest, "unknown query parameter %q (a list of %s takes %s)", param, typ, strings.Join(listParams, ", "))
		default:
			return q, nil, Errorf(http.StatusBadRequest, "unknown query parameter %q (a list of %s takes %s, and filters %s)", param, typ, strings.Join(listParams, ", "), strings.Join(allowed, ", "))
		}
	}
	return q, filters, nil
}

func project(doc map[string]any, cols []string) map[string]any {
	for _, col := range cols {
		if col == "*" {
			return doc
		}
	}
	out := make(map[string]any, len(cols))
	for _, col := range cols {
		if v, ok := doc[strings.TrimSpace(col)]; ok {
			out[strings.TrimSpace(col)] = v
		}
	}
	return out
}

// get answers GET /api/v1/{type}/{name}[?version=N]: the current revision
// of the object, or revision N while it is kept.
func (h objects) get(c *gin.Context) {
	typ, ok := knownType(c)
	if !ok {
		return
	}
	var version int64
	if v := cmp.Or(c.Query("version"), c.Query("revision")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			fail(c, Errorf(http.StatusBadRequest, "version must be a revision number, 1 or more"))
			return
		}
		version = n
	}
	o := h.load(c, typ, version, policies.ActionRead, false)
	if o == nil {
		return
	}
	c.Header("ETag", etag(o.Version))
	writeJSON(c, http.StatusOK, h.view(c, o))
}

// versions answers GET /api/v1/{type}/{name}/versions, newest first, one
// page at a time (limit, cursor).
func (h objects) versions(c *gin.Context) {
	typ, ok := knownType(c)
	if !ok {
		return
	}
	o := h.load(c, typ, 0, policies.ActionRead, false)
	if o == nil {
		return
	}
	limit, err := pageLimit(c)
	if err != nil {
		fail(c, err)
		return
	}
	page, err := h.store.Versions(c.Request.Context(), typ, o.Name, c.Query("cursor"), limit)
	if err != nil {
		fail(c, err)
		return
	}
	linkNext(c, page.Next)
	writeJSON(c, http.StatusOK, page.Versions)
}

// create answers POST /api/v1/{type}: 201 with the new object's id and
// version. Creating an API key answers its key, shown only this once.
func (h objects) create(c *gin.Context) {
	typ, ok := knownType(c)
	if !ok {
		return
	}
	doc, err := readDocument(c)
	if err != nil {
		fail(c, err)
		return
	}
	o := state.NewObject(typ, doc)
	if err := h.allow(c, policies.ActionWrite, o, o.Sensitive != nil); err != nil {
		fail(c, err)
		return
	}
	ctx, by := c.Request.Context(), callerOf(c).Name
	var key string
	var created *state.Object
	if typ == state.TypeAPIKey {
		key, created, err = auth.CreateKey(ctx, h.store, o, by)
	} else {
		created, err = h.store.Create(ctx, o, by)
	}
	if err != nil {
		fail(c, err)
		return
	}
	audited(c, "create", typ, created.Name, created.Version)
	c.Header("ETag", etag(created.Version))
	c.Header("Location", "/api/v1/"+typ+"/"+created.Name)
	writeJSON(c, http.StatusCreated, writeAnswer{Status: "created", Name: created.Name, ID: created.ID, Version: created.Version, Key: key})
}

// writeAnswer is the answer to a write.
type writeAnswer struct {
	Status  string `json:"status"`
	Name    string `json:"name,omitempty"`
	ID      string `json:"id,omitempty"`
	Version int64  `json:"revision,omitempty"`
	// Key is a new API key, shown only in the answer that creates it.
	Key string `json:"key,omitempty"`
}

// replace answers PUT /api/v1/{type}/{name}: the document becomes the next
// version (200), or nothing changes (202). ?merge=true merges instead.
func (h objects) replace(c *gin.Context) {
	if c.Query("merge") == "true" {
		h.merge(c)
		return
	}
	h.update(c, func(typ, name string, doc map[string]any) state.Edit {
		next := state.NewObject(typ, doc)
		return func(cur *state.Object) (*state.Object, error) {
			if typ == state.TypeAPIKey {
				_, touched := doc["secrets"]
				if err := auth.KeepSecrets(cur, next, touched); err != nil {
					return nil, err
				}
			}
			return h.checked(c, cur, func() (*state.Object, error) {
				return state.Replacement(cur, next), nil
			})
		}
	})
}

// merge answers PATCH /api/v1/{type}/{name} (application/merge-patch+json,
// RFC 7386) and PUT with ?merge=true.
func (h objects) merge(c *gin.Context) {
	h.update(c, func(typ, name string, patch map[string]any) state.Edit {
		return func(cur *state.Object) (*state.Object, error) {
			if _, touched := patch["secrets"]; touched && typ == state.TypeAPIKey {
				return nil, auth.ErrManagedSecrets
			}
			return h.checked(c, cur, func() (*state.Object, error) {
				return h.store.Merged(cur, patch)
			})
		}
	})
}

// checked authorizes a write on the current object and on what it becomes,
// so a caller can neither change an object it may not write nor turn one
// into an object it may not write.
func (h objects) checked(c *gin.Context, cur *state.Object, build func() (*state.Object, error)) (*state.Object, error) {
	if err := h.allow(c, policies.ActionWrite, cur, false); err != nil {
		return nil, err
	}
	next, err := build()
	if err != nil {
		return nil, err
	}
	next.Type, next.Name = cur.Type, cur.Name
	// Writing a sensitive part, or removing one, is a sensitive write.
	touches := next.Sensitive != nil || (cur.HasSensitive() && !next.HasSensitive())
	if err := h.allow(c, policies.ActionWrite, next, touches); err != nil {
		return nil, err
	}
	return next, nil
}

// update runs a replacement or a merge under If-Match and answers it.
func (h objects) update(c *gin.Context, edit func(typ, name string, doc map[string]any) state.Edit) {
	typ, ok := knownType(c)
	if !ok {
		return
	}
	ifVersion, err := ifMatch(c)
	if err != nil {
		fail(c, err)
		return
	}
	doc, err := readDocument(c)
	if err != nil {
		fail(c, err)
		return
	}
	name := c.Param("name")
	o, changed, err := h.store.Update(c.Request.Context(), typ, name, ifVersion, callerOf(c).Name, edit(typ, name, doc))
	switch {
	case errors.Is(err, state.ErrNotFound):
		err = h.missing(c, policies.ActionWrite, typ, name, err)
	case errors.Is(err, state.ErrStale):
		// The revision is checked before the edit authorizes: a caller
		// that may not write the object must not learn it.
		if cur, curErr := h.store.Object(c.Request.Context(), typ, name, 0); curErr == nil {
			if denied := h.allow(c, policies.ActionWrite, cur, false); denied != nil {
				err = denied
			}
		}
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("ETag", etag(o.Version))
	if !changed {
		writeJSON(c, http.StatusAccepted, writeAnswer{Status: "unchanged", Name: o.Name, Version: o.Version})
		return
	}
	h.wrote(typ, o.Name)
	audited(c, "update", typ, o.Name, o.Version)
	writeJSON(c, http.StatusOK, writeAnswer{Status: "updated", Name: o.Name, Version: o.Version})
}

// remove answers DELETE /api/v1/{type}/{name}.
func (h objects) remove(c *gin.Context) {
	typ, ok := knownType(c)
	if !ok {
		return
	}
	ifVersion, err := ifMatch(c)
	if err != nil {
		fail(c, err)
		return
	}
	o := h.load(c, typ, 0, policies.ActionWrite, false)
	if o == nil {
		return
	}
	// Delete the revision that was authorized, not one written since.
	if ifVersion == 0 {
		ifVersion = o.Version
	}
	if err := h.store.Delete(c.Request.Context(), typ, o.Name, ifVersion); err != nil {
		fail(c, err)
		return
	}
	h.wrote(typ, o.Name)
	audited(c, "delete", typ, o.Name, ifVersion)
	writeJSON(c, http.StatusOK, writeAnswer{Status: "deleted", Name: o.Name})
}

// addSecret answers POST /api/v1/apikey/{name}/secrets: a new key for
// rotation, shown only this once.
func (h objects) addSecret(c *gin.Context) {
	if !apikeyRoute(c) {
		return
	}
	o := h.load(c, state.TypeAPIKey, 0, policies.ActionWrite, true)
	if o == nil {
		return
	}
	key, updated, err := auth.AddSecret(c.Request.Context(), h.store, o.Name, callerOf(c).Name)
	if err != nil {
		fail(c, err)
		return
	}
	audited(c, "add-secret", state.TypeAPIKey, updated.Name, updated.Version)
	writeJSON(c, http.StatusCreated, writeAnswer{Status: "created", Name: updated.Name, Version: updated.Version, Key: key})
}

// removeSecret answers DELETE /api/v1/apikey/{name}/secrets/{id}.
func (h objects) removeSecret(c *gin.Context) {
	if !apikeyRoute(c) {
		return
	}
	o := h.load(c, state.TypeAPIKey, 0, policies.ActionWrite, true)
	if o == nil {
		return
	}
	updated, err := auth.RemoveSecret(c.Request.Context(), h.store, o.Name, c.Param("id"), callerOf(c).Name)
	if err != nil {
		fail(c, err)
		return
	}
	h.wrote(state.TypeAPIKey, o.Name)
	audited(c, "remove-secret", state.TypeAPIKey, updated.Name, updated.Version)
	writeJSON(c, http.StatusOK, writeAnswer{Status: "deleted", Name: updated.Name, Version: updated.Version})
}

// apikeyRoute checks that a secrets route names an API key, the only type
// that has secrets.
func apikeyRoute(c *gin.Context) bool {
	if c.Param("type") != state.TypeAPIKey {
		fail(c, Errorf(http.StatusNotFound, "only API keys have secrets: /api/v1/apikey/{name}/secrets"))
		return false
	}
	return true
}

// readDocument reads a JSON object body of at most maxObjectBody bytes.
func readDocument(c *gin.Context) (map[string]any, error) {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/merge-patch+json") {
			return nil, Errorf(http.StatusUnsupportedMediaType, "send the document as application/json (or application/merge-patch+json to merge), not %q", ct)
		}
	}
	body, err := readBody(c.Request, maxObjectBody)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil || doc == nil {
		return nil, Errorf(http.StatusBadRequest, "the body must be a JSON object: %v", errOrNull(err))
	}
	return doc, nil
}

func errOrNull(err error) string {
	if err == nil {
		return "got null"
	}
	return err.Error()
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch reads If-Match: a version as the ETag gave it ("3", or 3). "*"
// or no header puts no condition.
func ifMatch(c *gin.Context) (int64, error) {
	v := strings.TrimSpace(c.GetHeader("If-Match"))
	if v == "" || v == "*" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(v, "W/"), `"`), 10, 64)
	if err != nil || n < 1 {
		return 0, Errorf(http.StatusBadRequest, "If-Match must be a version as the ETag gives it, e.g. \"3\"")
	}
	return n, nil
}

// statusOfStateError maps the state package's errors to HTTP statuses.
func statusOfStateError(err error) (int, bool) {
	switch {
	case errors.Is(err, state.ErrInvalid):
		return http.StatusBadRequest, true
	case errors.Is(err, state.ErrExists):
		return http.StatusConflict, true
	case errors.Is(err, state.ErrStale):
		return http.StatusPreconditionFailed, true
	case errors.Is(err, state.ErrNoKey):
		return http.StatusBadRequest, true
	case errors.Is(err, auth.ErrUnauthenticated):
		return http.StatusUnauthorized, true
	}
	return 0, false
}
