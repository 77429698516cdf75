package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"piao/internal/benefits"
	"piao/internal/tenant"
)

// ClaimOptions configures the flash-claim benchmark.
type ClaimOptions struct {
	// Database, a PostgreSQL server URL, adds the same figure measured on a
	// fresh database there, beside the embedded SQLite one.
	Database    string
	Claimers    int // accounts racing, one claim each (default 100,000)
	Stock       int // tickets in the campaign (default 10,000)
	Runs        int // runs whose median is reported (default 3)
	Concurrency int // HTTP connections (default 256)
	// CPUProfile, if set, receives a CPU profile of the measured part of
	// the first SQLite run.
	CPUProfile io.Writer
	Log        io.Writer
}

// TargetClaims is SPEC Q5's figure: claims answered per second.
const TargetClaims = 20_000

// Claim measures Q5: Claimers accounts race over HTTP, one POST
// /api/v1/campaigns/{id}/claim each, for a campaign of Stock tickets. The
// rate counts every answered claim (201 with a ticket, or 429 sold out);
// after each run the database must hold exactly Stock tickets, as many as
// the 2xx answers, and the campaign's counter must agree.
func Claim(ctx context.Context, o ClaimOptions) ([]Figure, error) {
	if o.Claimers <= 0 {
		o.Claimers = 100_000
	}
	if o.Stock <= 0 {
		o.Stock = 10_000
	}
	o.Runs = max(o.Runs, 1)
	if o.Concurrency <= 0 {
		o.Concurrency = 256
	}
	logf := logger(o.Log)
	hello, err := StartHello()
	if err != nil {
		return nil, err
	}
	defer hello.Close()
	helloClient := NewClient(o.Concurrency)
	servers := []string{""}
	if IsPostgres(o.Database) {
		servers = append(servers, o.Database)
	}
	var figs []Figure
	var ceilings []float64
	for _, server := range servers {
		var rates []float64
		var last claimRun
		for run := 1; run <= o.Runs; run++ {
			var prof io.Writer
			if run == 1 && server == "" {
				prof = o.CPUProfile
			}
			r, err := claimOnce(ctx, server, o, prof, logf)
			if err != nil {
				return nil, err
			}
			ceil, err := hello.Ceiling(ctx, helloClient, o.Concurrency)
			if err != nil {
				return nil, err
			}
			ceilings = append(ceilings, ceil)
			last = r
			rates = append(rates, r.res.Rate())
			logf("claim run %d/%d (%s): %s; %s; hello-world %s req/s", run, o.Runs, r.engine, r.res, r.check, human(ceil))
		}
		f := Figure{Name: "flash claim over HTTP (" + last.engine + ")", Value: Median(rates), Unit: "claims/s", Runs: o.Runs,
			Target: "≥ 20,000 claims/s, exactly the stock issued", Met: Median(rates) >= TargetClaims}
		f.Note = fmt.Sprintf("%s; %d claimers for %d tickets on %d connections; last run p50 %s, p99 %s, errors %s; %s",
			runsOf(rates), o.Claimers, o.Stock, o.Concurrency, fmtLatency(last.res.P50), fmtLatency(last.res.P99), last.res.ErrorSummary(), last.check)
		figs = append(figs, f)
	}
	ceiling := Figure{Name: "HTTP hello-world ceiling (net/http)", Value: Median(ceilings), Unit: "req/s", Runs: len(ceilings),
		Note: fmt.Sprintf("%s; %d connections, measured after each claim run", runsOf(ceilings), o.Concurrency)}
	for i := range figs {
		figs[i].Note += fmt.Sprintf("; %.3f× the hello-world ceiling", figs[i].Value/max(ceiling.Value, 1))
	}
	return append(figs, ceiling), nil
}

type claimRun struct {
	engine string
	res    Result
	check  string
}

// claimOnce runs one flash claim on a fresh database.
func claimOnce(ctx context.Context, server string, o ClaimOptions, prof io.Writer, logf func(string, ...any)) (claimRun, error) {
	e, err := openEnv(ctx, server)
	if err != nil {
		return claimRun{}, err
	}
	defer e.Close()
	out := claimRun{engine: e.Engine}
	t0 := time.Now()
	tokens, err := issueTokens(ctx, e.App.Identity, o.Claimers)
	if err != nil {
		return out, err
	}
	logf("claim (%s): %d accounts and tokens in %s", e.Engine, len(tokens), time.Since(t0).Round(time.Millisecond))
	c, err := claimCampaign(ctx, e.App.BenefitsStore, o.Stock)
	if err != nil {
		return out, err
	}
	if err := e.Serve(ctx); err != nil {
		return out, err
	}
	url := fmt.Sprintf("%s/api/v1/campaigns/%d/claim", e.URL, c.ID)
	client := NewClient(o.Concurrency)
	var granted atomic.Int64
	if prof != nil {
		if err := pprof.StartCPUProfile(prof); err != nil {
			return out, err
		}
	}
	out.res, err = Load{Client: client, Concurrency: o.Concurrency, Requests: int64(o.Claimers),
		// A sold-out answer is an answer: the claimer learnt the outcome.
		OK: func(status int) bool {
			if status/100 == 2 {
				granted.Add(1)
				return true
			}
			return status == http.StatusTooManyRequests
		},
		New: func(_ int, seq int64) (*http.Request, error) {
			req, err := http.NewRequest(http.MethodPost, url, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+tokens[seq])
			return req, nil
		}}.Run(ctx)
	if prof != nil {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return out, err
	}
	got, err := e.App.BenefitsStore.Campaign(ctx, tenant.All(), c.ID)
	if err != nil {
		return out, err
	}
	st, err := e.App.BenefitsStore.Stats(ctx, tenant.All(), c.ID, time.Now())
	if err != nil {
		return out, err
	}
	out.check = fmt.Sprintf("%d tickets in the database, campaign counter %d, %d holders, stock %d, %d answered with a ticket", st.ByChannel[benefits.ClaimChannel], got.Issued, st.Holders, o.Stock, granted.Load())
	if st.ByChannel[benefits.ClaimChannel] != o.Stock || got.Issued != o.Stock || st.Holders != o.Stock || granted.Load() != int64(o.Stock) {
		return out, fmt.Errorf("claim check (%s) FAILED: %s", e.Engine, out.check)
	}
	return out, nil
}

// claimCampaign stores a running campaign of stock single-ride tickets,
// one per person, open for claiming.
func claimCampaign(ctx context.Context, st benefits.Store, stock int) (benefits.Campaign, error) {
	now := time.Now()
	p := benefits.Product{Owner: "operator", Kind: benefits.SingleRide, NameZH: "限时免费单程票", NameEN: "Flash free ride", Feed: "nbmetro",
		Valid: benefits.Validity{Days: 7}, CreatedBy: "bench", CreatedAt: now}
	if err := st.CreateProduct(ctx, tenant.All(), &p); err != nil {
		return benefits.Campaign{}, err
	}
	c := benefits.Campaign{ProductID: p.ID, Owner: "operator", NameZH: "秒杀", Status: benefits.Approved, Starts: now.Add(-time.Minute), Ends: now.Add(time.Hour),
		Channels: []benefits.Channel{benefits.ClaimChannel}, Stock: stock, PerUser: 1, CreatedBy: "bench", CreatedAt: now, UpdatedAt: now}
	err := st.CreateCampaign(ctx, tenant.All(), &c, benefits.Event{At: now, By: "bench", Action: "create", To: benefits.Approved})
	return c, err
}
