// Package pathnorm normalizes a JSON payload whose shape Reflex does not
// know: a source's settings name, for each field of the event model, the
// JSON path that holds it, and map the payload's event types to kinds.
// The generic connectors (standard-webhooks, hmac) use it; any connector
// whose sender chooses the payload may.
//
// # API
//
// A connector compiles its settings once, in Configure: Compile takes a
// Config (the path of the event type, the normalize paths, the kinds) and
// returns a Spec, or an error that names the setting ("normalize.commit:
// …") for the connector to prefix with "settings.". Parse then calls
// Spec.Apply(payload, ev) for each delivery. Spec.Type and Spec.WithType
// read and write the event type of a payload for a Simulator.
// NormalizeSchema, KindsSchema and TypeSchema are the JSON Schemas of the
// three settings, for the connector's own schema; Fields lists the
// fields with what each holds; CheckType is the rule an event type from
// a header must follow too.
//
// # Paths
//
// A path is dotted member names with [n] array indexes, from the root of
// the document: "type", "data.repository.full_name",
// "data.push.changes[0].new.name", "[0].id". Member names are ASCII
// letters, digits and punctuation other than . [ ] | " \ and space,
// matched exactly (case included); a name with other characters is
// quoted in brackets, as an OCI label's:
// data.labels["org.opencontainers.image.revision"] (any printable ASCII
// but " \ and |). A setting may list alternatives separated by '|',
// "data.after|data.commit": the first that finds a value gives it. Only
// strings, numbers and booleans are values: a path that ends on an
// object, an array or null finds nothing, so "data.repository" and
// "data.repository.full_name" may both be listed for a sender that
// writes either. When a member is repeated, the last one counts, as
// encoding/json decides.
//
// # Fields and kinds
//
// The fields follow the event model (docs/events.md): "repository",
// "ref", "commit", "actor", "build.outcome", "artifact.digest",
// "deployment.environment" and the like; values of the wrong shape (a
// build number that is not an integer) are dropped, and a few senders'
// words are read as the model's (a build "succeeded" has outcome
// success). Without a normalize setting, DefaultNormalize's common paths
// are tried; with one, only its paths are read.
//
// The kind comes from the event type: Config.Kinds maps types to kinds
// (event.Kinds), else a "kind" path may name a member that holds a kind;
// anything else is event.KindUnnormalized. Nothing guesses a kind from a
// type's name. After the paths are read, the fields are completed the
// way the GitHub connector fills them for the same kind: the branch or
// tag of a full ref, the ref of a push's branch or a release's tag, the
// reference of an image, a build finished once it has an outcome.
//
// # Cost
//
// A Spec reads every path it holds in one pass over the payload, skipping
// what no path names without decoding it, so normalizing costs about one
// scan of the body and an allocation per value kept (docs/connectors.md,
// "What a connector may cost"): about 1.5 HMAC-SHA256s of the same body.
// It does not validate what it skips; the intake checks the whole payload
// with connectors.CheckPayload.
package pathnorm
