// Package queue runs the worker side of the durable run queue: it claims due jobs in
// batches, hands them to a fixed number of workers, and sleeps until it is woken (a new
// job was enqueued in this process), a job comes due, or a poll interval passes (a job
// was enqueued by another process).
//
// The queue's state is the runs table itself; the SQL that claims with a lease lives in
// engine/store. Enqueueing is an insert in the same transaction as the event, so a job
// exists exactly when its event does.
package queue

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// PollIntervalDefault bounds how long a job enqueued by another process waits for pickup
// when no wake-up reaches this one.
const PollIntervalDefault = time.Second

// Notifier wakes the pool when work may be waiting. Notify never blocks: wake-ups
// coalesce, because one claim takes every due job anyway.
type Notifier struct {
	ch chan struct{}
}

// NewNotifier returns a Notifier.
func NewNotifier() *Notifier { return &Notifier{ch: make(chan struct{}, 1)} }

// Notify signals that a job was enqueued.
func (n *Notifier) Notify() {
	select {
	case n.ch <- struct{}{}:
	default:
	}
}

// C is the channel a waiting pool reads.
func (n *Notifier) C() <-chan struct{} { return n.ch }

// Pool claims jobs of type T and runs them on Workers goroutines.
type Pool[T any] struct {
	// Workers is the number of jobs run at once.
	Workers int
	// Claim leases up to n due jobs. It returns an empty slice when none is due.
	Claim func(ctx context.Context, n int) ([]T, error)
	// Handle runs one job. It gets a context that outlives Run's context by the
	// shutdown grace period, so a job in flight can finish its step.
	Handle func(ctx context.Context, job T)
	// NextDue reports when the next job comes due, so the pool sleeps exactly that long.
	// Optional.
	NextDue func(ctx context.Context) (time.Time, bool, error)
	// Notifier wakes the pool early. Optional.
	Notifier *Notifier
	// PollInterval is the longest sleep between claims. Default PollIntervalDefault.
	PollInterval time.Duration
	// ShutdownGrace is how long jobs in flight may go on after Run's context ends.
	ShutdownGrace time.Duration
	// GatherWait is how long, while jobs keep coming, the pool waits for more workers to
	// free up before claiming, so one claim serves several of them (each claim is a
	// database transaction). An idle queue is claimed from at once. Zero disables it.
	GatherWait time.Duration
	Logger     *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Backlog is how many jobs handed over with SubmitLater may wait in memory for a
	// worker of this pool when none is idle, first in, first out. Zero: none.
	Backlog int

	// The state Reserve and Submit share with Run, set while Run claims jobs.
	mu      sync.Mutex
	running bool
	free    chan struct{}
	jobCtx  context.Context
	wg      sync.WaitGroup
	// jobs hands a job to a worker goroutine that finished its last one and waits for
	// another (see worker).
	jobs chan T
	// backlog holds the jobs submitted with SubmitLater, oldest first; later counts them
	// and the reservations not yet submitted. lastClaim (the real clock: it only paces
	// this process) is when the loop last claimed; a worker freed while the backlog is
	// not empty takes from it, unless the loop has not claimed for a poll interval: then
	// the worker goes back to the loop, which claims, so that the database's due jobs
	// (other processes', retries, take-overs) are not starved by a steady backlog.
	backlog   []T
	later     int
	lastClaim time.Time
	// queued says this process queued a job in the database since the last claim that
	// came back short: the backlog takes nothing new and yields to claims until then, so
	// that jobs queued while it was full are taken in order, not after every newer one.
	queued bool
	poll   time.Duration
	// kick wakes a loop sleeping after a short claim, for a job put in the backlog.
	kick chan struct{}
}

// workerLinger is how long a worker goroutine waits for its next job before it exits.
// Reusing a goroutine saves starting one per job and, more, growing its stack again
// (a run's call depth takes a fresh 8 KB stack through several copies); exiting once
// the load stops keeps an idle process's stacks small.
const workerLinger = 5 * time.Second

// Reserve takes an idle worker for a job the caller is about to hand over with Submit
// (direct dispatch: a job created in this process goes to an idle worker in memory,
// without a claim). It reports false when every worker is busy or the pool is not
// running. Each true must be followed by exactly one Submit or Unreserve; until then the
// pool's shutdown waits.
func (p *Pool[T]) Reserve() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running {
		return false
	}
	select {
	case <-p.free:
		p.wg.Add(1)
		return true
	default:
		return false
	}
}

// Submit runs job on the worker Reserve took.
func (p *Pool[T]) Submit(job T) {
	p.start(job, p.jobs, p.free, p.jobCtx)
}

