// Package keyspace builds every Redis key Reflex reads or writes: the whole
// layout is in this file, and no other Reflex code, Go or Lua, puts one of
// its key names together (asynq builds its own).
//
// Every key starts with "reflex:" and a hash tag, as asynq's start with
// "asynq:{<queue>}:". Redis Cluster places a key by the hash of its tag
// alone, so keys that share a tag live on one node, and only such keys may
// be touched by one script or transaction. The tag therefore groups the
// keys that some script writes together:
//
//	reflex:{events}:     the event history (saveEvent, trimEvents)
//	  all                    sorted set: every stored event ("<source>/<id>") by receive time (ms)
//	  source:<source>        sorted set: one source's events by receive time
//	  ids                    hash: event id -> the source that stored it last
//	  event:<source>/<id>    string: the event's JSON
//	  payload:<source>/<id>  string: the provider's raw payload
//	  decisions:<source>/<id> list: the authorization decisions made about it
//	  dedupe:<source>/<id>   string: the delivery id was accepted (expires after the dedupe window)
//	  intake                 stream: the deliveries the history does not keep (duplicates,
//	                         refusals), newest last, capped, for operators
//
//	reflex:{state}:      live-state objects (writeObjects writes objects of any
//	                     types together with the change stream; unindex)
//	  obj:<type>:<name>      hash: the current revision ("v") and document ("doc")
//	  objv:<type>:<name>     hash: the kept revisions, by number
//	  objn:<type>            sorted set: the type's names, all at score 0 (by name)
//	  objt:<type>            sorted set: the type's names by creation time (ms)
//	  changes                stream: every object change, for watchers
//	  cursor-key             string: the key that seals list cursors
//	  once:<name>            string: a one-time step ran (Store.Once)
//	  session:<digest>       string: a signed-in operator's web session (expires)
//
//	reflex:{delivery}:   deliveries beside their records (acquire, release and
//	                     unlistFree write the locks with their index)
//	  locks                  set: the services whose lock is held, so the reaper
//	                         finds them without a scan
//	  lock:<service>         string: the delivery that holds the service
//	  pending:<service>      list: the deliveries waiting behind it, oldest first
//	  report-lock:<id>       string: a delivery's reports are being applied (expires)
//	  job:<id>               string: a delivery's unsigned job, for dispatches and re-runs (expires)
//	  sequence:<service>     integer: the last job number given to a service's jobs (agents refuse older ones)
//	  output:<run>           string: one attempt's output as its agent sends it (bounded, expires)
//	  output-length:<run>    integer: how many bytes of it the agent sent (expires)
//
//	reflex:{agents:<zone>}: one zone's delivery jobs for its agents, a tag per
//	                     zone (package leases: offer, take, renew, finish,
//	                     cancel write them together)
//	  offers                 stream: one entry per job offered (job, payload,
//	                         expires); its consumer group "agents" leases each
//	                         entry to one agent at a time
//	  jobs                   hash: job id -> where the job stands, as JSON:
//	                         offered, leased (lease id, agent, attempt, cancel),
//	                         finished or withdrawn
//	  ended                  sorted set: the finished and withdrawn jobs by end
//	                         time (ms), forgotten after a while
//
//	reflex:agents:offered  pub/sub channel, not a key: the zone of every job
//	                     offered, which wakes the polls waiting on any replica
//
// One tag per group puts each group on one node of a cluster, which is the
// price of atomic writes across it (asynq pays it per queue). Nothing at
// run time looks keys up by pattern (SCAN, KEYS): every key is named by an
// index or by a record.
//
// The earlier layout, without hash tags, is built by Legacy, for
// Store.Migrate to find what it must move.
package keyspace

import "strings"

// Hash-tagged prefixes of the three fixed groups.
const (
	events   = "reflex:{events}:"
	state    = "reflex:{state}:"
	delivery = "reflex:{delivery}:"
)

// agents is the hash-tagged prefix of one zone's group.
func agents(zone string) string { return "reflex:{agents:" + zone + "}:" }

// EventMember is an event's member in the event indexes and the last part
// of its keys: "source/id". Neither part may contain "/".
func EventMember(source, id string) string { return source + "/" + id }

