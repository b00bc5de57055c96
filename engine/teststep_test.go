package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors/telegram/telegramtest"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/engine/workflow"
)

// TestTestStep: the builder's "test this step" on an unsaved document. A Telegram
// message step calls the fake Bot API for real with the sample's name rendered; a dry run
// calls nothing; a later step reads an earlier step's output from the outputs given (and
// names the earlier steps it had none for); nothing is stored; a viewer and an invalid
// document are refused.
func TestTestStep(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		eng := enginetest.New(t, d, enginetest.Options{Workers: -1})
		sys := context.Background()
		editor := engine.WithActor(sys, &engine.Actor{UserID: "u-ed", Email: "ed@example.com", Role: engine.RoleEditor, Via: "ui"})
		viewer := engine.WithActor(sys, &engine.Actor{UserID: "u-view", Email: "view@example.com", Role: engine.RoleViewer, Via: "ui"})
		bot := telegramtest.NewServer(t)
		bot.AddChat(telegramtest.Chat{ID: 42, FirstName: "Ann"})
		_, err := eng.CreateConnection(sys, engine.ConnectionInput{Name: "bot", Connector: "telegram",
			Config: map[string]any{"token": bot.Token, "base_url": bot.URL}})
		require.NoError(t, err)
		wf, err := eng.CreateWorkflow(sys, []byte(`{"name":"lead","trigger":{"type":"webhook"},"steps":[]}`))
		require.NoError(t, err)
		// The unsaved document: a core.set, then the message, then a step reading both.
		def := []byte(`{"name":"lead","trigger":{"type":"webhook"},"steps":[
			{"id":"greet","uses":"core.set","with":{"greeting":"Hello"}},
			{"id":"tell","uses":"telegram.send_message","connection":"bot",
			 "with":{"chat_id":"42","text":"{{ steps.greet.output.greeting }}, {{ trigger.body.name }}"}},
			{"id":"after","uses":"core.set","with":{"message_id":"{{ steps.tell.output.message_id }}"}}]}`)

		ing, err := eng.Ingest(sys, wf.HookToken, engine.IngestRequest{Method: "POST", Body: []byte(`{"name":"Ann Lee"}`),
			Header: http.Header{"Content-Type": {"application/json"}}})
		require.NoError(t, err)
		sample := engine.TestSample{EventID: ing.EventID}
		runsBefore, err := eng.ListRuns(sys, engine.RunFilter{WorkflowID: wf.ID})
		require.NoError(t, err)

		// Dry run: the input rendered, no call.
		dry, err := eng.TestStep(editor, wf.ID, def, "tell", sample, map[string]json.RawMessage{"greet": json.RawMessage(`{"greeting":"Hi"}`)}, true)
		require.NoError(t, err)
		require.Equal(t, "would_call", dry.Status, dry.Error)
		require.Equal(t, "Hi, Ann Lee", dry.Input.(map[string]any)["text"])
		require.Zero(t, len(bot.Requests()), "a dry run calls nothing")

		// For real: the earlier step's output from outputs, the sample's name.
		res, err := eng.TestStep(editor, wf.ID, def, "tell", sample, map[string]json.RawMessage{"greet": json.RawMessage(`{"greeting":"Hi"}`)}, false)
		require.NoError(t, err)
		require.Equal(t, store.StepSucceeded, res.Status, res.Error)
		require.Empty(t, res.Missing)
		msgs := bot.Messages()
		require.Len(t, msgs, 1)
		require.Equal(t, "Hi, Ann Lee", msgs[0].Text)
		require.EqualValues(t, 42, msgs[0].ChatID)
		out, err := json.Marshal(res.Output)
		require.NoError(t, err)

		// A later step sees that output; greet has none given and is named.
		later, err := eng.TestStep(editor, wf.ID, def, "after", sample, map[string]json.RawMessage{"tell": out}, false)
		require.NoError(t, err)
		require.Equal(t, store.StepSucceeded, later.Status, later.Error)
		require.Equal(t, []string{"greet"}, later.Missing)
		require.Equal(t, fmt.Sprint(msgs[0].MessageID), fmt.Sprint(later.Output.(map[string]any)["message_id"]))

		// A pasted JSON sample works the same; without any sample it is a conflict.
		pasted, err := eng.TestStep(editor, wf.ID, def, "tell", engine.TestSample{JSON: []byte(`{"name":"Bob"}`)}, nil, true)
		require.NoError(t, err)
		require.Equal(t, []string{"greet"}, pasted.Missing)
		require.Equal(t, ", Bob", pasted.Input.(map[string]any)["text"], "a missing earlier output reads as empty")
		_, err = eng.TestStep(editor, wf.ID, def, "tell", engine.TestSample{}, nil, true)
		require.ErrorIs(t, err, engine.ErrNoSample)

		// Nothing stored.
		runsAfter, err := eng.ListRuns(sys, engine.RunFilter{WorkflowID: wf.ID})
		require.NoError(t, err)
		require.Len(t, runsAfter.Items, len(runsBefore.Items))
		events, err := eng.ListEvents(sys, wf.ID, "", 10)
		require.NoError(t, err)
		require.Len(t, events.Items, 1)

		// Refusals.
		_, err = eng.TestStep(viewer, wf.ID, def, "tell", sample, nil, true)
		require.ErrorIs(t, err, engine.ErrForbidden)
		_, err = eng.SampleTrigger(viewer, wf.ID, sample)
		require.ErrorIs(t, err, engine.ErrForbidden)
		var invalid *workflow.ValidationError
		_, err = eng.TestStep(editor, wf.ID, []byte(`{"name":"lead","trigger":{"type":"webhook"},"steps":[{"id":"x","uses":"telegram.nope"}]}`), "x", sample, nil, true)
		require.ErrorAs(t, err, &invalid)
		require.Contains(t, invalid.Error(), "steps[0]")
		_, err = eng.TestStep(editor, wf.ID, def, "nope", sample, nil, true)
		require.ErrorAs(t, err, &invalid)
		_, err = eng.TestStep(editor, "no-such-workflow", def, "tell", sample, nil, true)
		require.ErrorIs(t, err, engine.ErrNotFound)

		// Listening: the newest accepted request after the one given.
		next, err := eng.NextEvent(editor, wf.ID, "")
		require.NoError(t, err)
		require.Equal(t, ing.EventID, next.ID)
		next, err = eng.NextEvent(editor, wf.ID, ing.EventID)
		require.NoError(t, err)
		require.Nil(t, next)
		trig, err := eng.SampleTrigger(editor, wf.ID, sample)
		require.NoError(t, err)
		require.Equal(t, "Ann Lee", trig["body"].(map[string]any)["name"])
	})
}
