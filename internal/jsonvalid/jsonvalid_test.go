package jsonvalid

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/reflexops/reflex/fixtures"
)

func TestValid(t *testing.T) {
	tests := []struct {
		doc  string
		want bool
	}{
		{`{}`, true}, {` [ ] `, true}, {`{"a":[1,-2.5e+3,true,false,null,"x\u00e9\n"],"b":{}}`, true}, {`"é"`, true}, {`0`, true}, {`-0.0E-0`, true},
		{``, false}, {`{`, false}, {`{"a":1,}`, false}, {`[1,2,]`, false}, {`[1 2]`, false}, {`{"a" 1}`, false}, {`{a:1}`, false},
		{`tru`, false}, {`nul`, false}, {`01`, false}, {`1.`, false}, {`.5`, false}, {`1e`, false}, {`-`, false}, {`+1`, false},
		{`"\q"`, false}, {`"\u12"`, false}, {`"\u12g4"`, false}, {"\"\x01\"", false}, {"\"\xff\"", false}, {`{"a":1} x`, false},
		{`"abc`, false}, {`{"a":1}{}`, false}, {strings.Repeat("[", 10001) + strings.Repeat("]", 10001), false},
		{strings.Repeat("[", 100) + strings.Repeat("]", 100), true},
		{strings.Repeat("[", 10000) + strings.Repeat("]", 10000), true},
	}
	for _, tt := range tests {
		if got := Valid([]byte(tt.doc)); got != tt.want || oracle([]byte(tt.doc)) != tt.want {
			t.Errorf("Valid(%.40q) = %v (encoding/json: %v), want %v", tt.doc, got, oracle([]byte(tt.doc)), tt.want)
		}
	}
}

// oracle is what Valid must answer: encoding/json's verdict, in valid
// UTF-8.
func oracle(data []byte) bool { return json.Valid(data) && utf8.Valid(data) }

// FuzzValid checks Valid against encoding/json on any input, seeded with
// the fixtures.
func FuzzValid(f *testing.F) {
	for _, p := range fixtures.Providers() {
		list, _ := fixtures.Load(p)
		for _, fx := range list {
			f.Add(fx.Body)
		}
	}
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"\ud800"`, `[1e400]`, "\"\xe2\x82\"", `{"a":"\/"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := Valid(data), oracle(data); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", data, got, want)
		}
	})
}

func BenchmarkValid(b *testing.B) {
	fx, err := fixtures.Get("github", "push.branch")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(fx.Body)))
	for b.Loop() {
		if !Valid(fx.Body) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkEncodingJSONValid(b *testing.B) {
	fx, err := fixtures.Get("github", "push.branch")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(fx.Body)))
	for b.Loop() {
		if !json.Valid(fx.Body) {
			b.Fatal("invalid")
		}
	}
}

// TestSpecial8: an 8-byte word is special when any one byte, at any
// position, is not plain, whatever the bytes around it; and never when
// all are plain.
func TestSpecial8(t *testing.T) {
	word := func(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
	for c := range 256 {
		for pos := range 8 {
			for _, fill := range []byte{' ', '!', '#', '[', ']', '~', 0x7f} {
				b := bytes.Repeat([]byte{fill}, 8)
				b[pos] = byte(c)
				if got, want := special8(word(b)), !plain[c]; got != want {
					t.Fatalf("special8(%q) = %v, want %v (byte %#x at %d)", b, got, want, c, pos)
				}
			}
		}
	}
}
