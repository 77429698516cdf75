package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/metro"
)

// metroRoutes registers gate taps, clearing and settlement (SPEC M2, M3, M5).
func (s *Server) metroRoutes() {
	g := s.group(s.deps.Metro != nil, metro.ErrNotRunning)
	const tag = "metro"
	add(g, identity.TapsWrite, op("POST", "/api/v1/gate/taps", "postTaps", tag,
		"Send a batch of gate taps (at most 5,000); idempotent by tap ID, in any order, duplicates ignored",
		"闸机批量上传刷卡记录：按记录编号幂等，乱序与重复均可"), s.postTaps)
	add(g, identity.TapsWrite, op("POST", "/api/v1/gate/taps/stream", "streamTaps", tag,
		"Stream gate taps as NDJSON (one tap object per line, up to 256 MiB); the answer streams one NDJSON result line per 1,000 taps stored, then a summary line",
		"以 NDJSON 流式上传刷卡记录，每存入 1000 条回一行结果，最后一行为汇总"), s.streamTaps)
	add(g, identity.MetroSettle, op("POST", "/api/v1/metro/{feed}/clear", "clearTaps", tag,
		"Pair a network's open taps into priced trips, up to a cut-off (default 30 minutes ago); exactly once per trip, taps still waiting for their pair stay open",
		"将线网内未清分的刷卡记录配对为计价行程（截止时间默认为 30 分钟前）：每个行程只生成一次，尚未配对的记录留待下次"), s.clearTaps)
	add(g, identity.MetroSettle, op("POST", "/api/v1/metro/{feed}/settle", "settleTrips", tag,
		"Settle every unsettled trip of a network with its best eligible benefits, exactly once per trip",
		"结算线网内全部未结算行程：每个行程只结算一次"), s.settleTrips)
	add(g, identity.MetroRead, op("GET", "/api/v1/metro-trips/{id}", "getTrip", tag, "A cleared trip with its ledger line once settled", "行程及其结算分账"), s.getTrip)
	add(g, identity.MetroRead, op("GET", "/api/v1/campaigns/{id}/uses", "getCampaignUses", tag,
		"Trips that used a campaign's benefit by entry station, exit station and hour of entry (free-ride days, subsidies)",
		"按进站、出站与进站小时统计活动优惠的使用（免费乘车日、补贴）"), s.campaignUses)
}

type tapsInput struct {
	Body struct {
		Taps []metro.Tap `json:"taps" maxItems:"5000"`
	}
}

func (s *Server) postTaps(ctx context.Context, in *tapsInput) (*body[metro.IngestResult], error) {
	res, err := s.deps.Metro.Ingest(ctx, in.Body.Taps)
	if err != nil {
		return nil, err
	}
	return &body[metro.IngestResult]{res}, nil
}

// MaxTapStream bounds one streamed upload.
const MaxTapStream = 256 << 20

// streamLine is one line of the streamed answer: a chunk's result, an
// error that ended the stream, or the summary (Done).
type streamLine struct {
	metro.IngestResult
	Line   int    `json:"line"` // input lines read so far
	Done   bool   `json:"done,omitempty"`
	Error  string `json:"error,omitempty"`
	Reason string `json:"reason,omitempty"`
}

