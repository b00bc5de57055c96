package queue

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runPool runs p until the returned stop is called, which waits for Run to return. It
// first waits for every worker to be idle, so Reserve finds one.
func runPool(t *testing.T, p *Pool[int]) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	waitFor(t, "the pool to run", func() bool { return p.Idle() == p.Workers })
	return func() {
		cancel()
		<-done
	}
}

// TestBacklogRunsInOrderOnFreedWorkers: with the one worker busy, Reserve says no and
// ReserveLater takes up to Backlog places; the jobs submitted there run once each, in
// order, on the worker as it frees up, without a claim. A full backlog says no.
func TestBacklogRunsInOrderOnFreedWorkers(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{}
	release := make(chan struct{})
	var mu sync.Mutex
	var ran []int
	p := &Pool[int]{Workers: 1, Backlog: 3, Claim: q.claim, PollInterval: time.Hour,
		Handle: func(_ context.Context, j int) {
			if j == 0 {
				<-release
			}
			mu.Lock()
			ran = append(ran, j)
			mu.Unlock()
		}}
	stop := runPool(t, p)
	require.True(t, p.Reserve())
	p.Submit(0) // blocks the only worker
	require.False(t, p.Reserve(), "no idle worker")
	for j := 1; j <= 3; j++ {
		require.True(t, p.ReserveLater(), "backlog place %d", j)
		p.SubmitLater(j)
	}
	require.False(t, p.ReserveLater(), "the backlog is full")
	claims := func() int { q.mu.Lock(); defer q.mu.Unlock(); return q.claims }
	before := claims()
	close(release)
	waitFor(t, "the backlog to run", func() bool { mu.Lock(); defer mu.Unlock(); return len(ran) == 4 })
	require.Equal(t, []int{0, 1, 2, 3}, ran)
	require.Equal(t, before, claims(), "backlog jobs need no claim")
	require.True(t, p.ReserveLater(), "places are given back as jobs start")
	p.UnreserveLater()
	stop()
}

// TestBacklogLetsClaimsThrough: while a backlog is kept full, the pool still claims the
// database's due jobs at least once per poll interval, so those are not starved.
func TestBacklogLetsClaimsThrough(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{}
	q.push(1000, 1001, 1002)
	var mu sync.Mutex
	ran := map[int]bool{}
	p := &Pool[int]{Workers: 1, Backlog: 2, Claim: q.claim, PollInterval: 20 * time.Millisecond,
		Handle: func(_ context.Context, j int) {
			time.Sleep(time.Millisecond)
			mu.Lock()
			ran[j] = true
			mu.Unlock()
		}}
	stop := runPool(t, p)
	quit := make(chan struct{})
	var feeder sync.WaitGroup
	feeder.Go(func() {
		for j := 0; ; j++ {
			select {
			case <-quit:
				return
			default:
			}
			if p.ReserveLater() {
				p.SubmitLater(j)
			} else {
				time.Sleep(100 * time.Microsecond)
			}
		}
	})
	waitFor(t, "the claimed jobs to run beside the backlog", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return ran[1000] && ran[1001] && ran[1002]
	})
	close(quit)
	feeder.Wait()
	stop()
}

// TestBacklogHandedOverAtShutdown: jobs still in the backlog when the pool stops go to
// the handler (which gives them back), each once; a job submitted after the stop too.
func TestBacklogHandedOverAtShutdown(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var mu sync.Mutex
	ran := map[int]int{}
	p := &Pool[int]{Workers: 1, Backlog: 4, Claim: (&fakeQueue{}).claim, PollInterval: time.Hour, ShutdownGrace: bound,
		Handle: func(_ context.Context, j int) {
			if j == 0 {
				<-release
			}
			mu.Lock()
			ran[j]++
			mu.Unlock()
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	waitFor(t, "the pool to run", func() bool { return p.Idle() == 1 })
	require.True(t, p.Reserve())
	p.Submit(0)
	for j := 1; j <= 3; j++ {
		require.True(t, p.ReserveLater())
		p.SubmitLater(j)
	}
	require.True(t, p.ReserveLater())
	cancel()
	waitFor(t, "the backlog handed over", func() bool { mu.Lock(); defer mu.Unlock(); return ran[1]+ran[2]+ran[3] == 3 })
	p.SubmitLater(4) // reserved before the stop, submitted after it
	close(release)
	<-done
	require.Equal(t, map[int]int{0: 1, 1: 1, 2: 1, 3: 1, 4: 1}, ran)
	require.False(t, p.ReserveLater(), "a stopped pool takes no more")
}

// TestBacklogYieldsToQueuedJobs: once a job had to be queued in the database (the
// backlog was full), the backlog takes nothing new and the queued jobs are claimed
// before the backlog's, so that overflow is not served after every newer job.
func TestBacklogYieldsToQueuedJobs(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{}
	release := make(chan struct{})
	var mu sync.Mutex
	var ran []int
	p := &Pool[int]{Workers: 1, Backlog: 1, Claim: q.claim, PollInterval: time.Hour,
		Handle: func(_ context.Context, j int) {
			if j == 0 {
				<-release
			}
			mu.Lock()
			ran = append(ran, j)
			mu.Unlock()
		}}
	stop := runPool(t, p)
	require.True(t, p.Reserve())
	p.Submit(0)
	require.True(t, p.ReserveLater())
	p.SubmitLater(1)
	require.False(t, p.ReserveLater(), "the backlog is full")
	q.push(100, 101) // queued in the database instead
	p.Queued()
	close(release)
	waitFor(t, "every job to run", func() bool { mu.Lock(); defer mu.Unlock(); return len(ran) == 4 })
	require.Equal(t, []int{0, 100, 101, 1}, ran)
	require.True(t, p.ReserveLater(), "the queue was drained: the backlog takes jobs again")
	p.UnreserveLater()
	stop()
}

// TestClaimsFillTheBacklog: while the queue keeps jobs due, a claim takes more than the
// free workers, up to the backlog's free places, and those run next, in order: fewer
// claims for the same jobs, each job once.
func TestClaimsFillTheBacklog(t *testing.T) {
	t.Parallel()
	for _, backlog := range []int{0, 4} {
		q := &fakeQueue{}
		for i := range 40 {
			q.push(i)
		}
		var mu sync.Mutex
		var ran []int
		p := &Pool[int]{Workers: 1, Backlog: backlog, Claim: q.claim, PollInterval: time.Hour,
			Handle: func(_ context.Context, j int) {
				mu.Lock()
				ran = append(ran, j)
				mu.Unlock()
			}}
		stop := runPool(t, p)
		waitFor(t, "every job to run", func() bool { mu.Lock(); defer mu.Unlock(); return len(ran) == 40 })
		stop()
		for i, j := range ran {
			require.Equal(t, i, j, "jobs run in the queue's order")
		}
		q.mu.Lock()
		claims := q.claims
		q.mu.Unlock()
		if backlog == 0 {
			require.GreaterOrEqual(t, claims, 40, "one job per claim without a backlog")
		} else {
			require.LessOrEqual(t, claims, 40/(1+backlog)+3, "claims also fill the backlog")
		}
	}
}
