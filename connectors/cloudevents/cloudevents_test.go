package cloudevents_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/cloudevents"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

var testSecret = []byte("It's a Secret to Everybody")

// kit is the connector under test, with its default settings (auth hmac),
// and its fixtures.
var kit = connectortest.Kit{Name: cloudevents.Name, New: cloudevents.New, Source: "acme-cloudevents", Secret: testSecret}

// configured returns a constructor of the connector with settings.
func configured(t testing.TB, settings map[string]any) func() connectors.Connector {
	return func() connectors.Connector {
		c := cloudevents.New()
		if err := c.(connectors.Configurable).Configure(settings); err != nil {
			t.Fatalf("Configure(%v): %v", settings, err)
		}
		return c
	}
}

func TestGolden(t *testing.T) { kit.Golden(t) }

func TestGoldenKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"Microsoft.Storage.BlobCreated":    event.KindUnnormalized,
		"artifact.published":               event.KindArtifactPublished,
		"change.created.batch":             event.KindChangeCreated,
		"pipelinerun.batch":                event.KindBuildQueued + "," + event.KindBuildStarted + "," + event.KindBuildFinished,
		"change.merged":                    event.KindChangeMerged,
		"environment.modified":             event.KindOther,
		"knative-github.pull_request":      event.KindUnnormalized,
		"pipelinerun.finished":             event.KindBuildFinished,
		"pipelinerun.finished-cdevents041": event.KindBuildFinished,
		"pipelinerun.finished-failure":     event.KindBuildFinished,
		"service.deployed":                 event.KindDeploymentFinished,
		"taskrun.finished":                 event.KindTaskFinished,
	})
}

// resign returns a Change that edits a request and signs it again with the
// kit's secret, so the edit reaches Parse.
func resign(edit func(req *connectors.Request)) func(req *connectors.Request) {
	return func(req *connectors.Request) {
		edit(req)
		cloudevents.New().(connectors.Signer).Sign(req.Header, req.Body, testSecret)
	}
}

// withBody replaces a structured fixture's event with edit's.
func withBody(t *testing.T, edit func(ev map[string]any)) func(req *connectors.Request) {
	return resign(func(req *connectors.Request) {
		var ev map[string]any
		if err := json.Unmarshal(req.Body, &ev); err != nil {
			t.Fatal(err)
		}
		edit(ev)
		req.Body, _ = json.Marshal(ev)
	})
}

