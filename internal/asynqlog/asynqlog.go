// Package asynqlog lets asynq, the queue library of Reflex and its agents,
// log through slog.
package asynqlog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
)

// LevelFatal is the slog level of asynq's fatal messages, above Error.
const LevelFatal = slog.LevelError + 4

// New returns an asynq logger that writes to log.
func New(log *slog.Logger) asynq.Logger { return logger{log} }

// logger writes asynq's messages to a slog logger at the matching level.
type logger struct{ log *slog.Logger }

func (l logger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...)) }
func (l logger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...)) }
func (l logger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...)) }
func (l logger) Error(args ...any) { l.log.Error(fmt.Sprint(args...)) }
func (l logger) Fatal(args ...any) { l.log.Log(context.Background(), LevelFatal, fmt.Sprint(args...)) }
