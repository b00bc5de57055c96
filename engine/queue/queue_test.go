package queue

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeQueue hands out jobs like the runs table does: each job once.
type fakeQueue struct {
	mu      sync.Mutex
	pending []int
	claims  int
	failing bool
}

func (q *fakeQueue) push(jobs ...int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, jobs...)
}

func (q *fakeQueue) claim(_ context.Context, n int) ([]int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.claims++
	if q.failing {
		return nil, errors.New("database down")
	}
	n = min(n, len(q.pending))
	out := append([]int(nil), q.pending[:n]...)
	q.pending = q.pending[n:]
	return out, nil
}

const bound = 10 * time.Second // generous: only "it happens at all"

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPoolRunsEveryJobOnceWithBoundedConcurrency(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{}
	for i := range 200 {
		q.push(i)
	}
	var mu sync.Mutex
	seen := map[int]int{}
	var running, peak atomic.Int32
	p := &Pool[int]{
		Workers: 4,
		Claim:   q.claim,
		Handle: func(_ context.Context, job int) {
			n := running.Add(1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			time.Sleep(100 * time.Microsecond)
			running.Add(-1)
			mu.Lock()
			seen[job]++
			mu.Unlock()
		},
		PollInterval: time.Hour,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	waitFor(t, "all jobs", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == 200 })
	cancel()
	<-done
	for job, n := range seen {
		require.Equal(t, 1, n, "job %d", job)
	}
	require.LessOrEqual(t, peak.Load(), int32(4))
}

// TestNotifyWakesThePool: with an hour-long poll interval, only a wake-up can explain
// the job being picked up.
func TestNotifyWakesThePool(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{}
	n := NewNotifier()
	var handled atomic.Int32
	p := &Pool[int]{Workers: 2, Claim: q.claim, Notifier: n, PollInterval: time.Hour,
		Handle: func(context.Context, int) { handled.Add(1) }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	waitFor(t, "the pool to go idle", func() bool { q.mu.Lock(); defer q.mu.Unlock(); return q.claims > 0 })
	q.push(1)
	n.Notify()
	n.Notify() // coalesces, never blocks
	waitFor(t, "the woken pool to run the job", func() bool { return handled.Load() == 1 })
}

// TestNextDueShortensTheSleep: a job due soon is picked up without a wake-up although
// the poll interval is an hour.
func TestNextDueShortensTheSleep(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{}
	var handled atomic.Int32
	dueAt := time.Now().Add(20 * time.Millisecond)
	p := &Pool[int]{Workers: 1, Claim: func(ctx context.Context, n int) ([]int, error) {
		if time.Now().After(dueAt) {
			q.push(7)
		}
		return q.claim(ctx, n)
	}, PollInterval: time.Hour,
		NextDue: func(context.Context) (time.Time, bool, error) { return dueAt, true, nil },
		Handle:  func(context.Context, int) { handled.Add(1) }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	waitFor(t, "the due job", func() bool { return handled.Load() >= 1 })
}

// TestShutdownLetsJobsFinish: stopping the pool waits for the job in flight, whose
// context stays alive during the grace period.
func TestShutdownLetsJobsFinish(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{}
	q.push(1)
	started := make(chan struct{})
	release := make(chan struct{})
	var jobErr error
	p := &Pool[int]{Workers: 1, Claim: q.claim, PollInterval: time.Hour, ShutdownGrace: time.Hour,
		Handle: func(ctx context.Context, _ int) {
			close(started)
			<-release
			jobErr = ctx.Err()
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	<-started
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned while a job was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	<-done
	require.NoError(t, jobErr, "the job's context is not cancelled within the grace period")
}

// TestShutdownGraceCancelsStuckJobs: past the grace period the job's context is cancelled.
func TestShutdownGraceCancelsStuckJobs(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{}
	q.push(1)
	started := make(chan struct{})
	p := &Pool[int]{Workers: 1, Claim: q.claim, PollInterval: time.Hour, ShutdownGrace: 10 * time.Millisecond,
		Handle: func(ctx context.Context, _ int) {
			close(started)
			<-ctx.Done()
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	<-started
	cancel()
	select {
	case <-done:
	case <-time.After(bound):
		t.Fatal("a stuck job kept the pool from stopping")
	}
}

// TestClaimErrorsBackOff: a failing database is retried, not hammered, and the pool
// still stops.
func TestClaimErrorsBackOff(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{failing: true}
	p := &Pool[int]{Workers: 1, Claim: q.claim, PollInterval: 5 * time.Millisecond, Handle: func(context.Context, int) {}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	time.Sleep(200 * time.Millisecond)
	cancel()
	<-done
	q.mu.Lock()
	defer q.mu.Unlock()
	// Without backoff 200ms at a 5ms interval would mean about 40 claims; doubling the
	// wait after each error keeps it near log2(200/5).
	require.Less(t, q.claims, 15)
	require.Greater(t, q.claims, 1)
}

// TestDirectJobs: Reserve takes only idle workers, a submitted job runs on the reserved
// worker, the worker comes back when it ends or is unreserved, and shutdown waits for a
// reservation to be settled.
func TestDirectJobs(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{}
	release := make(chan struct{})
	var ran sync.Map
	p := &Pool[int]{Workers: 2, Claim: q.claim, PollInterval: time.Hour, ShutdownGrace: time.Hour,
		Handle: func(ctx context.Context, job int) {
			ran.Store(job, true)
			<-release
		}}
	require.False(t, p.Reserve(), "no worker before Run")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	waitFor(t, "both workers idle after the first claim", func() bool { return p.Idle() == 2 })

	require.True(t, p.Reserve())
	require.True(t, p.Reserve())
	require.False(t, p.Reserve(), "both workers are taken")
	p.Submit(7)
	waitFor(t, "the direct job to run", func() bool { _, ok := ran.Load(7); return ok })
	p.Unreserve()
	require.Equal(t, 1, p.Idle(), "the unreserved worker is idle again")
	close(release)
	waitFor(t, "the direct job's worker to come back", func() bool { return p.Idle() == 2 })

	// A reservation pending at shutdown holds Run until it is settled.
	require.True(t, p.Reserve())
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned with a reservation pending")
	case <-time.After(20 * time.Millisecond):
	}
	waitFor(t, "the pool to stop lending workers", func() bool { return p.Idle() == 0 })
	require.False(t, p.Reserve(), "no reservation once stopping")
	p.Submit(8)
	<-done
	_, ok := ran.Load(8)
	require.True(t, ok, "the job submitted during shutdown ran")
}

// TestWorkerGoroutinesReused: jobs run one after another reuse a waiting worker
// goroutine instead of starting one each (a new goroutine grows its stack again for
// every run), and the goroutines exit when the pool stops.
func TestWorkerGoroutinesReused(t *testing.T) {
	t.Parallel()
	const jobs = 50
	ids := make(chan string, jobs)
	p := &Pool[int]{Workers: 1, Claim: (&fakeQueue{}).claim, PollInterval: time.Hour, ShutdownGrace: time.Hour,
		Handle: func(ctx context.Context, job int) { ids <- goroutineID() }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	seen := map[string]bool{}
	for i := range jobs {
		waitFor(t, "the worker to be idle", p.Reserve)
		p.Submit(i)
		seen[<-ids] = true
	}
	require.Less(t, len(seen), jobs, "every job ran on a goroutine of its own")
	cancel()
	<-done
	waitFor(t, "the worker goroutines to exit", func() bool {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		for id := range seen {
			if strings.Contains(stacks, "goroutine "+id+" [") {
				return false
			}
		}
		return true
	})
}

// goroutineID returns the id of the calling goroutine as its stack trace shows it.
func goroutineID() string {
	buf := make([]byte, 64)
	s := strings.TrimPrefix(string(buf[:runtime.Stack(buf, false)]), "goroutine ")
	id, _, _ := strings.Cut(s, " ")
	return id
}
