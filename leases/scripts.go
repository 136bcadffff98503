package leases

import "github.com/redis/go-redis/v9"

// Where a job stands, in the "s" of its record in the zone's jobs hash.
// The record is JSON: {"s": state, "e": its stream entry while it has one,
// "l": lease id, "a": agent, "n": attempt, "c": true once cancelled while
// leased}.
const (
	stateOffered   = "offered"
	stateLeased    = "leased"
	stateFinished  = "finished"
	stateWithdrawn = "withdrawn"
)

// Every script takes the zone's keys in the order of zoneKeys: the offers
// stream, the jobs hash, the ended jobs (sorted set), or the first two. A
// lease is held while its record names it and its entry is pending with an
// idle time under the lease TTL; XAUTOCLAIM takes entries idle that long.

// offerScript adds a job to the stream unless the zone knows it, creating
// the consumer group with the stream, and names the zone on the wake
// channel. It first forgets (at most 100) jobs that ended before the
// cut-off: the records of ended jobs go while the zone is offered jobs.
//
// KEYS: offers, jobs, ended. ARGV: group, job, payload, expires (ms),
// forget before (ms), wake channel, zone. Returns 1 if added, else 0.
var offerScript = redis.NewScript(`
local offers, jobs, ended = KEYS[1], KEYS[2], KEYS[3]
local old = redis.call("ZRANGEBYSCORE", ended, "-inf", ARGV[5], "LIMIT", 0, 100)
if #old > 0 then
  redis.call("HDEL", jobs, unpack(old))
  redis.call("ZREM", ended, unpack(old))
end
if redis.call("HEXISTS", jobs, ARGV[2]) == 1 then return 0 end
if redis.call("EXISTS", offers) == 0 then
  redis.call("XGROUP", "CREATE", offers, ARGV[1], "0", "MKSTREAM")
end
local id = redis.call("XADD", offers, "*", "job", ARGV[2], "payload", ARGV[3], "expires", ARGV[4])
redis.call("HSET", jobs, ARGV[2], cjson.encode({s = "offered", e = id}))
redis.call("PUBLISH", ARGV[6], ARGV[7])
return 1
`)

// takeScript leases a job to an agent. With an entry id (one XREADGROUP
// just delivered) it judges that entry; without, it claims the entries
// whose lease ran out (XAUTOCLAIM), one at a time, until one can be leased.
// An entry whose job expired is dropped with its record; one whose job was
// cancelled while leased is withdrawn; one without a record, or of an
// ended job, is removed. An entry another agent leased meanwhile (the
// caller paused longer than the TTL) is left alone.
//
// A job the caller excludes (ARGV 8 on) is not leased to it: its entry is
// made as idle as a lease that ran out, for any other agent, and the look
// goes on.
//
// KEYS: offers, jobs, ended. ARGV: group, consumer, lease TTL (ms), now
// (ms), lease id, agent, entry id or "", excluded jobs... Returns {job
// or "", attempt, payload, number of expired jobs, expired jobs...,
// withdrawn jobs...}.
var takeScript = redis.NewScript(`
local offers, jobs, ended = KEYS[1], KEYS[2], KEYS[3]
local grp, consumer, ttl, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local lease, agent, entry = ARGV[5], ARGV[6], ARGV[7]
local expired, withdrawn = {}, {}
local excluded = {}
for i = 8, #ARGV do excluded[ARGV[i]] = true end

local function remove(id)
  redis.call("XACK", offers, grp, id)
  redis.call("XDEL", offers, id)
end

local function judge(id, fields, reclaimed)
  if not fields then
    redis.call("XACK", offers, grp, id)
    return nil
  end
  local f = {}
  for i = 1, #fields, 2 do f[fields[i]] = fields[i + 1] end
  local raw = redis.call("HGET", jobs, f.job)
  local rec = raw and cjson.decode(raw)
  if not rec or rec.e ~= id or (rec.s ~= "offered" and rec.s ~= "leased") then
    remove(id)
    return nil
  end
  if rec.s == "leased" and not reclaimed then return nil end
  if rec.c then
    remove(id)
    redis.call("HSET", jobs, f.job, cjson.encode({s = "withdrawn"}))
    redis.call("ZADD", ended, now, f.job)
    table.insert(withdrawn, f.job)
    return nil
  end
  if tonumber(f.expires) <= now then
    remove(id)
    redis.call("HDEL", jobs, f.job)
    table.insert(expired, f.job)
    return nil
  end
  if excluded[f.job] then
    redis.call("XCLAIM", offers, grp, consumer, 0, id, "IDLE", ttl, "JUSTID")
    return nil
  end
  local n = (rec.n or 0) + 1
  redis.call("HSET", jobs, f.job, cjson.encode({s = "leased", e = id, l = lease, a = agent, n = n}))
  return {f.job, n, f.payload}
end

local got
if entry ~= "" then
  local e = redis.call("XRANGE", offers, entry, entry)[1]
  got = judge(entry, e and e[2], false)
elseif redis.call("EXISTS", offers) == 1 then
  local cursor = "0-0"
  for _ = 1, 100 do
    local r = redis.call("XAUTOCLAIM", offers, grp, consumer, ttl, cursor, "COUNT", 1)
    for _, e in ipairs(r[2]) do
      if type(e) == "table" then got = judge(e[1], e[2], true) end
      if got then break end
    end
    cursor = r[1]
    if got or cursor == "0-0" then break end
  end
end
local reply = got or {"", 0, ""}
table.insert(reply, #expired)
for _, j in ipairs(expired) do table.insert(reply, j) end
for _, j in ipairs(withdrawn) do table.insert(reply, j) end
return reply
`)

