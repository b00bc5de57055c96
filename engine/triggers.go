package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/workflow"
)

// TriggerState is the health of a schedule or poll trigger, as the API shows it.
type TriggerState struct {
	WorkflowID string `json:"workflow_id"`
	Type       string `json:"type"`
	// Version is the workflow version the scheduler last set the trigger up for.
	Version int `json:"version"`
	// Schedule triggers.
	LastTick *time.Time `json:"last_tick,omitempty"`
	NextTick *time.Time `json:"next_tick,omitempty"`
	// Poll triggers.
	NextPollAt          *time.Time `json:"next_poll_at,omitempty"`
	LastPollAt          *time.Time `json:"last_poll_at,omitempty"`
	LastSuccessAt       *time.Time `json:"last_success_at,omitempty"`
	LastError           string     `json:"last_error,omitempty"`
	FailingSince        *time.Time `json:"failing_since,omitempty"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	ItemsSeen           int64      `json:"items_seen"`
	RunsStarted         int64      `json:"runs_started"`
	// Seeded says the first poll has succeeded: new items start runs from now on.
	Seeded bool `json:"seeded"`
	// Polling names the process polling now, if one is.
	Polling string `json:"polling,omitempty"`
}

// GetTriggerState returns the state of a workflow's schedule or poll trigger. A workflow
// with another trigger is ErrNotFound; one the scheduler has not reached yet has an empty
// state.
func (e *Engine) GetTriggerState(ctx context.Context, id string) (*TriggerState, error) {
	w, err := e.store.GetWorkflow(ctx, id)
	if err != nil {
		return nil, translate(err)
	}
	if w.TriggerType != workflow.TriggerSchedule && w.TriggerType != workflow.TriggerPoll {
		return nil, fmt.Errorf("%w: workflow %s has a %s trigger, which keeps no schedule state", ErrNotFound, id, w.TriggerType)
	}
	out := &TriggerState{WorkflowID: id, Type: w.TriggerType}
	st, err := e.store.GetTriggerState(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out.Version, out.RunsStarted = st.Version, st.RunsStarted
	if w.TriggerType == workflow.TriggerSchedule {
		out.LastTick = st.LastSlot
		if wf, err := e.versions.get(ctx, id, w.Version); err == nil && wf.Schedule != nil && st.LastSlot != nil {
			next := wf.Schedule.Next(*st.LastSlot)
			out.NextTick = &next
		}
		return out, nil
	}
	out.NextPollAt = &st.NextAt
	out.LastPollAt, out.LastSuccessAt, out.LastError = st.LastPollAt, st.LastSuccessAt, st.LastError
	out.FailingSince, out.ConsecutiveFailures = st.FailingSince, st.ConsecutiveFailures
	out.ItemsSeen, out.Seeded = st.ItemsSeen, st.Seeded
	if st.LeaseOwner != nil && st.LeaseUntil != nil && st.LeaseUntil.After(e.cfg.Now()) {
		out.Polling = *st.LeaseOwner
	}
	return out, nil
}

// ErrUpstream means a third-party service refused a call made on the user's behalf.
var ErrUpstream = errors.New("the service refused the call")

// RegisterWebhook asks the service behind a connection to send its events to a
// workflow's webhook (Telegram's setWebhook), with the secret of the workflow's webhook
// auth connection so that only the service's deliveries pass; with remove it deletes the
// registration instead. url builds the public webhook URL from the workflow's token;
// options are handed to the connector as they are (MoySklad's entity type and action).
func (e *Engine) RegisterWebhook(ctx context.Context, connection, workflowID string, url func(token string) string, remove bool, options map[string]any) (any, error) {
	if err := allow(ctx, RoleEditor, "register webhooks"); err != nil {
		return nil, err
	}
	conn, err := e.resolveConnection(ctx, connection) // an unknown name is ErrNotFound
	if err != nil {
		return nil, err
	}
	c, ok := e.reg.Connector(conn.Connector)
	if !ok || c.RegisterWebhook == nil {
		return nil, invalid("connection", fmt.Sprintf("connector %s cannot register webhooks", conn.Connector))
	}
	w, err := e.store.GetWorkflow(ctx, workflowID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalid("workflow_id", fmt.Sprintf("workflow %q does not exist", workflowID))
	}
	if err != nil {
		return nil, err
	}
	if w.TriggerType != workflow.TriggerWebhook {
		return nil, invalid("workflow_id", fmt.Sprintf("workflow %q has a %s trigger; only webhook workflows receive events", workflowID, w.TriggerType))
	}
	wf, err := e.versions.get(ctx, w.ID, w.Version)
	if err != nil {
		return nil, err
	}
	target := connectors.WebhookTarget{URL: url(w.HookToken), Delete: remove, Options: options}
	if auth := wf.Def.Trigger.Webhook; auth != nil && auth.Auth != nil && auth.Auth.Connection != "" {
		if auth.Auth.Type == "token" {
			target.SecretQuery = auth.Auth.Query
		}
		secretConn, err := e.resolveConnection(ctx, auth.Auth.Connection)
		if err != nil {
			return nil, err
		}
		target.Secret = secretConn.String("secret")
	}
	if !remove && target.Secret == "" {
		return nil, invalid("workflow_id", fmt.Sprintf("workflow %q checks no secret: give its webhook an auth with a connection holding the secret (for Telegram: \"auth\": {\"type\": \"telegram\", \"connection\": ...}), so that only the service's deliveries are accepted", workflowID))
	}
	res, err := c.RegisterWebhook(e.outboundContext(ctx), conn, target)
	if err != nil {
		e.log.Warn("Register webhook failed", slog.String("connection", connection), slog.String("workflow_id", workflowID), slog.Any("err", err))
		return nil, fmt.Errorf("%w: %s", ErrUpstream, conn.Redact(err.Error()))
	}
	e.log.Info("Webhook registered", slog.String("connection", connection), slog.String("workflow_id", workflowID), slog.Bool("removed", remove))
	return res, nil
}

func invalid(path, msg string) error {
	return &workflow.ValidationError{Errors: []workflow.FieldError{{Path: path, Message: msg}}}
}