// ReserveLater takes a place in the backlog for a job the caller is about to hand over
// with SubmitLater, when no worker is idle (Reserve said false). It reports false when
// the backlog is full or the pool is not running. Each true must be followed by exactly
// one SubmitLater or UnreserveLater; until then the pool's shutdown waits.
func (p *Pool[T]) ReserveLater() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running || p.later >= p.Backlog || p.queued {
		return false
	}
	p.later++
	p.wg.Add(1)
	return true
}

// SubmitLater puts job in the backlog: the next worker to free up runs it. A pool shut
// down meanwhile runs it at once, on a goroutine of its own, so that its handler can
// give it back.
func (p *Pool[T]) SubmitLater(job T) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running {
		p.later--
		p.handOver(p.jobCtx, job)
		return
	}
	p.backlog = append(p.backlog, job)
	// An idle worker (whose token workers put back under mu) means the loop may be
	// asleep with nobody to take the job: wake it. Without one, the next worker to free
	// up takes it.
	if len(p.free) > 0 {
		p.kickLocked()
	}
}

// kickLocked wakes the loop if it sleeps; one token stands for any number of kicks.
func (p *Pool[T]) kickLocked() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// handOver runs a job counted in wg on a goroutine of its own, outside the workers: a
// backlog job once the pool has stopped, whose handler gives it back.
func (p *Pool[T]) handOver(ctx context.Context, job T) {
	go func() {
		defer p.wg.Done()
		p.Handle(ctx, job)
	}()
}

// UnreserveLater gives back the backlog place ReserveLater took.
func (p *Pool[T]) UnreserveLater() {
	p.mu.Lock()
	p.later--
	p.mu.Unlock()
	p.wg.Done()
}

// nextLater takes the oldest backlog job for a worker that just freed up, unless the
// backlog is empty or a claim is due (see lastClaim). The job was counted in wg when it
// was reserved. Without a job, a worker (free not nil) puts its token back, under mu so
// that SubmitLater sees it.
func (p *Pool[T]) nextLater(free chan struct{}) (T, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var zero T
	if len(p.backlog) == 0 || p.queued || time.Since(p.lastClaim) >= p.poll {
		if free != nil {
			free <- struct{}{}
			if len(p.backlog) > 0 {
				p.kickLocked() // the loop must claim first, then come back for the backlog
			}
		}
		return zero, false
	}
	job := p.backlog[0]
	p.backlog[0] = zero
	p.backlog = p.backlog[1:]
	p.later--
	return job, true
}

// Queued tells the pool that a job was queued in the database instead of being handed
// over (no worker and no backlog place was free): claims go first until they have taken
// what is due.
func (p *Pool[T]) Queued() {
	p.mu.Lock()
	p.queued = true
	p.mu.Unlock()
}

func (p *Pool[T]) backlogged() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.backlog) > 0
}

// start runs job, counted in p.wg by the caller, on a waiting worker goroutine or a new
// one.
func (p *Pool[T]) start(job T, jobs chan T, free chan struct{}, ctx context.Context) {
	select {
	case jobs <- job:
	default:
		go p.worker(job, jobs, free, ctx)
	}
}

// worker runs job, then the jobs start hands it, until none comes for workerLinger or
// ctx (the jobs' context, cancelled when Run returns) ends.
func (p *Pool[T]) worker(job T, jobs chan T, free chan struct{}, ctx context.Context) {
	var linger *time.Timer
	for {
		p.Handle(ctx, job)
		p.wg.Done()
		if next, ok := p.nextLater(free); ok {
			job = next
			continue
		}
		if linger == nil {
			linger = time.NewTimer(workerLinger)
		} else {
			linger.Reset(workerLinger)
		}
		select {
		case job = <-jobs:
			linger.Stop()
		case <-linger.C:
			return
		case <-ctx.Done():
			linger.Stop()
			return
		}
	}
}

// Idle returns how many workers are idle now (0 when the pool is not running).
func (p *Pool[T]) Idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running {
		return 0
	}
	return len(p.free)
}

// Unreserve gives back the worker Reserve took, for a job that will not come.
func (p *Pool[T]) Unreserve() {
	p.free <- struct{}{}
	p.wg.Done()
}

