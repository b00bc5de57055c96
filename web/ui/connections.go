package ui

import (
	"cmp"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine"
)

// connectionRoutes: /connections, /connections/{name}.
//
// The form to create a connection is /connections?add=CONNECTOR rather than
// /connections/new: "new" is a valid connection name.
func (h *Handler) connectionRoutes(get gin.IRoutes, post gin.IRoutes) {
	get.GET("/connections", h.page("connections", h.connectionList))
	get.GET("/connections/:name", h.page("connections", h.connectionShow))
	post.POST("/connections", h.action("connections", h.connectionCreate))
	post.POST("/connections/:name", h.action("connections", h.connectionSave))
	post.POST("/connections/:name/delete", h.action("connections", h.connectionDelete))
	post.POST("/connections/:name/test", h.action("connections", h.connectionCheck))
}

func init() {
	registerFlash("connection_created", "connection_saved", "connection_deleted")
}

// connectorChoice is a connector that connections can be made for.
type connectorChoice struct {
	Name  string
	Title string
}

// connectorChoices lists the connectors that take connections, by title in the page's
// language: not core, and not those without connection settings.
func (h *Handler) connectorChoices(v *view) []connectorChoice {
	var out []connectorChoice
	for _, c := range h.engine.Registry().Connectors() {
		if c.Name == "core" || len(c.Spec().Connection) == 0 {
			continue
		}
		out = append(out, connectorChoice{Name: c.Name, Title: v.tr.connectorTitle(c)})
	}
	slices.SortFunc(out, func(a, b connectorChoice) int { return cmp.Compare(a.Title, b.Title) })
	return out
}

// connectorOf returns a connection's connector, or false when it is no longer
// registered.
func (h *Handler) connectorOf(name string) (*connectors.Connector, bool) {
	if name == "core" {
		return nil, false
	}
	return h.engine.Registry().Connector(name)
}

// connectionPage is the data of a connection's page: its form (to create or edit), or
// its settings read-only for a viewer, where it is used, and the outcome of a test.
type connectionPage struct {
	// Create is true for the form of a new connection.
	Create bool
	// Connection is the stored connection (nil when creating).
	Connection *engine.Connection
	// Name is the connection's name (as typed, when creating).
	Name           string
	Connector      string
	ConnectorTitle string
	Description    string
	Fields         []connectionField
	// Testable says the connector has a connection test.
	Testable bool
	// UsedBy are the workflows using the connection.
	UsedBy []engine.WorkflowRef
	Errors formErrors
	// Test is the outcome of "test connection", when one ran.
	Test *engine.ConnectionTest
	// DeleteError says why the connection could not be deleted.
	DeleteError string
}

// EndpointError says whether a problem is on a field that decides where the secrets go:
// the page then explains how to change it.
func (p *connectionPage) EndpointError() bool {
	for _, f := range p.Fields {
		if f.Endpoint && f.Error != "" {
			return true
		}
	}
	return false
}

// applyErrors puts the problems found by field onto the fields.
func (p *connectionPage) applyErrors(e formErrors) {
	p.Errors.Form = append(p.Errors.Form, e.Form...)
	if p.Errors.Fields == nil {
		p.Errors.Fields = map[string]string{}
	}
	for k, msg := range e.Fields {
		p.Errors.Fields[k] = msg
	}
	for i := range p.Fields {
		if msg := e.Fields[p.Fields[i].Name]; msg != "" {
			p.Fields[i].Error = msg
		}
	}
}

// fieldNames are the names validation errors may point at: the settings, and the name
// and connector of the connection.
func (p *connectionPage) fieldNames() []string {
	names := []string{"name", "connector"}
	for _, f := range p.Fields {
		names = append(names, f.Name)
	}
	return names
}
