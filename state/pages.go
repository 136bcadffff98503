package state

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Limits of a listed page.
const (
	DefaultListLimit = 50
	MaxListLimit     = 1000
)

// pageLimit returns the page size a request asks for, within bounds.
func pageLimit(n int) int {
	if n <= 0 {
		return DefaultListLimit
	}
	return min(n, MaxListLimit)
}

// position is a place in an ordered index: the entry a page ended on, by
// its score and member. The next page starts right after it, so entries
// that share a score are never skipped or repeated.
type position struct {
	Score  string `json:"s,omitempty"`
	Member string `json:"m"`
}

// encode returns the opaque cursor a client sends back for the next page.
func (p position) encode() string {
	raw, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodeCursor reverses encode; "" is the start of the index.
func decodeCursor(cursor string) (*position, error) {
	if cursor == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	var p position
	if err == nil {
		err = json.Unmarshal(raw, &p)
	}
	if err != nil || p.Member == "" {
		return nil, fmt.Errorf("%w: cursor %q is not one a list returned; start again without it", ErrInvalid, cursor)
	}
	return &p, nil
}

// entry is one member of an index and its score.
type entry struct {
	member, score string
}

// newestAfter reads up to ARGV[1] entries of a sorted set, highest score
// first (ties: member descending, as Redis orders them), that follow a
// position. When the position's member is still in the set, its rank is
// the start; otherwise a binary search among the entries of its score
// finds the first that sorts after it, so a page boundary inside a run of
// equal scores is exact even once its entry is gone.
//
// KEYS: the sorted set.
// ARGV: count, position score ("" from the start), position member,
// exclusive upper bound on scores when starting ("" for none).
// Returns member, score, member, score, …
var newestAfter = redis.NewScript(`
local function below(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local key, count = KEYS[1], tonumber(ARGV[1])
local start = 0
if ARGV[2] ~= "" then
  local s, m = ARGV[2], ARGV[3]
  local cur = redis.call("ZSCORE", key, m)
  if cur and tonumber(cur) == tonumber(s) then
    start = redis.call("ZREVRANK", key, m) + 1
  else
    local lo = redis.call("ZCOUNT", key, "(" .. s, "+inf")
    local hi = lo + redis.call("ZCOUNT", key, s, s)
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      local e = redis.call("ZREVRANGE", key, mid, mid)[1]
      if below(e, m) then hi = mid else lo = mid + 1 end
    end
    start = lo
  end
elseif ARGV[4] ~= "" then
  start = redis.call("ZCOUNT", key, ARGV[4], "+inf")
end
return redis.call("ZREVRANGE", key, start, start + count - 1, "WITHSCORES")
`)

// readNewest returns up to n entries of a sorted set after pos (nil: from
// the top, below the exclusive bound before when it is not "").
func (s *Store) readNewest(ctx context.Context, key string, pos *position, before string, n int) ([]entry, error) {
	var score, member string
	if pos != nil {
		score, member = pos.Score, pos.Member
	}
	flat, err := newestAfter.Run(ctx, s.rdb, []string{key}, n, score, member, before).StringSlice()
	if err != nil {
		return nil, err
	}
	out := make([]entry, 0, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		out = append(out, entry{member: flat[i], score: flat[i+1]})
	}
	return out, nil
}

// readByName returns up to n members of a sorted set whose members all
// have score 0, in name order, after pos (nil: from the first), limited
// to names that start with prefix.
func (s *Store) readByName(ctx context.Context, key string, pos *position, prefix string, n int) ([]entry, error) {
	lo, hi := "-", "+"
	if prefix != "" {
		lo, hi = "["+prefix, "("+prefix+"\xff"
	}
	if pos != nil && (prefix == "" || pos.Member >= prefix) {
		lo = "(" + pos.Member
	}
	names, err := s.rdb.ZRangeByLex(ctx, key, &redis.ZRangeBy{Min: lo, Max: hi, Count: int64(n)}).Result()
	if err != nil {
		return nil, err
	}
	out := make([]entry, len(names))
	for i, name := range names {
		out[i] = entry{member: name}
	}
	return out, nil
}
