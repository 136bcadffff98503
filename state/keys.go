package state

// All Redis keys Reflex writes start with keyPrefix. asynq keeps its own
// keys under "asynq:".
const keyPrefix = "reflex:"

// Key prefixes passed to Lua scripts, so scripts and Go build keys alike.
const (
	eventKeyPrefix     = keyPrefix + "event:"
	payloadKeyPrefix   = keyPrefix + "payload:"
	sourceIdxPrefix    = keyPrefix + "events:source:"
	decisionsKeyPrefix = keyPrefix + "decisions:"
)

// eventMember is an event's member in the event indexes: "source/id".
// Neither part may contain "/", which Save checks.
func eventMember(source, id string) string { return source + "/" + id }

// eventKey holds one event's JSON.
func eventKey(member string) string { return eventKeyPrefix + member }

// payloadKey holds one event's raw provider payload.
func payloadKey(member string) string { return payloadKeyPrefix + member }

// decisionsKey is the list of authorization decisions made about an event.
func decisionsKey(member string) string { return decisionsKeyPrefix + member }

// eventsKey is the sorted set of all stored events by receive time.
func eventsKey() string { return keyPrefix + "events" }

// sourceEventsKey is the sorted set of one source's events by receive time.
func sourceEventsKey(source string) string { return sourceIdxPrefix + source }

// eventIDsKey maps an event id to the source that stored it last, so an
// event can be found by the id the intake returned.
func eventIDsKey() string { return keyPrefix + "events:ids" }

// dedupeKey records that a source's delivery id was accepted.
func dedupeKey(source, id string) string { return keyPrefix + "dedupe:" + source + "/" + id }

// branchesKey is the hash of live branch heads.
func branchesKey() string { return keyPrefix + "live:branches" }

// workflowsKey is the hash of the live state of each workflow.
func workflowsKey() string { return keyPrefix + "live:workflows" }

// objectKey is the hash holding an object's current version ("v") and
// document ("doc").
func objectKey(typ, name string) string { return keyPrefix + "obj:" + typ + ":" + name }

// objectVersionsKey is the hash of an object's kept versions by number.
func objectVersionsKey(typ, name string) string { return keyPrefix + "objv:" + typ + ":" + name }

// objectNamesKey is the sorted set of the names of one type's objects, all
// at score 0, so it is ordered by name and pages by name exactly.
func objectNamesKey(typ string) string { return keyPrefix + "objn:" + typ }

// objectTimesKey is the sorted set of the names of one type's objects by
// creation time (milliseconds), for lists newest first.
func objectTimesKey(typ string) string { return keyPrefix + "objt:" + typ }

// legacyObjectIndexKey is the plain set of names that earlier versions
// list objects by. It is still kept up to date, for replicas not upgraded
// yet; Migrate indexes what they wrote in objectNamesKey and
// objectTimesKey.
func legacyObjectIndexKey(typ string) string { return keyPrefix + "objs:" + typ }

// changesKey is the stream of object changes that watchers follow.
func changesKey() string { return keyPrefix + "changes" }

// cursorKeyKey holds the key that seals list cursors, shared by every
// replica.
func cursorKeyKey() string { return keyPrefix + "cursor-key" }
