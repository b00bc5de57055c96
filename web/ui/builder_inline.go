package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine"
)

// A step card's "New connection" (issue 14, point 3): the connector's connection form,
// drawn by the connection page's helpers (connection_form.go) under the names
// newconn.<step>.name and newconn.<step>.config.<field>, which the builder's form reader
// does not read: the builder's document never holds them. "Create and test" posts only
// that block to POST /workflows/{id}/builder/connection, which creates the connection,
// runs its test when the connector has one, and answers the block drawn again (empty) with
// the outcome, out of band, in the step's result box. Its HX-Trigger builder-connection
// {"step": i, "name": "x"} makes app.js choose the new connection in the step's select,
// whose change draws the builder again. Problems come back in the block with the values
// typed (secrets excepted), with 200 so htmx swaps them.

// builderInlinePrefix is the names' prefix of step i's inline connection form.
func builderInlinePrefix(i int) string { return "newconn." + strconv.Itoa(i) + "." }

// builderInline is the data of the builder-newconn fragment.
type builderInline struct {
	*connectionPage
	Step       int
	WorkflowID string
	// Created is the new connection's name, once created.
	Created string
	// Result says the fragment is an answer: the outcome goes in the step's result box.
	Result bool
}

// Prefix is the names' prefix of the block's controls.
func (d *builderInline) Prefix() string { return builderInlinePrefix(d.Step) }

// IDPrefix is the ids' prefix of the block's elements.
func (d *builderInline) IDPrefix() string { return "builder-newconn-" + strconv.Itoa(d.Step) }

// newBuilderInline is step i's empty inline form for a connector.
func newBuilderInline(v *view, cn *connectors.Connector, workflowID string, step int) *builderInline {
	d := &builderInline{Step: step, WorkflowID: workflowID}
	spec := cn.Spec()
	d.connectionPage = &connectionPage{Create: true, Connector: cn.Name, Fields: newConnectionFields(v, spec, nil),
		Testable: cn.TestConnection != nil}
	d.prefixFields()
	return d
}

func (d *builderInline) prefixFields() {
	for i := range d.Fields {
		d.Fields[i].Prefix = d.Prefix()
	}
}

// builderConnection handles POST /workflows/{id}/builder/connection: step_index's
// inline form creates a connection, tests it, and sets it on the step (see above).
func (h *Handler) builderConnection(c *gin.Context, v *view) {
	if !h.requireEditor(c, v) {
		return
	}
	step, err := strconv.Atoi(c.PostForm("step_index"))
	if err != nil || step < 0 {
		h.fail(c, v, engine.ErrNotFound)
		return
	}
	prefix := builderInlinePrefix(step)
	cn, ok := h.connectorOf(c.PostForm(prefix + "connector"))
	if !ok {
		h.fail(c, v, engine.ErrNotFound)
		return
	}
	// The connection page's reader reads config.<field>: the block's fields, unprefixed.
	form := c.Request.PostForm
	for k, vals := range form {
		if rest, ok := strings.CutPrefix(k, prefix+"config."); ok {
			form["config."+rest] = vals
		}
	}
	d := newBuilderInline(v, cn, c.Param("id"), step)
	d.Result = true
	v.Data = d
	spec := cn.Spec()
	config, fields, readOK := readConnectionFields(c, v, spec, nil)
	d.Fields, d.Name = fields, strings.TrimSpace(c.PostForm(prefix+"name"))
	d.prefixFields()
	if !readOK {
		h.renderBlock(c, http.StatusOK, builderToolsPage, "builder-newconn", v)
		return
	}
	conn, err := h.engine.CreateConnection(c.Request.Context(), engine.ConnectionInput{Name: d.Name, Connector: cn.Name, Config: config})
	if problems, ok := validationProblems(err, d.fieldNames()...); ok {
		d.applyErrors(problems)
		h.renderBlock(c, http.StatusOK, builderToolsPage, "builder-newconn", v)
		return
	}
	if errors.Is(err, engine.ErrConflict) {
		d.applyErrors(formErrors{Fields: map[string]string{"name": v.T("builder_inline.exists", "Name", d.Name)}})
		h.renderBlock(c, http.StatusOK, builderToolsPage, "builder-newconn", v)
		return
	}
	if err != nil {
		h.fail(c, v, err)
		return
	}
	// Created: the block empties for another one, the outcome goes to the result box.
	fresh := newBuilderInline(v, cn, d.WorkflowID, step)
	fresh.Result, fresh.Created = true, conn.Name
	v.Data = fresh
	if fresh.Testable {
		res, err := h.engine.TestConnection(c.Request.Context(), conn.Name)
		if err != nil {
			fresh.Test = &engine.ConnectionTest{Error: err.Error()}
		} else {
			fresh.Test = res
		}
	}
	ev, _ := json.Marshal(map[string]any{"builder-connection": map[string]any{"step": step, "name": conn.Name}})
	c.Header("HX-Trigger", string(ev))
	h.renderBlock(c, http.StatusOK, builderToolsPage, "builder-newconn", v)
}
