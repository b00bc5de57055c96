package store

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestCommitterCloseWhileQueueing closes committers while callers keep queueing: every
// caller gets a verdict (committed, or the store is closed), none waits forever for a
// loop that has exited.
func TestCommitterCloseWhileQueueing(t *testing.T) {
	t.Parallel()
	for range 200 {
		c := newCommitter(func(items []int) ([]error, error) { return nil, nil })
		w := newRounds(2)
		join(w, c, nil) // a round of one committer commits through its write
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for {
					if err := c.do(context.Background(), 1); err != nil {
						return // errStoreClosed: the committer is shut
					}
				}
			})
		}
		time.Sleep(time.Millisecond)
		w.close()
		done := make(chan struct{})
		go func() {
			wg.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("a caller queued after the committer stopped and never got a verdict")
		}
	}
}