func (s *Server) streamTaps(ctx context.Context, _ *struct{}) (*huma.StreamResponse, error) {
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		hc.SetHeader("Content-Type", "application/x-ndjson")
		w := hc.BodyWriter()
		enc := json.NewEncoder(w)
		flush := func() {
			if f, ok := w.(interface{ Flush() }); ok {
				f.Flush()
			}
		}
		var total metro.IngestResult
		line := 0
		fail := func(reason, msg string) {
			enc.Encode(streamLine{IngestResult: total, Line: line, Error: msg, Reason: reason})
			flush()
		}
		sc := bufio.NewScanner(io.LimitReader(hc.BodyReader(), MaxTapStream))
		sc.Buffer(make([]byte, 0, 64<<10), 64<<10)
		batch := make([]metro.Tap, 0, 1000)
		send := func() bool {
			if len(batch) == 0 {
				return true
			}
			res, err := s.deps.Metro.Ingest(ctx, batch)
			if err != nil {
				fe := fault.As(err)
				if fe == nil {
					fail("internal", "could not store the taps")
				} else {
					fail(fe.Reason, fe.EN)
				}
				return false
			}
			first := line - len(batch)
			for i := range res.Refused {
				res.Refused[i].Index += first // index into the whole stream
			}
			total.Added += res.Added
			total.Duplicates += res.Duplicates
			total.Refused = append(total.Refused, res.Refused...)
			enc.Encode(streamLine{IngestResult: res, Line: line})
			flush()
			batch = batch[:0]
			return true
		}
		for sc.Scan() {
			if len(sc.Bytes()) == 0 {
				continue
			}
			var t metro.Tap
			if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
				total.Refused = append(total.Refused, metro.RefusedTap{Index: line, Reason: "bad_json", Detail: err.Error()})
				line++
				continue
			}
			batch = append(batch, t)
			line++
			if len(batch) == cap(batch) && !send() {
				return
			}
		}
		if err := sc.Err(); err != nil {
			reason := "bad_stream"
			if errors.Is(err, bufio.ErrTooLong) {
				reason = "line_too_long"
			}
			send()
			fail(reason, err.Error())
			return
		}
		if !send() {
			return
		}
		enc.Encode(streamLine{IngestResult: total, Line: line, Done: true})
		flush()
	}}, nil
}

type feedPath struct {
	Feed string `path:"feed" maxLength:"64"`
}

type clearInput struct {
	Feed string `path:"feed" maxLength:"64"`
	Body *struct {
		Until time.Time `json:"until,omitzero" doc:"cut-off (RFC 3339): every tap at or before it has arrived; default 30 minutes ago"`
	}
}

func (s *Server) clearTaps(ctx context.Context, in *clearInput) (*body[metro.ClearReport], error) {
	var o metro.ClearOptions
	if in.Body != nil {
		o.Until = in.Body.Until
	}
	rep, err := s.deps.Metro.Clear(ctx, in.Feed, o)
	if err != nil {
		return nil, err
	}
	return &body[metro.ClearReport]{rep}, nil
}

func (s *Server) settleTrips(ctx context.Context, in *feedPath) (*body[metro.SettleReport], error) {
	rep, err := s.deps.Metro.Settle(ctx, in.Feed, metro.SettleOptions{})
	if err != nil {
		return nil, err
	}
	return &body[metro.SettleReport]{rep}, nil
}

// tripView is a trip with its ledger line, once settled.
type tripView struct {
	Trip       metro.Trip        `json:"trip"`
	Settlement *metro.Settlement `json:"settlement,omitempty"`
}

func (s *Server) getTrip(ctx context.Context, in *struct {
	ID string `path:"id" minLength:"1" maxLength:"160"`
}) (*body[tripView], error) {
	st := s.deps.Metro
	t, err := st.Trip(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	v := tripView{Trip: t}
	if l, err := st.Settlement(ctx, in.ID); err == nil {
		v.Settlement = &l
	} else if !fault.Is(err, fault.NotFound) {
		return nil, err
	}
	return &body[tripView]{v}, nil
}

type usesInput struct {
	ID    int64     `path:"id"`
	From  time.Time `query:"from" doc:"start of the window (RFC 3339; default 30 days ago)"`
	Until time.Time `query:"until" doc:"end of the window, exclusive (default now)"`
}

func (s *Server) campaignUses(ctx context.Context, in *usesInput) (*body[[]metro.UseCount], error) {
	until := in.Until
	if until.IsZero() {
		until = time.Now()
	}
	from := in.From
	if from.IsZero() {
		from = until.AddDate(0, 0, -30)
	}
	if !from.Before(until) {
		return nil, fault.New(fault.Invalid, "bad_window", "起始时间应早于结束时间", "from must be before until")
	}
	uses, err := s.deps.Metro.UseStats(ctx, in.ID, from, until)
	if err != nil {
		return nil, err
	}
	if uses == nil {
		uses = []metro.UseCount{}
	}
	return &body[[]metro.UseCount]{uses}, nil
}
