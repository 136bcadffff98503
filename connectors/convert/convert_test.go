package convert_test

import (
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors/convert"
)

func TestSHAs(t *testing.T) {
	sha1 := "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
	tests := []struct {
		in            string
		isSHA, isZero bool
		nonZero       string
	}{
		{sha1, true, false, sha1},
		{strings.Repeat("ab", 32), true, false, strings.Repeat("ab", 32)},
		{strings.Repeat("0", 40), true, true, ""},
		{strings.Repeat("0", 64), true, true, ""},
		{strings.ToUpper(sha1), false, false, strings.ToUpper(sha1)},
		{sha1[:12], false, false, sha1[:12]},
		{"main", false, false, "main"},
		{"", false, false, ""},
	}
	for _, tt := range tests {
		if got := convert.IsSHA(tt.in); got != tt.isSHA {
			t.Errorf("IsSHA(%q) = %v, want %v", tt.in, got, tt.isSHA)
		}
		if got := convert.IsZeroSHA(tt.in); got != tt.isZero {
			t.Errorf("IsZeroSHA(%q) = %v, want %v", tt.in, got, tt.isZero)
		}
		if got := convert.NonZeroSHA(tt.in); got != tt.nonZero {
			t.Errorf("NonZeroSHA(%q) = %q, want %q", tt.in, got, tt.nonZero)
		}
	}
}

func TestValues(t *testing.T) {
	if got := convert.First("", "", "b", "c"); got != "b" {
		t.Errorf("First = %q, want b", got)
	}
	if got := convert.ID(0) + "|" + convert.ID(289782451); got != "|289782451" {
		t.Errorf("ID = %q", got)
	}
	if got := convert.Pick(false, 1, 2); got != 2 {
		t.Errorf("Pick = %d", got)
	}
	paris := time.FixedZone("CET", 3600)
	at := time.Date(2026, 1, 2, 4, 4, 5, 0, paris)
	if got := convert.UTC(&at); got == nil || got.Location() != time.UTC || !got.Equal(at) {
		t.Errorf("UTC = %v", got)
	}
	for _, absent := range []*time.Time{nil, {}, func() *time.Time { e := time.Unix(0, 0); return &e }()} {
		if got := convert.UTC(absent); got != nil {
			t.Errorf("UTC(%v) = %v, want nil", absent, got)
		}
	}
}