// SplitEventMember returns the source and delivery id of an event member,
// reversing EventMember.
func SplitEventMember(member string) (source, id string) {
	source, id, _ = strings.Cut(member, "/")
	return source, id
}

// Events is the sorted set of all stored events by receive time.
func Events() string { return events + "all" }

// SourceEvents is the sorted set of one source's events by receive time.
func SourceEvents(source string) string { return events + "source:" + source }

// EventIDs maps an event id to the source that stored it last, so an event
// can be found by the id the intake returned.
func EventIDs() string { return events + "ids" }

// Event holds one event's JSON.
func Event(member string) string { return events + "event:" + member }

// Payload holds one event's raw provider payload.
func Payload(member string) string { return events + "payload:" + member }

// Decisions is the list of authorization decisions made about an event.
func Decisions(member string) string { return events + "decisions:" + member }

// Dedupe records that a source's delivery id was accepted.
func Dedupe(source, id string) string { return events + "dedupe:" + EventMember(source, id) }

// Object is the hash holding an object's current revision ("v") and
// document ("doc").
func Object(typ, name string) string { return state + "obj:" + typ + ":" + name }

// ObjectVersions is the hash of an object's kept revisions by number.
func ObjectVersions(typ, name string) string { return state + "objv:" + typ + ":" + name }

// IntakeLog is the capped stream of deliveries the event history does not
// keep: duplicates and refusals, for the operators' pages.
func IntakeLog() string { return events + "intake" }

// ObjectNames is the sorted set of the names of one type's objects, all at
// score 0, so it is ordered by name and pages by name exactly.
func ObjectNames(typ string) string { return state + "objn:" + typ }

// ObjectTimes is the sorted set of the names of one type's objects by
// creation time (milliseconds), for lists newest first.
func ObjectTimes(typ string) string { return state + "objt:" + typ }

// Changes is the stream of object changes that watchers follow.
func Changes() string { return state + "changes" }

// CursorKey holds the key that seals list cursors, shared by every replica.
func CursorKey() string { return state + "cursor-key" }

// Once records that a one-time step of that name ran.
func Once(name string) string { return state + "once:" + name }

// Session holds one operator's web session, by the SHA-256 of its cookie
// (hex), so the key does not give the cookie away.
func Session(digest string) string { return state + "session:" + digest }

// DeliveryLocks is the set of services whose lock is held, kept by the
// scripts that take and release locks.
func DeliveryLocks() string { return delivery + "locks" }

// DeliveryLock holds the id of the one delivery of a service that is
// queued or running.
func DeliveryLock(service string) string { return delivery + "lock:" + service }

// DeliveryPending lists the ids of a service's deliveries waiting behind
// the one that holds it, oldest first.
func DeliveryPending(service string) string { return delivery + "pending:" + service }

// DeliveryReportLock serializes the reports of one delivery.
func DeliveryReportLock(id string) string { return delivery + "report-lock:" + id }

// DeliveryJob holds a delivery's job, unsigned, so it can be signed afresh
// when it is dispatched or run again.
func DeliveryJob(id string) string { return delivery + "job:" + id }

// DeliverySequence counts the jobs queued for a service: each job carries
// the next number, so agents can refuse an older one (a rollback).
func DeliverySequence(service string) string { return delivery + "sequence:" + service }

// DeliveryOutput holds the output of one attempt of a delivery (its run:
// the leased job and the attempt), as the agent sends it while it runs.
func DeliveryOutput(run string) string { return delivery + "output:" + run }

// DeliveryOutputLength counts the bytes of an attempt's output its agent
// sent, kept or not.
func DeliveryOutputLength(run string) string { return delivery + "output-length:" + run }

// AgentOffers is the stream a zone's jobs are offered on, whose consumer
// group leases each entry to one agent at a time.
func AgentOffers(zone string) string { return agents(zone) + "offers" }

// AgentJobs is the hash of a zone's jobs by id, each telling where the job
// stands: offered, leased (to whom, which attempt), finished or withdrawn.
func AgentJobs(zone string) string { return agents(zone) + "jobs" }

