package state

import (
	"cmp"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
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

// cursors seals positions into the opaque cursors clients send back. A
// cursor is encrypted and authenticated with a key every replica shares
// (kept in Redis), bound to the list it came from: it tells nothing (such
// as the name of an object the caller may not read, where a page stopped
// scanning), and one that was altered, forged or taken from another list
// is refused.
type cursors struct {
	mu   sync.Mutex
	aead cipher.AEAD
}

// cursorKeySize is the size of the AES-256 key that seals cursors.
const cursorKeySize = 32

// key returns the sealing key, creating it in Redis the first time any
// replica needs one.
func (s *Store) cursorAEAD(ctx context.Context) (cipher.AEAD, error) {
	s.cursors.mu.Lock()
	defer s.cursors.mu.Unlock()
	if s.cursors.aead != nil {
		return s.cursors.aead, nil
	}
	fresh := make([]byte, cursorKeySize)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("cursor key: %w", err)
	}
	if err := s.rdb.SetNX(ctx, keyspace.CursorKey(), fresh, 0).Err(); err != nil {
		return nil, fmt.Errorf("cursor key: %w", err)
	}
	key, err := s.rdb.Get(ctx, keyspace.CursorKey()).Bytes()
	if err != nil || len(key) != cursorKeySize {
		return nil, fmt.Errorf("cursor key: %v", cmp.Or(err, errors.New("wrong size")))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("cursor key: %w", err)
	}
	if s.cursors.aead, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("cursor key: %w", err)
	}
	return s.cursors.aead, nil
}

// encodeCursor returns the cursor of a position in the list named list.
func (s *Store) encodeCursor(ctx context.Context, list string, p position) (string, error) {
	aead, err := s.cursorAEAD(ctx)
	if err != nil {
		return "", err
	}
	plain, _ := json.Marshal(p)
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, []byte(list))), nil
}

// decodeCursor reverses encodeCursor; "" is the start of the list.
func (s *Store) decodeCursor(ctx context.Context, list, cursor string) (*position, error) {
	if cursor == "" {
		return nil, nil
	}
	aead, err := s.cursorAEAD(ctx)
	if err != nil {
		return nil, err
	}
	bad := fmt.Errorf("%w: the cursor is not one this list returned; start again without it", ErrInvalid)
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(raw) < aead.NonceSize() {
		return nil, bad
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(list))
	var p position
	if err != nil || json.Unmarshal(plain, &p) != nil || p.Member == "" {
		return nil, bad
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
