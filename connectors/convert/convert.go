// Package convert holds the small conversions every connector makes when it
// fills an event from a payload: commit ids, numeric ids, fallbacks and
// timestamps, so that the same value reads the same from every provider.
package convert

import (
	"strconv"
	"time"
)

// IsSHA reports whether s is a full lower-case hex Git object id: SHA-1
// (40 digits) or SHA-256 (64).
func IsSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// NonZeroSHA returns sha, or "" when it is all zeros: the id providers send
// for the side of a ref that does not exist (before a branch is created,
// after it is deleted).
func NonZeroSHA(sha string) string {
	if IsZeroSHA(sha) {
		return ""
	}
	return sha
}

// IsZeroSHA reports whether sha is a non-empty run of zeros.
func IsZeroSHA(sha string) bool {
	if sha == "" {
		return false
	}
	for i := 0; i < len(sha); i++ {
		if sha[i] != '0' {
			return false
		}
	}
	return true
}

// First returns the first of values that is not empty.
func First(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// ID returns a provider's numeric id as a string, "" for 0 (absent).
func ID(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// Pick returns yes when cond holds, else no.
func Pick[T any](cond bool, yes, no T) T {
	if cond {
		return yes
	}
	return no
}

// UTC returns a timestamp in UTC, or nil when it is absent: nil, the zero
// time, or at or before the Unix epoch, which some providers send for a
// time not reached yet.
func UTC(ts *time.Time) *time.Time {
	if ts == nil || ts.Unix() <= 0 {
		return nil
	}
	t := ts.UTC()
	return &t
}