// AgentEnded is the sorted set of a zone's finished and withdrawn jobs by
// end time (ms), by which their records are forgotten.
func AgentEnded(zone string) string { return agents(zone) + "ended" }

// AgentWake is the pub/sub channel (not a key) on which every offer of a
// job names its zone, to wake the polls of that zone on every replica.
func AgentWake() string { return "reflex:agents:offered" }

// asynq's keys, as asynq v0.26 lays them out: the intake queues an
// event's job in the same script that records the event (the events queue's
// keys share the {events} tag), so it writes these itself. A test holds
// them to asynq's own.

// AsynqTask is the hash of one task of an asynq queue.
func AsynqTask(queue, id string) string { return "asynq:{" + queue + "}:t:" + id }

// AsynqPending is the list of an asynq queue's pending task ids.
func AsynqPending(queue string) string { return "asynq:{" + queue + "}:pending" }

// AsynqSpill is the list of an asynq queue's pending task ids beyond its
// pending list's bound, oldest first (jobs.Refill).
func AsynqSpill(queue string) string { return "asynq:{" + queue + "}:spill" }

// EventsQueue is the asynq queue of events' processing jobs; an event's
// job has its member (EventMember) for task id, and shares the event
// keys' tag.
const EventsQueue = "events"

// EventJob is the task hash of an event's processing job while it exists:
// queued, running, waiting for a retry, or archived.
func EventJob(member string) string { return AsynqTask(EventsQueue, member) }

// AsynqQueues is the set of asynq's queue names.
func AsynqQueues() string { return "asynq:queues" }

// Legacy builds the keys of the layout before hash tags, which only the
// migration reads.
var Legacy legacy

type legacy struct{}

// Events is the earlier index of all events.
func (legacy) Events() string { return "reflex:events" }

// SourceEvents is the earlier index of one source's events.
func (legacy) SourceEvents(source string) string { return "reflex:events:source:" + source }

// EventIDs is the earlier map of event ids to sources.
func (legacy) EventIDs() string { return "reflex:events:ids" }

// Event is an event's earlier key.
func (legacy) Event(member string) string { return "reflex:event:" + member }

// Payload is the earlier key of an event's payload.
func (legacy) Payload(member string) string { return "reflex:payload:" + member }

// Decisions is the earlier key of an event's decisions.
func (legacy) Decisions(member string) string { return "reflex:decisions:" + member }

// Dedupe is the earlier dedupe record of an event ("source/id").
func (legacy) Dedupe(member string) string { return "reflex:dedupe:" + member }

// Object is an object's earlier hash.
func (legacy) Object(typ, name string) string { return "reflex:obj:" + typ + ":" + name }

// ObjectVersions is the earlier hash of an object's revisions.
func (legacy) ObjectVersions(typ, name string) string { return "reflex:objv:" + typ + ":" + name }

// ObjectNames is the earlier index of a type's names.
func (legacy) ObjectNames(typ string) string { return "reflex:objn:" + typ }

// ObjectTimes is the earlier index of a type's names by creation time.
func (legacy) ObjectTimes(typ string) string { return "reflex:objt:" + typ }

// ObjectSet is the plain set of a type's names that releases before the
// sorted indexes listed objects by.
func (legacy) ObjectSet(typ string) string { return "reflex:objs:" + typ }

// Changes is the earlier change stream.
func (legacy) Changes() string { return "reflex:changes" }

// CursorKey is the earlier key of the cursor key.
func (legacy) CursorKey() string { return "reflex:cursor-key" }

// Once is the earlier record of a one-time step.
func (legacy) Once(name string) string { return "reflex:once:" + name }

// OnceNames are the one-time steps earlier releases recorded; the earlier
// layout has no index of them.
func (legacy) OnceNames() []string { return []string{"default-policy"} }

// DeliveryLock is the earlier lock of a service.
func (legacy) DeliveryLock(service string) string { return "reflex:delivery:lock:" + service }

// DeliveryPending is the earlier queue of a service's waiting deliveries.
func (legacy) DeliveryPending(service string) string { return "reflex:delivery:pending:" + service }

// DeliveryJob is the earlier key of a delivery's job.
func (legacy) DeliveryJob(id string) string { return "reflex:delivery:job:" + id }