func TestRefusals(t *testing.T) {
	setHeader := func(name, value string) func(*connectors.Request) {
		return func(req *connectors.Request) { req.Header.Set(name, value) }
	}
	delHeader := func(name string) func(*connectors.Request) {
		return func(req *connectors.Request) { req.Header.Del(name) }
	}
	other := [][]byte{[]byte("not the secret")}
	const binary, structured, batch = "pipelinerun.finished", "change.merged", "change.created.batch"
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "wrong secret", Fixture: binary, Secrets: other, Want: connectors.ErrUnauthorized, Says: "not the hex HMAC-SHA256"},
		{Name: "no secret at all", Fixture: binary, Secrets: [][]byte{}, Want: connectors.ErrUnauthorized, Says: "not the hex HMAC-SHA256"},
		{Name: "empty secret", Fixture: binary, Secrets: [][]byte{{}}, Want: connectors.ErrUnauthorized, Says: "not the hex HMAC-SHA256"},
		{Name: "missing signature", Fixture: binary, Change: delHeader("X-Signature"), Want: connectors.ErrUnauthorized, Says: "X-Signature header is missing"},
		{Name: "empty signature", Fixture: binary, Change: setHeader("X-Signature", ""), Want: connectors.ErrUnauthorized, Says: "X-Signature header is missing"},
		{Name: "signature without its prefix", Fixture: binary, Change: func(req *connectors.Request) {
			req.Header.Set("X-Signature", strings.TrimPrefix(req.Header.Get("X-Signature"), "sha256="))
		}, Want: connectors.ErrUnauthorized, Says: `must start with "sha256="`},
		{Name: "signature of another body", Fixture: binary, Change: func(req *connectors.Request) {
			req.Body = bytes.Replace(req.Body, []byte("success"), []byte("failure"), 1)
		}, Want: connectors.ErrUnauthorized, Says: "not the hex HMAC-SHA256"},
		{Name: "specversion 0.3", Fixture: binary, Change: setHeader("ce-specversion", "0.3"), Want: connectors.ErrMalformed, Says: `the ce-specversion header is "0.3"; only CloudEvents 1.0`},
		{Name: "no ce-specversion", Fixture: binary, Change: delHeader("ce-specversion"), Want: connectors.ErrMalformed, Says: "the ce-specversion header is missing"},
		{Name: "no ce-id", Fixture: binary, Change: delHeader("ce-id"), Want: connectors.ErrMalformed, Says: "the ce-id header is missing"},
		{Name: "no ce-source", Fixture: binary, Change: delHeader("ce-source"), Want: connectors.ErrMalformed, Says: "the ce-source header is missing"},
		{Name: "no ce-type", Fixture: binary, Change: delHeader("ce-type"), Want: connectors.ErrMalformed, Says: "the ce-type header is missing"},
		{Name: "no ce headers: not a CloudEvent", Fixture: binary, Change: func(req *connectors.Request) {
			for _, h := range []string{"ce-id", "ce-source", "ce-type", "ce-specversion"} {
				req.Header.Del(h)
			}
		}, Want: connectors.ErrUnsupportedMediaType, Says: "not a CloudEvents media type"},
		{Name: "type with a slash", Fixture: binary, Change: setHeader("ce-type", "com.example/evil"), Want: connectors.ErrMalformed, Says: "the ce-type header may hold only"},
		{Name: "id twice", Fixture: binary, Change: func(req *connectors.Request) { req.Header.Add("ce-id", "other") }, Want: connectors.ErrMalformed, Says: "sent 2 times"},
		{Name: "ce-datacontenttype", Fixture: binary, Change: setHeader("ce-datacontenttype", "application/json"), Want: connectors.ErrMalformed, Says: "no ce-datacontenttype header"},
		{Name: "attribute name with a dash", Fixture: binary, Change: setHeader("ce-trace-id", "1"), Want: connectors.ErrMalformed, Says: "names no CloudEvents attribute"},
		{Name: "bad percent-encoding", Fixture: binary, Change: setHeader("ce-subject", "50%zz"), Want: connectors.ErrMalformed, Says: "invalid percent-encoding"},
		{Name: "overlong UTF-8", Fixture: binary, Change: setHeader("ce-subject", "a%C0%A0b"), Want: connectors.ErrMalformed, Says: "not valid UTF-8"},
		{Name: "encoded control character", Fixture: binary, Change: setHeader("ce-source", "/a%0Ab"), Want: connectors.ErrMalformed, Says: "control character"},
		{Name: "time not RFC 3339", Fixture: binary, Change: setHeader("ce-time", "yesterday"), Want: connectors.ErrMalformed, Says: "the ce-time header is not an RFC 3339 time"},
		{Name: "binary data without Content-Type", Fixture: binary, Change: delHeader("Content-Type"), Want: connectors.ErrUnsupportedMediaType, Says: "Content-Type header is missing"},
		{Name: "CDEvent whose data is not JSON", Fixture: binary, Change: setHeader("Content-Type", "text/plain"), Want: connectors.ErrMalformed, Says: "a CDEvent's data is its JSON document"},
		{Name: "CDEvent data of the wrong shape", Fixture: binary, Change: resign(func(req *connectors.Request) {
			req.Body = []byte(`{"subject": {"content": {"outcome": 1}}}`)
		}), Want: connectors.ErrMalformed, Says: "not a CDEvent of the expected shape"},
		{Name: "structured without id", Fixture: structured, Change: withBody(t, func(ev map[string]any) { delete(ev, "id") }), Want: connectors.ErrMalformed, Says: "the event's id is missing"},
		{Name: "structured without source", Fixture: structured, Change: withBody(t, func(ev map[string]any) { delete(ev, "source") }), Want: connectors.ErrMalformed, Says: "the event's source is missing"},
		{Name: "structured specversion 0.3", Fixture: structured, Change: withBody(t, func(ev map[string]any) { ev["specversion"] = "0.3" }), Want: connectors.ErrMalformed, Says: `the event's specversion is "0.3"`},
		{Name: "structured id not a string", Fixture: structured, Change: withBody(t, func(ev map[string]any) { ev["id"] = 42 }), Want: connectors.ErrMalformed, Says: "not a CloudEvent in the JSON event format"},
		{Name: "structured data and data_base64", Fixture: structured, Change: withBody(t, func(ev map[string]any) { ev["data_base64"] = "e30=" }), Want: connectors.ErrMalformed, Says: "both data and data_base64"},
		{Name: "structured body not JSON", Fixture: structured, Change: resign(func(req *connectors.Request) { req.Body = []byte("<event/>") }), Want: connectors.ErrMalformed, Says: "not a CloudEvent"},
		{Name: "another event format", Fixture: structured, Change: setHeader("Content-Type", "application/cloudevents+avro"), Want: connectors.ErrUnsupportedMediaType, Says: "only application/cloudevents+json"},
		{Name: "another batch format", Fixture: batch, Change: setHeader("Content-Type", "application/cloudevents-batch+protobuf"), Want: connectors.ErrUnsupportedMediaType, Says: "only application/cloudevents-batch+json"},
		{Name: "batch over the limit", Fixture: batch, Change: resign(func(req *connectors.Request) {
			one := bytes.TrimSuffix(bytes.TrimPrefix(bytes.TrimSpace(req.Body), []byte("[")), []byte("]"))
			req.Body = []byte("[" + strings.Repeat(string(one)+",", connectors.MaxBatch) + string(one) + "]")
		}), Want: connectors.ErrMalformed, Says: "a batch of 101 events; at most 100"},
		{Name: "batch with one bad event", Fixture: batch, Change: resign(func(req *connectors.Request) {
			one := bytes.TrimSuffix(bytes.TrimPrefix(bytes.TrimSpace(req.Body), []byte("[")), []byte("]"))
			req.Body = []byte("[" + string(one) + `,{"specversion":"0.3","id":"x","source":"/x","type":"t"}]`)
		}), Want: connectors.ErrMalformed, Says: "batch[1]: "},
		{Name: "batch not an array", Fixture: batch, Change: resign(func(req *connectors.Request) { req.Body = []byte(`{"specversion":"1.0"}`) }), Want: connectors.ErrMalformed, Says: "not a batch"},
		{Name: "batch of one without id", Fixture: batch, Change: resign(func(req *connectors.Request) {
			req.Body = []byte(`[{"specversion":"1.0","source":"/x","type":"com.example.x"}]`)
		}), Want: connectors.ErrMalformed, Says: "the event's id is missing"},
	})
}

