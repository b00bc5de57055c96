package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hookflow/hookflow/engine/workflow"
)

// ListenWindow is how long the builder's "listen for a test event" keeps a switched-off
// workflow's webhook open after its last poll (NextEvent). Meanwhile a request to it is
// checked like any other and, accepted, stored as a test event that starts no run: a
// draft gets its sample before it is switched on.
const ListenWindow = 2 * time.Minute

// listeners are the switched-off workflows someone is listening on, with the time each
// listening ends. It is this process's: behind a load balancer, the request must reach
// the process the builder polls.
type listeners struct {
	mu    sync.Mutex
	until map[string]time.Time
}

// listen opens (or extends) the workflow's listening window.
func (l *listeners) listen(workflowID string, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.until == nil {
		l.until = map[string]time.Time{}
	}
	l.until[workflowID] = until
}

// active reports whether someone listens on the workflow at now; with an empty id,
// whether anyone listens on any. Ended windows are forgotten.
func (l *listeners) active(workflowID string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	found := false
	for id, until := range l.until {
		if !now.Before(until) {
			delete(l.until, id)
			continue
		}
		if workflowID == "" || id == workflowID {
			found = true
		}
	}
	return found
}

// openListening opens the webhook of a switched-off workflow someone listens on, in test
// mode; ErrNotFound otherwise.
func (e *Engine) openListening(ctx context.Context, token string) (*Webhook, error) {
	w, err := e.store.WorkflowByHookToken(ctx, token)
	if err != nil {
		return nil, translate(err)
	}
	if w.Enabled || w.TriggerType != workflow.TriggerWebhook || !e.listening.active(w.ID, e.cfg.Now()) {
		return nil, fmt.Errorf("%w: workflow %s does not take webhooks now", ErrNotFound, w.ID)
	}
	c, err := e.versions.get(ctx, w.ID, w.Version)
	if err != nil {
		return nil, fmt.Errorf("load workflow %s for webhook: %w", w.ID, err)
	}
	return &Webhook{wf: w, compiled: c, test: true}, nil
}
