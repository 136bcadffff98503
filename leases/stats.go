package leases

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// statsScript counts a zone's jobs by the state their records say, and
// finds when the oldest job waiting for an agent was offered (the time of
// its stream entry, by Redis's clock). It reads one hash, in one step.
//
// KEYS: offers, jobs. Returns {offered, leased, oldest offer (ms) or ""}.
var statsScript = redis.NewScript(`
local offered, leased, oldest = 0, 0, nil
for _, raw in ipairs(redis.call("HVALS", KEYS[2])) do
  local ok, rec = pcall(cjson.decode, raw)
  if ok and type(rec) == "table" then
    if rec.s == "offered" then
      offered = offered + 1
      local at = tonumber(string.match(rec.e or "", "^(%d+)%-"))
      if at and (oldest == nil or at < oldest) then oldest = at end
    elseif rec.s == "leased" then
      leased = leased + 1
    end
  end
end
local first = ""
if oldest then first = string.format("%d", oldest) end
return {offered, leased, first}
`)

// Stats is how many jobs a zone holds, as Queue.Stats tells.
type Stats struct {
	// Offered counts the jobs waiting for an agent (given back ones too).
	Offered int
	// Leased counts the jobs an agent holds, or held until its lease ran
	// out and no other agent took them yet.
	Leased int
	// OldestOffer is when the job waiting longest was offered; zero when
	// none waits.
	OldestOffer time.Time
}

// Stats counts the jobs of a zone, for metrics: one read of the zone's
// records, whose cost grows with the jobs it holds and remembers.
func (q *Queue) Stats(ctx context.Context, zone string) (Stats, error) {
	if err := checkZone(zone); err != nil {
		return Stats{}, fmt.Errorf("count jobs: %w", err)
	}
	res, err := statsScript.Run(ctx, q.Redis, zoneKeys(zone)[:2]).Slice()
	if err != nil {
		return Stats{}, fmt.Errorf("count the jobs of zone %s: %w", zone, err)
	}
	if len(res) != 3 {
		return Stats{}, fmt.Errorf("count the jobs of zone %s: %d values in the answer, want 3", zone, len(res))
	}
	offered, _ := res[0].(int64)
	leased, _ := res[1].(int64)
	s := Stats{Offered: int(offered), Leased: int(leased)}
	if first, _ := res[2].(string); first != "" {
		at, err := strconv.ParseInt(first, 10, 64)
		if err != nil {
			return Stats{}, fmt.Errorf("count the jobs of zone %s: oldest offer %q: %w", zone, first, err)
		}
		s.OldestOffer = time.UnixMilli(at)
	}
	return s, nil
}
