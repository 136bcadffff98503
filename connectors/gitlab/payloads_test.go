package gitlab

import (
	"testing"
	"time"
)

// TestGitlabTime: the timestamp forms GitLab's events use; anything else,
// a string of another form or no string at all, is left zero and never an
// error.
func TestGitlabTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{`"2016-08-12 15:23:28 UTC"`, time.Date(2016, 8, 12, 15, 23, 28, 0, time.UTC), false},
		{`"2021-04-28 21:50:00 +0200"`, time.Date(2021, 4, 28, 19, 50, 0, 0, time.UTC), false},
		{`"2021-02-23T02:41:37.886Z"`, time.Date(2021, 2, 23, 2, 41, 37, 886e6, time.UTC), false},
		{`"2020-10-31T14:58:32+11:00"`, time.Date(2020, 10, 31, 3, 58, 32, 0, time.UTC), false},
		{`null`, time.Time{}, false},
		{`""`, time.Time{}, false},
		{`"2016-08-12 15:23:28 CEST"`, time.Time{}, false},
		{`"yesterday"`, time.Time{}, false},
		{`1614048113`, time.Time{}, false},
		{`true`, time.Time{}, false},
		{`{"at":"2016-08-12 15:23:28 UTC"}`, time.Time{}, false},
		{`["2016-08-12 15:23:28 UTC"]`, time.Time{}, false},
	}
	for _, tt := range tests {
		var got gitlabTime
		err := got.UnmarshalJSON([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("%s: %v, want %v", tt.in, got.Time, tt.want)
		}
		if p := got.ptr(); (p == nil) != tt.want.IsZero() || p != nil && p.Location() != time.UTC {
			t.Errorf("%s: ptr() = %v", tt.in, p)
		}
	}
}
