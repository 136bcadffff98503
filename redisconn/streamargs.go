package redisconn

import (
	"strconv"
	"strings"
	"time"
)

// blockingRead is an XREAD with BLOCK, taken apart.
type blockingRead struct {
	// args are the command's arguments without BLOCK.
	args         []any
	block        time.Duration // 0: forever
	streams, ids []string
}

// parseBlockingRead takes apart XREAD [COUNT n] BLOCK ms STREAMS keys... ids...
// It reports false for anything else, including reads from "$" (whose
// meaning, the end of the stream when the command arrives, polling would
// change) and a block of a negative duration.
func parseBlockingRead(args []any) (blockingRead, bool) {
	r := blockingRead{args: []any{"xread"}}
	blocks := false
	for i := 1; i < len(args); i++ {
		switch strings.ToLower(toString(args[i])) {
		case "count":
			if i+1 >= len(args) {
				return r, false
			}
			r.args = append(r.args, args[i], args[i+1])
			i++
		case "block":
			if i+1 >= len(args) {
				return r, false
			}
			ms, err := strconv.ParseInt(toString(args[i+1]), 10, 64)
			if err != nil || ms < 0 {
				return r, false
			}
			r.block, blocks = time.Duration(ms)*time.Millisecond, true
			i++
		case "streams":
			rest := args[i+1:]
			if len(rest) == 0 || len(rest)%2 != 0 {
				return r, false
			}
			n := len(rest) / 2
			for j, a := range rest {
				s := toString(a)
				if j < n {
					r.streams = append(r.streams, s)
					continue
				}
				if _, _, ok := parseStreamID(s); !ok {
					return r, false
				}
				r.ids = append(r.ids, s)
			}
			r.args = append(r.args, args[i:]...)
			return r, blocks
		default:
			return r, false
		}
	}
	return r, false
}

// toString returns a command argument as the server sees it, for the
// types go-redis sends names and numbers as.
func toString(a any) string {
	switch v := a.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

// parseStreamID parses "ms-seq" or "ms".
func parseStreamID(id string) (ms, seq uint64, ok bool) {
	head, tail, found := strings.Cut(id, "-")
	ms, err := strconv.ParseUint(head, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if found {
		if seq, err = strconv.ParseUint(tail, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return ms, seq, true
}

// streamIDLess reports whether stream id a comes before b; b unparsable
// (no entry yet) counts as the start.
func streamIDLess(a, b string) bool {
	ams, aseq, _ := parseStreamID(a)
	bms, bseq, ok := parseStreamID(b)
	if !ok {
		return false
	}
	return ams < bms || ams == bms && aseq < bseq
}
