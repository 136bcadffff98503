package jobs

import (
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/state"
)

// The intake queues an event's job in the same Redis script that records
// the event, so it encodes the job as asynq's client would: asynq's task
// message (its protocol buffer, asynq v0.26's field numbers), under asynq's
// keys. TestTaskMessageIsAsynqs holds the bytes to what asynq's own client
// stores for the same task.
const (
	fieldType      = 1
	fieldPayload   = 2
	fieldID        = 3
	fieldQueue     = 4
	fieldRetry     = 5
	fieldTimeout   = 8
	fieldRetention = 12
)

// processEventTimeout bounds one processing of an event.
const processEventTimeout = time.Minute

// taskMessage encodes a pending task as asynq stores it: fields in number
// order, zero values left out (proto3). Its payload is the parts given,
// one after the other, copied once.
func taskMessage(typ, id, queue string, retry int, timeout, retention time.Duration, payload ...[]byte) []byte {
	size := 0
	for _, p := range payload {
		size += len(p)
	}
	b := make([]byte, 0, size+len(typ)+len(id)+len(queue)+40)
	b = protowire.AppendTag(b, fieldType, protowire.BytesType)
	b = protowire.AppendString(b, typ)
	if size > 0 {
		b = protowire.AppendTag(b, fieldPayload, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(size))
		for _, p := range payload {
			b = append(b, p...)
		}
	}
	b = protowire.AppendTag(b, fieldID, protowire.BytesType)
	b = protowire.AppendString(b, id)
	b = protowire.AppendTag(b, fieldQueue, protowire.BytesType)
	b = protowire.AppendString(b, queue)
	if retry != 0 {
		b = protowire.AppendTag(b, fieldRetry, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(int64(int32(retry))))
	}
	if s := int64(timeout.Seconds()); s != 0 {
		b = protowire.AppendTag(b, fieldTimeout, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(s))
	}
	if s := int64(retention.Seconds()); s != 0 {
		b = protowire.AppendTag(b, fieldRetention, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(s))
	}
	return b
}

// ProcessEventJob returns the job of an accepted event, ready to queue in
// the script that records the event with its payload: eventJSON is the
// event as encoded once (the record and the job share it); the payload
// stays with the record, so the job is small. spillAt, when over 0, bounds
// the events queue's pending list (see Refill).
func ProcessEventJob(source, id string, eventJSON []byte, maxRetry, spillAt int) *state.Job {
	job := storedEventJob(taskID(source, id), eventJSON, maxRetry)
	if spillAt > 0 {
		job.Spill, job.SpillAt = keyspace.AsynqSpill(QueueEvents), spillAt
	}
	return job
}

// storedEventJob is the job, under task id task, of an event whose record
// holds its payload.
func storedEventJob(task string, eventJSON []byte, maxRetry int) *state.Job {
	return &state.Job{
		Key: keyspace.AsynqTask(QueueEvents, task), Pending: keyspace.AsynqPending(QueueEvents), ID: task,
		Message: taskMessage(TypeProcessEvent, task, QueueEvents, maxRetry, processEventTimeout, 0,
			frameHeader(payloadStored, len(eventJSON)), eventJSON),
	}
}
