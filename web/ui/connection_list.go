package ui

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// connectionGroup is one connector's connections on the list.
type connectionGroup struct {
	Connector string
	Title     string
	Items     []connectionRow
}

// connectionRow is one connection on the list with the workflows using it.
type connectionRow struct {
	engine.Connection
	UsedBy []engine.WorkflowRef
}

// connectionsPage is the data of the list.
type connectionsPage struct {
	Groups     []connectionGroup
	Count      int
	Connectors []connectorChoice
}

// connectionList shows the connections grouped by connector, or with ?add=CONNECTOR
// the form of a new connection.
func (h *Handler) connectionList(c *gin.Context, v *view) {
	if add := c.Query("add"); add != "" {
		h.connectionNew(c, v, add)
		return
	}
	ctx := c.Request.Context()
	conns, err := h.engine.ListConnections(ctx)
	if err != nil {
		h.fail(c, v, err)
		return
	}
	used, err := h.engine.ConnectionUsage(ctx)
	if err != nil {
		h.fail(c, v, err)
		return
	}
	byConnector := map[string]*connectionGroup{}
	var groups []*connectionGroup
	for _, conn := range conns {
		g := byConnector[conn.Connector]
		if g == nil {
			g = &connectionGroup{Connector: conn.Connector, Title: conn.Connector}
			if cn, ok := h.connectorOf(conn.Connector); ok {
				g.Title = v.tr.connectorTitle(cn)
			}
			byConnector[conn.Connector] = g
			groups = append(groups, g)
		}
		g.Items = append(g.Items, connectionRow{Connection: conn, UsedBy: used[conn.Name]})
	}
	slices.SortFunc(groups, func(a, b *connectionGroup) int { return cmp.Compare(a.Title, b.Title) })
	p := connectionsPage{Count: len(conns), Connectors: h.connectorChoices(v)}
	for _, g := range groups {
		slices.SortFunc(g.Items, func(a, b connectionRow) int { return cmp.Compare(a.Name, b.Name) })
		p.Groups = append(p.Groups, *g)
	}
	v.Data = p
	h.render(c, http.StatusOK, "connections", v)
}