// renewScript resets the idle time of a held lease's entry.
//
// KEYS: offers, jobs. ARGV: group, consumer, job, lease id, lease TTL
// (ms). Returns -1 when the lease is not held, 1 when it is and the job was
// cancelled, else 0.
var renewScript = redis.NewScript(`
local raw = redis.call("HGET", KEYS[2], ARGV[3])
if not raw then return -1 end
local rec = cjson.decode(raw)
if rec.s ~= "leased" or rec.l ~= ARGV[4] then return -1 end
local p = redis.call("XPENDING", KEYS[1], ARGV[1], rec.e, rec.e, 1)
if #p == 0 or tonumber(p[1][3]) >= tonumber(ARGV[5]) then return -1 end
redis.call("XCLAIM", KEYS[1], ARGV[1], ARGV[2], 0, rec.e, "JUSTID")
if rec.c then return 1 end
return 0
`)

// finishScript acknowledges and removes the entry of the lease that holds
// the job, and keeps the job's record as finished by that lease, which
// finishes it again. A lease that ran out still finishes its job while no
// other agent took it: the work is done, and running it again would be
// worse.
//
// KEYS: offers, jobs, ended. ARGV: group, job, lease id, now (ms). Returns
// 1 if finished, 0 if the lease is not held.
var finishScript = redis.NewScript(`
local offers, jobs, ended = KEYS[1], KEYS[2], KEYS[3]
local raw = redis.call("HGET", jobs, ARGV[2])
if not raw then return 0 end
local rec = cjson.decode(raw)
if rec.s == "finished" and rec.l == ARGV[3] then return 1 end
if rec.s ~= "leased" or rec.l ~= ARGV[3] then return 0 end
redis.call("XACK", offers, ARGV[1], rec.e)
redis.call("XDEL", offers, rec.e)
redis.call("HSET", jobs, ARGV[2], cjson.encode({s = "finished", l = rec.l, a = rec.a, n = rec.n}))
redis.call("ZADD", ended, ARGV[4], ARGV[2])
return 1
`)

// cancelScript withdraws a job no agent holds (its entry removed, its
// record kept as withdrawn): offered, given back, or leased by a lease
// that ran out; or flags a held one.
//
// KEYS: offers, jobs, ended. ARGV: group, job, now (ms), lease TTL (ms).
// Returns the job's state after: "withdrawn", "leased", "finished", or ""
// for an unknown job.
var cancelScript = redis.NewScript(`
local offers, jobs, ended = KEYS[1], KEYS[2], KEYS[3]
local raw = redis.call("HGET", jobs, ARGV[2])
if not raw then return "" end
local rec = cjson.decode(raw)
if rec.s == "leased" and rec.l then
  local p = redis.call("XPENDING", offers, ARGV[1], rec.e, rec.e, 1)
  if #p > 0 and tonumber(p[1][3]) < tonumber(ARGV[4]) then
    rec.c = true
    redis.call("HSET", jobs, ARGV[2], cjson.encode(rec))
    return "leased"
  end
end
if rec.s ~= "offered" and rec.s ~= "leased" then return rec.s end
redis.call("XACK", offers, ARGV[1], rec.e)
redis.call("XDEL", offers, rec.e)
redis.call("HSET", jobs, ARGV[2], cjson.encode({s = "withdrawn"}))
redis.call("ZADD", ended, ARGV[3], ARGV[2])
return "withdrawn"
`)

// lookupScript tells where a job stands.
//
// KEYS: offers, jobs, ended. ARGV: group, job, lease TTL (ms). Returns {}
// for an unknown job, else {state, agent, lease id, attempt, end time (ms)
// or ""}; a lease that ran out reads as "offered", with the agent and
// lease id that held it until another agent takes it.
var lookupScript = redis.NewScript(`
local raw = redis.call("HGET", KEYS[2], ARGV[2])
if not raw then return {} end
local rec = cjson.decode(raw)
local state = rec.s
if state == "leased" then
  local p = redis.call("XPENDING", KEYS[1], ARGV[1], rec.e, rec.e, 1)
  if #p == 0 or tonumber(p[1][3]) >= tonumber(ARGV[3]) then state = "offered" end
end
local ended = redis.call("ZSCORE", KEYS[3], ARGV[2]) or ""
return {state, rec.a or "", rec.l or "", tostring(rec.n or 0), ended}
`)

// releaseScript gives a held lease back: its entry becomes as idle as a
// lease that ran out, so the next take claims it at once, and the zone is
// named on the wake channel.
//
// KEYS: offers, jobs. ARGV: group, consumer, job, lease id, lease TTL (ms),
// wake channel, zone. Returns 1 if released, 0 if the lease is not held.
var releaseScript = redis.NewScript(`
local raw = redis.call("HGET", KEYS[2], ARGV[3])
if not raw then return 0 end
local rec = cjson.decode(raw)
if rec.s ~= "leased" or rec.l ~= ARGV[4] then return 0 end
local p = redis.call("XPENDING", KEYS[1], ARGV[1], rec.e, rec.e, 1)
if #p == 0 or tonumber(p[1][3]) >= tonumber(ARGV[5]) then return 0 end
redis.call("XCLAIM", KEYS[1], ARGV[1], ARGV[2], 0, rec.e, "IDLE", ARGV[5], "JUSTID")
rec.l = nil
rec.a = nil
redis.call("HSET", KEYS[2], ARGV[3], cjson.encode(rec))
redis.call("PUBLISH", ARGV[6], ARGV[7])
return 1
`)
