package ui

import "github.com/gin-gonic/gin"

// inspectorReplay handles POST /workflows/{id}/inspector/events/{event}/replay: "replay
// this request" starts a real run of the workflow's current version on a stored
// request (engine.ReplayEvent: editors only; a refused request is run all the same, as
// the editor decided) and the browser goes to the new run.
func (h *Handler) inspectorReplay(c *gin.Context, v *view) {
	r, err := h.engine.ReplayEvent(c.Request.Context(), c.Param("id"), c.Param("event"))
	if err != nil {
		h.fail(c, v, err)
		return
	}
	h.redirect(c, "/runs/"+r.ID, "request_replayed")
}