// TestRotation: any of the source's secrets verifies, the second too.
func TestRotation(t *testing.T) {
	f, err := fixtures.Get(cloudevents.Name, "pipelinerun.finished")
	if err != nil {
		t.Fatal(err)
	}
	req := kit.Request(t, f)
	if err := cloudevents.New().Verify(t.Context(), req, [][]byte{[]byte("old secret"), testSecret}); err != nil {
		t.Fatalf("Verify with the secret second: %v", err)
	}
}

// TestBinaryPayload: the payload kept for a binary-mode delivery is the
// event in structured mode, with every attribute decoded and the data.
func TestBinaryPayload(t *testing.T) {
	f, err := fixtures.Get(cloudevents.Name, "pipelinerun.finished")
	if err != nil {
		t.Fatal(err)
	}
	req := kit.Request(t, f)
	req.Header.Set("ce-subject", "%22ci%22%20widget%E2%82%AC")
	req.Header.Set("ce-partitionkey", `"quoted \"key\""`)
	res, err := cloudevents.New().Parse(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := connectors.CheckPayload(res.Payload); err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(res.Payload, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"specversion":     `"1.0"`,
		"id":              `"6d3b2f1e-8c4a-4e0b-9f5d-2a7c1e9b4d30"`,
		"source":          `"https://tekton.acme.example/apis/tekton.dev/v1/namespaces/ci"`,
		"type":            `"dev.cdevents.pipelinerun.finished.0.3.0"`,
		"subject":         `"\"ci\" widget€"`,
		"partitionkey":    `"quoted \"key\""`,
		"time":            `"2026-01-02T03:03:58.412907Z"`,
		"traceparent":     `"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"`,
		"datacontenttype": `"application/json"`,
	}
	for k, v := range want {
		if string(got[k]) != v {
			t.Errorf("payload %s = %s, want %s", k, got[k], v)
		}
	}
	if len(got) != len(want)+1 {
		t.Errorf("payload has %d members, want %d: %s", len(got), len(want)+1, res.Payload)
	}
	var data, body any
	_ = json.Unmarshal(got["data"], &data)
	_ = json.Unmarshal(f.Body, &body)
	if !jsonEqual(data, body) {
		t.Errorf("payload data is not the body:\n%s", got["data"])
	}
}

// TestBinaryNonJSONData: data that is not JSON is kept as data_base64.
func TestBinaryNonJSONData(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Type", "application/xml")
	h.Set("ce-specversion", "1.0")
	h.Set("ce-id", "A234-1234-1234")
	h.Set("ce-source", "/mycontext/subcontext")
	h.Set("ce-type", "com.example.someevent")
	res, err := cloudevents.New().Parse(&connectors.Request{Source: "acme-cloudevents", Header: h, Body: []byte("<much wow=\"xml\"/>"), ReceivedAt: connectortest.ReceivedAt})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"specversion":"1.0","id":"A234-1234-1234","source":"/mycontext/subcontext","type":"com.example.someevent","datacontenttype":"application/xml","data_base64":"PG11Y2ggd293PSJ4bWwiLz4="}`
	if string(res.Payload) != want {
		t.Errorf("payload = %s\nwant      %s", res.Payload, want)
	}
	if res.Event.Kind != event.KindUnnormalized || res.Event.ID != cloudevents.DeliveryID("/mycontext/subcontext", "A234-1234-1234") || res.Event.IDFrom != connectors.IDFromAttributes {
		t.Errorf("event = %+v", res.Event)
	}
}

// TestModesAgree: the same CDEvent in binary, structured and batched mode
// is the same event, with the same delivery id.
func TestModesAgree(t *testing.T) {
	f, err := fixtures.Get(cloudevents.Name, "pipelinerun.finished")
	if err != nil {
		t.Fatal(err)
	}
	c := cloudevents.New()
	bin, err := c.Parse(kit.Request(t, f))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Content-Type": {cloudevents.MediaStructured}}
	structured, err := c.Parse(&connectors.Request{Source: kit.Source, Header: h, Body: bin.Payload, ReceivedAt: connectortest.ReceivedAt})
	if err != nil {
		t.Fatalf("the binary delivery's payload, posted in structured mode: %v", err)
	}
	h = http.Header{"Content-Type": {cloudevents.MediaBatch}}
	batch, err := c.Parse(&connectors.Request{Source: kit.Source, Header: h, Body: []byte("[" + string(bin.Payload) + "]"), ReceivedAt: connectortest.ReceivedAt})
	if err != nil {
		t.Fatalf("batch of one: %v", err)
	}
	for name, res := range map[string]*connectors.Result{"structured": structured, "batched": batch} {
		a, _ := json.Marshal(bin.Event)
		b, _ := json.Marshal(res.Event)
		if string(a) != string(b) {
			t.Errorf("%s mode gives\n%s\nbinary mode\n%s", name, b, a)
		}
		if !bytes.Equal(res.Payload, bin.Payload) {
			t.Errorf("%s mode keeps a different payload", name)
		}
	}
}

// TestEmptyBatch: an empty batch is answered without an event.
func TestEmptyBatch(t *testing.T) {
	h := http.Header{"Content-Type": {cloudevents.MediaBatch}}
	res, err := cloudevents.New().Parse(&connectors.Request{Header: h, Body: []byte(" [ ] ")})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Ping || res.Event != nil {
		t.Fatalf("empty batch: %+v, want a result without an event", res)
	}
}

// TestDeliveryID: the id is a hash of source and id, so both matter and
// neither can be shifted into the other.
func TestDeliveryID(t *testing.T) {
	a := cloudevents.DeliveryID("/src", "1")
	for _, other := range []string{cloudevents.DeliveryID("/src", "2"), cloudevents.DeliveryID("/other", "1"), cloudevents.DeliveryID("/src1", ""), cloudevents.DeliveryID("", "/src1")} {
		if other == a {
			t.Errorf("DeliveryID collides: %s", a)
		}
	}
	if len(a) != 43 || !strings.HasPrefix(a, "ce-") {
		t.Errorf("DeliveryID = %q, want ce- and 40 hex digits", a)
	}
	if err := connectors.CheckDeliveryID("id", a); err != nil {
		t.Error(err)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