// Run claims and runs jobs until ctx is done, then waits for the jobs in flight (up to
// ShutdownGrace, after which their context is cancelled) and returns.
func (p *Pool[T]) Run(ctx context.Context) {
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	poll := p.PollInterval
	if poll <= 0 {
		poll = PollIntervalDefault
	}
	now := p.Now
	if now == nil {
		now = time.Now
	}
	var wake <-chan struct{}
	if p.Notifier != nil {
		wake = p.Notifier.C()
	}
	// Jobs run on a context detached from ctx so that stopping the pool lets them finish
	// their current step; it is cancelled ShutdownGrace after ctx ends.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()

	free := make(chan struct{}, p.Workers)
	for range p.Workers {
		free <- struct{}{}
	}
	jobs := make(chan T)
	p.mu.Lock()
	p.free, p.jobCtx, p.jobs, p.running = free, jobCtx, jobs, true
	p.poll, p.kick, p.lastClaim = poll, make(chan struct{}, 1), time.Now()
	kick := p.kick
	p.mu.Unlock()
	wg := &p.wg
	timer := time.NewTimer(0)
	defer timer.Stop()
	backoff := poll
	busy := false // the last claim took all it asked for: more are likely due
	for {
		// Wait for at least one free worker.
		select {
		case <-ctx.Done():
			p.drain(wg, cancelJobs, log)
			return
		case <-free:
		}
		if next, ok := p.nextLater(nil); ok {
			p.start(next, jobs, free, jobCtx)
			continue
		}
		n := 1
		if busy && p.GatherWait > 0 {
			// Gather: up to half the workers, or until GatherWait passes.
			gather := time.NewTimer(p.GatherWait)
		wait:
			for n < max(1, p.Workers/2) {
				select {
				case <-free:
					n++
				case <-gather.C:
					break wait
				case <-ctx.Done():
					break wait
				}
			}
			gather.Stop()
		}
		// After a short claim the queue was empty: probe with the one worker, and leave
		// the other idle workers to direct dispatch (Reserve), which a claim holding every
		// free worker would refuse for its whole round trip. A full claim means more are
		// due: then take every free worker.
	more:
		for busy && n < p.Workers {
			select {
			case <-free:
				n++
			default:
				break more
			}
		}
		// While jobs keep coming, a claim also fills the backlog's free places: one claim
		// then serves the workers that free up next too, in the queue's order.
		want := n
		p.mu.Lock()
		p.lastClaim = time.Now()
		if busy {
			want += max(0, p.Backlog-p.later)
			// In steps of 8: each limit is a statement text of its own, kept compiled.
			if w := want &^ 7; w > n {
				want = w
			}
		}
		p.mu.Unlock()
		claimed, err := p.Claim(ctx, want)
		if err != nil && ctx.Err() == nil {
			log.Error("Claim jobs failed", slog.Any("err", err))
		}
		started, rest := claimed[:min(len(claimed), n)], claimed[min(len(claimed), n):]
		for range n - len(started) {
			free <- struct{}{}
		}
		for _, job := range started {
			wg.Add(1)
			p.start(job, jobs, free, jobCtx)
		}
		p.mu.Lock()
		if len(rest) > 0 {
			p.backlog = append(p.backlog, rest...)
			p.later += len(rest)
			wg.Add(len(rest))
		}
		if len(claimed) < want && err == nil {
			p.queued = false // nothing more due: what was queued has been taken
		}
		p.mu.Unlock()
		busy = len(claimed) == want && err == nil
		if busy {
			backoff = poll
			continue // there may be more due right now
		}
		if err == nil && p.backlogged() {
			continue // the backlog waits for the next free worker
		}
		sleep := poll
		if err != nil {
			// A failing database: back off instead of hammering it.
			backoff = min(backoff*2, 30*time.Second)
			sleep = backoff
		} else if p.NextDue != nil {
			// The claim took fewer jobs than it could: nothing else is due now. Sleep until
			// the next job comes due, a wake-up, or the poll. A due time already past means
			// the due jobs cannot be claimed yet (a concurrency cap holds them back): sleep
			// the poll interval, not zero, or the pool would spin; their release comes with
			// a wake-up.
			if at, ok, nerr := p.NextDue(ctx); nerr == nil && ok && at.After(now()) {
				sleep = min(poll, at.Sub(now()))
			}
		}
		if sleep > 0 {
			timer.Reset(sleep)
			select {
			case <-ctx.Done():
				p.drain(wg, cancelJobs, log)
				return
			case <-wake:
			case <-kick:
			case <-timer.C:
			}
			timer.Stop()
		}
	}
}

func (p *Pool[T]) drain(wg *sync.WaitGroup, cancelJobs context.CancelFunc, log *slog.Logger) {
	// No reservation after this point, so wg.Wait below sees every job handed out.
	p.mu.Lock()
	p.running = false
	// Jobs still in the backlog go to their handler now, which gives them back.
	for _, job := range p.backlog {
		p.handOver(p.jobCtx, job)
	}
	p.later -= len(p.backlog)
	p.backlog = nil
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	grace := p.ShutdownGrace
	select {
	case <-done:
		return
	case <-time.After(grace):
		log.Warn("Shutdown grace period over, cancelling jobs in flight", slog.Duration("grace", grace))
		cancelJobs()
		<-done
	}
}
