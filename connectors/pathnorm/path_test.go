package pathnorm

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []step // nil: an error mentioning err
		err  string
	}{
		{in: "type", want: []step{{name: "type", index: -1}}},
		{in: "data.push.changes[0].new.name", want: []step{
			{name: "data", index: -1}, {name: "push", index: -1}, {name: "changes", index: -1},
			{index: 0}, {name: "new", index: -1}, {name: "name", index: -1},
		}},
		{in: "[2].id", want: []step{{index: 2}, {name: "id", index: -1}}},
		{in: "a[1][12]", want: []step{{name: "a", index: -1}, {index: 1}, {index: 12}}},
		{in: "x-request_id.$ref:v@2", want: []step{{name: "x-request_id", index: -1}, {name: "$ref:v@2", index: -1}}},
		{in: `labels["org.opencontainers.image.revision"]`, want: []step{{name: "labels", index: -1}, {name: "org.opencontainers.image.revision", index: -1}}},
		{in: `["a b"][0]["c"].d`, want: []step{{name: "a b", index: -1}, {index: 0}, {name: "c", index: -1}, {name: "d", index: -1}}},
		{in: `a["b"`, err: `has no closing "]`},
		{in: `a[""]`, err: "member name at 1 is empty"},
		{in: `a["b\c"]`, err: "cannot be part of a quoted member name"},
		{in: `a.["b"]`, err: "member name is missing at 2"},
		{in: "", err: "empty"},
		{in: ".a", err: "unexpected '.' at 0"},
		{in: "a.", err: "unexpected '.' at 1"},
		{in: "a..b", err: "member name is missing at 2"},
		{in: "a[", err: "has no ']'"},
		{in: "a[x]", err: "must be a number"},
		{in: "a[-1]", err: "must be a number"},
		{in: "a[01]", err: "must be a number"},
		{in: "a[]", err: "must be a number"},
		{in: "a[10000]", err: "above 9999"},
		{in: "a]", err: "cannot be part of a member name"},
		{in: "a b", err: "cannot be part of a member name"},
		{in: `a"b`, err: "cannot be part of a member name"},
		{in: "dätä", err: "cannot be part of a member name"},
		{in: "a[0]b", err: "unexpected 'b' at 4"},
		{in: strings.Repeat("a", 257), err: "longer than 256"},
		{in: strings.Repeat("a.", 32) + "a", err: "more than 32 steps"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			p, err := parsePath(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parsePath(%q) = %v, want an error mentioning %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parsePath(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, p.steps, cmp.AllowUnexported(step{})); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			if p.String() != tt.in {
				t.Errorf("String() = %q, want %q", p.String(), tt.in)
			}
		})
	}
}

func TestParseAlternatives(t *testing.T) {
	t.Parallel()
	paths, err := parseAlternatives("data.after | data.commit|sha")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range paths {
		got = append(got, p.String())
	}
	if diff := cmp.Diff([]string{"data.after", "data.commit", "sha"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := parseAlternatives("a||b"); err == nil || !strings.Contains(err.Error(), `"": the path is empty`) {
		t.Errorf("empty alternative: %v", err)
	}
	if _, err := parseAlternatives(strings.Repeat("a|", 8) + "a"); err == nil || !strings.Contains(err.Error(), "more than 8") {
		t.Errorf("nine alternatives: %v", err)
	}
}
