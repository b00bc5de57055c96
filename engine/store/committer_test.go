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

// TestParallelRoundWaitsForABatch: while a round is in flight, a writer of several loops
// starts another only once parallelMin items are queued; fewer wait for the round in
// flight, whose loop commits them next, so none is left behind.
func TestParallelRoundWaitsForABatch(t *testing.T) {
	t.Parallel()
	started := make(chan int, 8)
	release := make(chan struct{})
	c := newCommitter(func(items []int) ([]error, error) {
		started <- len(items)
		<-release
		return make([]error, len(items)), nil
	})
	w := newRounds(2)
	w.parallelMin = 4
	join(w, c, nil) // a round of one committer commits through its write
	defer w.close()
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	defer unblock() // before close: a failed assertion must not leave the rounds blocked
	wait := func(what string) int {
		t.Helper()
		select {
		case n := <-started:
			return n
		case <-time.After(10 * time.Second):
			t.Fatal(what)
			return 0
		}
	}
	queue := func(n int) []chan error {
		done := queueAll(c, make([]int, n)...)
		w.start()
		w.poke()
		return done
	}

	first := queue(1)
	if n := wait("the first round did not start"); n != 1 {
		t.Fatalf("the first round took %d items, want 1", n)
	}
	few := queue(w.parallelMin - 1)
	// The other loop is idle and was poked: had it started a round, it would have by now.
	select {
	case n := <-started:
		t.Fatalf("a round of %d items started while another was in flight", n)
	case <-time.After(100 * time.Millisecond):
	}
	more := queue(1)
	if n := wait("no second round once parallelMin items were queued"); n != w.parallelMin {
		t.Fatalf("the second round took %d items, want %d", n, w.parallelMin)
	}
	late := queue(2)
	unblock()
	if n := wait("the items queued during both rounds were left behind"); n != 2 {
		t.Fatalf("the round after took %d items, want 2", n)
	}
	for _, d := range append(append(append(first, few...), more...), late...) {
		select {
		case err := <-d:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("an item got no verdict")
		}
	}
}
