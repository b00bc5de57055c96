package benchmark

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"
)

// Run measures the baselines (when cfg.Baselines), then starts a server (or uses
// cfg.Target), creates the bench workflow, sends the load, waits for the deliveries in
// e2e mode and returns the report. Progress goes to log. It returns an error when the
// run could not be completed; missed targets are not errors, they are in the report.
func Run(ctx context.Context, cfg Config, log io.Writer) (*Report, error) {
	if log == nil {
		log = io.Discard
	}
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.Timeout, fmt.Errorf("the run took longer than its timeout of %s", cfg.Timeout))
	defer cancel()

	started := time.Now()
	rep := &Report{Mode: cfg.Mode, Events: cfg.Events, Concurrency: cfg.Concurrency, Rate: cfg.Rate,
		Filtered: cfg.Filtered, Workers: cfg.Workers, Target: cfg.Target, StartedAt: started.UTC()}
	switch {
	case cfg.Mode == ModeIngest:
		rep.Workers = 0
	case cfg.Workers == 0:
		rep.Workers = -1
	}

	if cfg.Baselines {
		fmt.Fprintf(log, "bench: bare 202 handler: %d events at concurrency %d\n", cfg.Events, cfg.Concurrency)
		if rep.Bare, err = runBare(ctx, cfg); err != nil {
			return nil, err
		}
		if cfg.Mode == ModeE2E {
			fmt.Fprintf(log, "bench: synchronous Go forwarder: %d events at concurrency %d\n", cfg.Events, cfg.Concurrency)
			if rep.Forwarder, err = runForwarder(ctx, cfg); err != nil {
				return nil, err
			}
		}
	}

	if err := runServer(ctx, cfg, rep, log); err != nil {
		return nil, err
	}
	if rep.Bare != nil {
		rep.IngestRatio = ratio(rep.Ingest.AcceptedPerSec, rep.Bare.Load.AcceptedPerSec)
	}
	if rep.Forwarder != nil && rep.Forwarder.Delivery != nil && rep.Delivery != nil {
		rep.DeliveryRatio = ratio(rep.Delivery.DeliveredPerSec, rep.Forwarder.Delivery.DeliveredPerSec)
	}
	if s := rep.Server; s != nil && s.LoadCPUSeconds > 0 {
		s.CPUPerWebhookUs = microsPer(s.LoadCPUSeconds, rep.Ingest.Accepted)
		if rep.Delivery != nil {
			s.CPUPerDeliveryUs = microsPer(s.LoadCPUSeconds, rep.Delivery.Delivered)
		}
	}
	rep.Seconds = round2(time.Since(started).Seconds())
	rep.evaluate()
	return rep, nil
}

// runServer measures Hookflow itself: a server it starts, or cfg.Target.
func runServer(ctx context.Context, cfg Config, rep *Report, log io.Writer) (err error) {
	client := newClient(4)
	defer client.CloseIdleConnections()
	a := &api{base: cfg.Target, token: cfg.Token, client: client}
	var srv *server
	name := "bench"
	if cfg.workflowName != "" {
		name = cfg.workflowName
	}
	if cfg.Target == "" {
		if srv, err = startServer(ctx, cfg, log); err != nil {
			return err
		}
		defer srv.stop(log)
		defer func() {
			if err != nil {
				err = fmt.Errorf("%w%s", err, srv.logTail())
			}
		}()
		rep.Server = &ServerStats{PID: srv.cmd.Process.Pid, StartToReadyMs: Millis(srv.startToReady)}
		fmt.Fprintf(log, "bench: server ready in %s\n", srv.startToReady.Round(time.Millisecond))
		if err := sleep(ctx, idleWait); err != nil {
			return err
		}
		if procSupported {
			rss, _, err := readMemory(srv.cmd.Process.Pid)
			if err != nil {
				return err
			}
			rep.Server.IdleRSSMB = megabytes(rss)
			anon, file, err := readRSSSplit(srv.cmd.Process.Pid)
			if err != nil {
				return err
			}
			rep.Server.IdleAnonMB, rep.Server.IdleFileMB = megabytes(anon), megabytes(file)
		}
		a.base = srv.baseURL
		if a.token, err = srv.token(ctx); err != nil {
			return err
		}
	} else {
		suffix, err := randomHex(4)
		if err != nil {
			return err
		}
		name = "bench-" + suffix
	}
	if rep.Database, err = dialect(ctx, client, a.base); err != nil {
		return err
	}

	sink := NewSink(cfg.Events)
	if err := sink.Start(); err != nil {
		return err
	}
	defer sink.Close()
	wfID, hookURL, err := a.createWorkflow(ctx, name, sink.URL())
	if err != nil {
		return err
	}
	if cfg.Target != "" || cfg.deleteWorkflow {
		// Runs queued by an ingest-only run would otherwise be executed by the target's
		// workers (or the next suite run's) later, against a sink that is gone.
		defer func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if derr := a.deleteWorkflow(dctx, wfID); derr != nil {
				fmt.Fprintf(log, "bench: %v\n", derr)
			}
		}()
	}

	var cpuBefore time.Duration
	if srv != nil && procSupported {
		if cpuBefore, err = readCPU(srv.cmd.Process.Pid); err != nil {
			return err
		}
	}
	fmt.Fprintf(log, "bench: hookflow (%s, %s): %d events at concurrency %d\n", rep.Database, cfg.Mode, cfg.Events, cfg.Concurrency)
	res, err := generate(ctx, plan{url: hookURL, events: cfg.Events, concurrency: cfg.Concurrency, rate: cfg.Rate, filtered: cfg.Filtered})
	if err != nil {
		return err
	}
	rep.Ingest = res.stats(http.StatusAccepted)
	if srv != nil && !srv.alive() {
		return errors.New("the server exited during the load")
	}

	if cfg.Mode == ModeE2E {
		want := expected(res, cfg.Filtered)
		fmt.Fprintf(log, "bench: waiting up to %s for %d deliveries (%d so far)\n", cfg.DrainTimeout, want, sink.Unique())
		var exited <-chan struct{}
		if srv != nil {
			exited = srv.exited
		}
		if err := drain(ctx, sink, want, cfg.DrainTimeout, exited); err != nil {
			return err
		}
		d := deliveries(res, sink, cfg.Filtered)
		rep.Delivery = &d
		if srv != nil {
			c, err := a.counters(ctx)
			if err != nil {
				return err
			}
			rep.Server.Counters = &c
		}
	}

	if srv != nil && procSupported {
		pid := srv.cmd.Process.Pid
		_, peak, err := readMemory(pid)
		if err != nil {
			return err
		}
		cpu, err := readCPU(pid)
		if err != nil {
			return err
		}
		rep.Server.PeakRSSMB = megabytes(peak)
		rep.Server.CPUSeconds = round2(cpu.Seconds())
		rep.Server.LoadCPUSeconds = round2((cpu - cpuBefore).Seconds())
	}
	return nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func megabytes(b int64) float64 { return math.Round(float64(b)/(1<<20)*10) / 10 }

// microsPer returns seconds per n in microseconds, to 1 decimal; 0 for n ≤ 0.
func microsPer(seconds float64, n int) float64 {
	if n <= 0 {
		return 0
	}
	return math.Round(seconds/float64(n)*1e7) / 10
}
