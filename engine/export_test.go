package engine

// PauseHeartbeat stops this process's lease renewals until resume is called: a test's way
// to stall a live process past its lease, as a long GC pause or a frozen VM would.
func (e *Engine) PauseHeartbeat() (resume func()) {
	e.beatPaused.Store(true)
	return func() { e.beatPaused.Store(false) }
}
