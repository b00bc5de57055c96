package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/workflow"
	"github.com/hookflow/hookflow/workflows/templates"
)

// templateRoutes: starting a workflow from scratch (a draft the builder opens) and from
// a template of the gallery on /workflows/new.
func (h *Handler) templateRoutes(get gin.IRoutes, post gin.IRoutes) {
	get.GET("/workflows/new/template/:id", h.page("workflows", h.templateForm))
	post.POST("/workflows/new/scratch", h.action("workflows", h.workflowScratch))
	post.POST("/workflows/new/template/:id", h.action("workflows", h.templateCreate))
}

// templateCategories are the gallery's groups, in the order they are shown; a category
// not listed here comes after them.
var templateCategories = []string{"leads", "ecommerce", "development", "reports", "monitoring"}

func init() {
	registerFlash("workflow_from_template")
	addBuiltKeys("workflow_templates.category.", templateCategories...)
}

// workflowNewPage is the data of /workflows/new: start from scratch, the template
// gallery, and the import form (its text and problems).
type workflowNewPage struct {
	workflowForm
	Gallery []templateGroup
}

// templateGroup is one category of the gallery.
type templateGroup struct {
	Category string
	Cards    []templateCard
}

// templateCard is one template in the gallery, in the page's language.
type templateCard struct {
	ID          string
	Name        string
	Description string
	// Needs are the connectors whose connections it asks for, by title; Fields the
	// labels of the fields it asks for.
	Needs  []string
	Fields []string
}

// newWorkflowPage is the create page's data around the import form's.
func (h *Handler) newWorkflowPage(v *view, form workflowForm) workflowNewPage {
	p := workflowNewPage{workflowForm: form}
	lang := v.Lang()
	byCat := map[string]int{}
	for _, t := range templates.List() {
		card := templateCard{ID: t.ID, Name: t.Name.In(lang), Description: t.Description.In(lang)}
		for _, c := range t.Connections {
			if title := h.connectorTitle(v, c.Connector); !slices.Contains(card.Needs, title) {
				card.Needs = append(card.Needs, title)
			}
		}
		for _, f := range t.Fields {
			card.Fields = append(card.Fields, f.Label.In(lang))
		}
		i, ok := byCat[t.Category]
		if !ok {
			i = len(p.Gallery)
			byCat[t.Category] = i
			p.Gallery = append(p.Gallery, templateGroup{Category: t.Category})
		}
		p.Gallery[i].Cards = append(p.Gallery[i].Cards, card)
	}
	rank := func(cat string) int {
		if i := slices.Index(templateCategories, cat); i >= 0 {
			return i
		}
		return len(templateCategories)
	}
	slices.SortStableFunc(p.Gallery, func(a, b templateGroup) int { return rank(a.Category) - rank(b.Category) })
	return p
}

// connectorTitle is a connector's title in the page's language, or its name when it is
// not registered.
func (h *Handler) connectorTitle(v *view, name string) string {
	if c, ok := h.connectorOf(name); ok {
		return v.tr.connectorTitle(c)
	}
	return name
}

// CategoryKey is the catalogue key of a gallery category's heading.
func (g templateGroup) CategoryKey() string { return "workflow_templates.category." + g.Category }

// workflowScratch creates an empty, switched-off draft with a webhook trigger and opens
// it in the builder.
func (h *Handler) workflowScratch(c *gin.Context, v *view) {
	if !h.requireEditor(c, v) {
		return
	}
	doc, err := json.Marshal(map[string]any{
		"name":    v.T("workflow_templates.untitled"),
		"enabled": false,
		"trigger": map[string]any{"type": workflow.TriggerWebhook},
		"steps":   []any{},
	})
	if err != nil {
		h.fail(c, v, err)
		return
	}
	w, err := h.engine.CreateWorkflow(c.Request.Context(), doc)
	if err != nil {
		h.fail(c, v, err)
		return
	}
	h.redirect(c, "/workflows/"+w.ID+"/edit", "")
}

// templatePage is the data of a template's form.
type templatePage struct {
	ID          string
	Name        string
	Description string
	// WorkflowName is the name the workflow will get (the template's, or as typed).
	WorkflowName string
	Connections  []templateConnection
	Fields       []templateField
	// Errors are problems that belong to no field (the engine's validation).
	Errors []string
}

// templateConnection is one connection the template asks for: a select of the existing
// connections of its connector.
type templateConnection struct {
	Role           string
	Label          string
	Connector      string
	ConnectorTitle string
	Options        []string
	Selected       string
	Error          string
}

// templateField is one field the template asks for.
type templateField struct {
	Key      string
	Label    string
	Type     string
	Example  string
	Value    string
	Required bool
	Error    string
}

// InputType is the HTML input type of a field.
func (f templateField) InputType() string {
	switch f.Type {
	case templates.TypeEmail:
		return "email"
	case templates.TypeNumber:
		return "number"
	}
	return "text"
}

// Multiline says the field is a text with templates, edited in a textarea.
func (f templateField) Multiline() bool { return f.Type == templates.TypeTemplate }

// Code says the field is code-like (an expression, a schedule, a zone): no spell check.
func (f templateField) Code() bool { return f.Type != templates.TypeText }

