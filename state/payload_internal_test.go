package state

import (
	"bytes"
	"strings"
	"testing"
)

// TestPayloadPacking: a payload is stored compressed behind a zero byte
// and read back as it came; one stored as it came, by an earlier release,
// reads as it is; a damaged one is an error, not garbage.
func TestPayloadPacking(t *testing.T) {
	doc := []byte(`{"ref":"refs/heads/main","commits":[` + strings.Repeat(`{"message":"fix the build"},`, 200) + `{}]}`)
	packed := packPayload(doc)
	if packed[0] != 0 || len(packed) >= len(doc)/4 {
		t.Fatalf("packed %d bytes into %d (first byte %#x), want a zero byte and under a quarter", len(doc), len(packed), packed[0])
	}
	tests := []struct {
		name   string
		stored []byte
		want   []byte
		bad    bool
	}{
		{"packed", packed, doc, false},
		{"as it came", doc, doc, false},
		{"empty", nil, nil, false},
		{"damaged", append([]byte{0}, 0xff, 0xff, 0xff), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := unpackPayload(tt.stored)
			if (err != nil) != tt.bad || !bytes.Equal(got, tt.want) {
				t.Fatalf("unpack = %d bytes, %v; want %d bytes, error %v", len(got), err, len(tt.want), tt.bad)
			}
		})
	}
}
