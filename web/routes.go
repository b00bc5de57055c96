package web

import (
	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/web/api"
	"github.com/hookflow/hookflow/web/ingress"
	"github.com/hookflow/hookflow/web/ui"
)

// routes is the one route table of the HTTP server.
func routes(r *gin.Engine, a *api.Handler, in *ingress.Handler, u *ui.Handler, h *health) {
	r.GET("/healthz", h.live)
	r.GET("/readyz", h.ready)
	r.GET("/metrics", h.metrics)

	r.Any("/hooks/:token", in.Receive)

	v1 := r.Group("/api/v1", a.RequireToken)
	v1.GET("/workflows", a.ListWorkflows)
	v1.POST("/workflows", a.CreateWorkflow)
	v1.GET("/workflows/:id", a.GetWorkflow)
	v1.PUT("/workflows/:id", a.UpdateWorkflow)
	v1.DELETE("/workflows/:id", a.DeleteWorkflow)
	v1.GET("/workflows/:id/versions", a.ListWorkflowVersions)
	v1.GET("/workflows/:id/events", a.ListWorkflowEvents)
	v1.POST("/workflows/:id/test", a.TestWorkflow)
	v1.POST("/workflows/:id/rotate-token", a.RotateWorkflowToken)
	v1.GET("/workflows/:id/trigger", a.GetWorkflowTrigger)

	v1.GET("/runs", a.ListRuns)
	v1.GET("/runs/:id", a.GetRun)
	v1.POST("/runs/:id/replay", a.ReplayRun)
	v1.POST("/runs/:id/cancel", a.CancelRun)

	v1.GET("/connections", a.ListConnections)
	v1.POST("/connections", a.CreateConnection)
	v1.GET("/connections/:name", a.GetConnection)
	v1.PUT("/connections/:name", a.UpdateConnection)
	v1.DELETE("/connections/:name", a.DeleteConnection)
	v1.POST("/connections/:name/test", a.TestConnection)
	v1.POST("/connections/:name/webhook", a.RegisterConnectionWebhook)
	v1.DELETE("/connections/:name/webhook", a.RegisterConnectionWebhook)

	v1.GET("/connectors", a.ListConnectors)
	v1.POST("/connectors", a.CreateConnector)
	v1.GET("/connectors/:name", a.GetConnector)
	v1.PUT("/connectors/:name", a.PutConnector)
	v1.DELETE("/connectors/:name", a.DeleteConnector)

	v1.GET("/audit", a.ListAudit)
	v1.GET("/users", a.ListUsers)
	v1.POST("/users", a.CreateUser)
	v1.PATCH("/users/:id", a.UpdateUser)
	v1.GET("/tokens", a.ListTokens)
	v1.POST("/tokens", a.CreateToken)
	v1.DELETE("/tokens/:id", a.RevokeToken)

	// The admin UI: pages, assets, sign-in; its state changes pass a cross-origin check.
	u.Register(r)
}
