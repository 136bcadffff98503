package wire_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/wire"
)

func signer(t *testing.T, id string) (*wire.Signer, wire.Verifier) {
	t.Helper()
	seed, pub, err := wire.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := wire.NewSigner(id, seed)
	if err != nil {
		t.Fatal(err)
	}
	v := wire.Verifier{}
	if err := v.ParsePublicKey(id + "=" + pub); err != nil {
		t.Fatal(err)
	}
	if s.PublicKey() != pub {
		t.Fatal("the signer's public key is not the generated one")
	}
	return s, v
}

func TestSignVerify(t *testing.T) {
	s, v := signer(t, "k1")
	other, _ := signer(t, "k1")
	job := &wire.Job{ID: "d-1", Zone: "production", Service: "bct", Action: "deploy", Params: map[string]string{"IMAGE": "x:1"},
		Event: wire.EventRef{ID: "e-1", Source: "acme", RequestID: "req-7f3a"}, ExpiresAt: time.Now().Add(time.Hour)}
	good, err := s.Sign(job)
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := other.Sign(job)
	tamper := func(from, to string) []byte { return []byte(strings.Replace(string(good), from, to, 1)) }
	tests := []struct {
		name    string
		payload []byte
		want    error
	}{
		{"genuine", good, nil},
		{"parameter changed", tamper(`x:1`, `x:2`), wire.ErrBadSignature},
		{"action changed", tamper(`"deploy"`, `"wipe"`), wire.ErrBadSignature},
		{"request id changed", tamper(`"request_id":"req-7f3a"`, `"request_id":"req-0000"`), wire.ErrBadSignature},
		{"signed by another key of the same id", forged, wire.ErrBadSignature},
		{"unknown key id", tamper(`"key":"k1"`, `"key":"k9"`), wire.ErrUnknownKey},
		{"no signature", tamper(`"sig":"`, `"sig":"","x":"`), wire.ErrUnsigned},
		{"not a job", []byte(`{"id":"d-1","action":"deploy"}`), wire.ErrUnsigned},
		{"garbage", []byte(`garbage`), wire.ErrUnsigned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(tt.payload)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if tt.want == nil && (got.Action != "deploy" || got.Params["IMAGE"] != "x:1" || got.Event.RequestID != "req-7f3a") {
				t.Fatalf("verified job = %+v", got)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	old, v := signer(t, "k1")
	next, v2 := signer(t, "k2")
	for id, key := range v2 {
		v[id] = key
	}
	for _, s := range []*wire.Signer{old, next} {
		p, _ := s.Sign(&wire.Job{ID: "d"})
		if _, err := v.Verify(p); err != nil {
			t.Fatalf("a verifier with both keys refused a job: %v", err)
		}
	}
}

func TestIDIsStable(t *testing.T) {
	a, b := wire.ID("t", "src", "e1"), wire.ID("t", "src", "e1")
	if a != b || a == wire.ID("t", "src", "e2") || a == wire.ID("u", "src", "e1") || !strings.HasPrefix(a, "d-") {
		t.Fatalf("ids %s %s are not derived from trigger and event alone", a, b)
	}
	var m map[string]any
	p, _ := mustSigner(t).Sign(&wire.Job{ID: a})
	if json.Unmarshal(p, &m) != nil || m["body"] == nil {
		t.Fatal("a signed job is not an envelope with a body")
	}
}

func mustSigner(t *testing.T) *wire.Signer {
	s, _ := signer(t, "k")
	return s
}

func TestKeyErrors(t *testing.T) {
	if _, err := wire.NewSigner("k", "c2hvcnQ="); err == nil {
		t.Error("a short seed was accepted")
	}
	for _, spec := range []string{"k1", "=abc", "k1=notbase64!", "k1=c2hvcnQ="} {
		if err := (wire.Verifier{}).ParsePublicKey(spec); err == nil {
			t.Errorf("public key %q accepted", spec)
		}
	}
}