// templateForm shows the form of a template: its connections and fields, and the name.
func (h *Handler) templateForm(c *gin.Context, v *view) {
	t, ok := templates.Get(c.Param("id"))
	if !ok {
		h.fail(c, v, fmt.Errorf("%w: no template %q", engine.ErrNotFound, c.Param("id")))
		return
	}
	p, err := h.templatePage(c, v, t, nil)
	if err != nil {
		h.fail(c, v, err)
		return
	}
	v.Data = p
	h.render(c, http.StatusOK, "workflow_template", v)
}

// templatePage builds a template's form; posted, when not nil, holds what was typed.
func (h *Handler) templatePage(c *gin.Context, v *view, t templates.Template, posted *templates.Params) (templatePage, error) {
	lang := v.Lang()
	p := templatePage{ID: t.ID, Name: t.Name.In(lang), Description: t.Description.In(lang), WorkflowName: t.Name.In(lang)}
	if posted != nil {
		p.WorkflowName = posted.Name
	}
	var conns []engine.Connection
	if v.Can(engine.RoleEditor) && len(t.Connections) > 0 {
		var err error
		if conns, err = h.engine.ListConnections(c.Request.Context()); err != nil {
			return p, err
		}
	}
	for _, tc := range t.Connections {
		row := templateConnection{Role: tc.Role, Label: tc.Label.In(lang), Connector: tc.Connector,
			ConnectorTitle: h.connectorTitle(v, tc.Connector)}
		for _, conn := range conns {
			if conn.Connector == tc.Connector {
				row.Options = append(row.Options, conn.Name)
			}
		}
		slices.Sort(row.Options)
		switch {
		case posted != nil:
			row.Selected = posted.Connections[tc.Role]
		case len(row.Options) == 1:
			row.Selected = row.Options[0]
		}
		p.Connections = append(p.Connections, row)
	}
	for _, tf := range t.Fields {
		f := templateField{Key: tf.Key, Label: tf.Label.In(lang), Type: tf.Type, Example: tf.Example, Required: tf.Required}
		switch {
		case posted != nil:
			f.Value, _ = posted.Fields[tf.Key].(string)
		case tf.Default != nil:
			f.Value = fmt.Sprint(tf.Default)
		}
		p.Fields = append(p.Fields, f)
	}
	return p, nil
}

// templateCreate makes a workflow from a template: it is instantiated with the chosen
// connections and typed fields, saved switched off, and shown. Problems come back on
// their fields (422) with what was typed.
func (h *Handler) templateCreate(c *gin.Context, v *view) {
	if !h.requireEditor(c, v) {
		return
	}
	t, ok := templates.Get(c.Param("id"))
	if !ok {
		h.fail(c, v, fmt.Errorf("%w: no template %q", engine.ErrNotFound, c.Param("id")))
		return
	}
	params := templates.Params{Connections: map[string]string{}, Fields: map[string]any{},
		Name: strings.TrimSpace(c.PostForm("name")), Lang: v.Lang()}
	for _, tc := range t.Connections {
		params.Connections[tc.Role] = c.PostForm("connection." + tc.Role)
	}
	for _, tf := range t.Fields {
		params.Fields[tf.Key] = c.PostForm("field." + tf.Key)
	}
	doc, err := templates.Instantiate(t.ID, params)
	if err == nil {
		doc, err = switchedOff(doc)
	}
	if err == nil {
		var w *engine.Workflow
		if w, err = h.engine.CreateWorkflow(c.Request.Context(), doc); err == nil {
			h.redirect(c, "/workflows/"+w.ID, "workflow_from_template")
			return
		}
	}
	var perr *templates.ParamsError
	var invalid *workflow.ValidationError
	if !errors.As(err, &perr) && !errors.As(err, &invalid) {
		h.fail(c, v, err)
		return
	}
	params.Name = c.PostForm("name")
	p, lerr := h.templatePage(c, v, t, &params)
	if lerr != nil {
		h.fail(c, v, lerr)
		return
	}
	if perr != nil {
		for _, pr := range perr.Problems {
			msg := pr.Message
			switch {
			case pr.Kind == "connection" && strings.HasPrefix(msg, "is required"):
				msg = v.T("workflow_templates.connection_required")
			case msg == "is required":
				msg = v.T("workflow_templates.required")
			}
			if !p.setError(pr.Kind, pr.Key, msg) {
				p.Errors = append(p.Errors, pr.Kind+" "+pr.Key+": "+msg)
			}
		}
	}
	if invalid != nil {
		for _, fe := range invalid.Errors {
			p.Errors = append(p.Errors, fe.String())
		}
	}
	v.Data = p
	h.render(c, http.StatusUnprocessableEntity, "workflow_template", v)
}

// setError puts a problem on its connection or field; false when the form has none.
func (p *templatePage) setError(kind, key, msg string) bool {
	switch kind {
	case "connection":
		for i := range p.Connections {
			if p.Connections[i].Role == key {
				p.Connections[i].Error = msg
				return true
			}
		}
	case "field":
		for i := range p.Fields {
			if p.Fields[i].Key == key {
				p.Fields[i].Error = msg
				return true
			}
		}
	}
	return false
}

// switchedOff sets "enabled": false on a workflow document, so a workflow made from a
// template starts nothing before its author has looked at it.
func switchedOff(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode the template's workflow: %w", err)
	}
	m["enabled"] = false
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode the template's workflow: %w", err)
	}
	return buf.Bytes(), nil
}
