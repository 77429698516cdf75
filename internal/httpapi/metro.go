package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/metro"
	"piao/internal/problem"
)

// metroRoutes registers gate taps, clearing and settlement (SPEC M2, M3, M5).
func (s *Server) metroRoutes() {
	g := s.group(s.deps.Metro != nil, metro.ErrNotRunning)
	const tag = "metro"
	add(g, identity.TapsWrite, op("POST", "/api/v1/gate/taps", "postTaps", tag,
		"Send a batch of gate taps (at most 5,000); idempotent by tap ID, in any order, duplicates ignored",
		"闸机批量上传刷卡记录：按记录编号幂等，乱序与重复均可"), s.postTaps)
	add(g.withMaxBody(s.guard.Config().TapStreamBytes), identity.TapsWrite, op("POST", "/api/v1/gate/taps/stream", "streamTaps", tag,
		"Stream gate taps as NDJSON (one tap object per line, each at most 64 KiB); a body over the server's tap-stream limit (64 MiB by default) is refused whole with 413, a longer line with 422, before any tap is stored; otherwise the answer streams one NDJSON result line per 1,000 taps stored, then a summary line",
		"以 NDJSON 流式上传刷卡记录：超过上限（默认 64 MiB）整体拒绝（413），不存入任何记录；每存入 1000 条回一行结果，最后一行为汇总"), s.streamTaps)
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

// streamLine is one line of the streamed answer: a chunk's result, an
// error that ended the stream, or the summary (Done).
type streamLine struct {
	metro.IngestResult
	Line   int    `json:"line"` // input lines read so far
	Done   bool   `json:"done,omitempty"`
	Error  string `json:"error,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// maxTapLine bounds one line of the tap stream.
const maxTapLine = 64 << 10

// streamTaps stores a stream of taps. The whole body is read into a
// temporary file first, so a stream over the route's limit (or with a line
// over maxTapLine) is refused whole, 413 (422), before any tap is stored;
// only then are taps stored 1,000 at a time, each chunk answered as it
// commits. A failure while storing ends the answer with an error line
// after the chunks already stored; sending the stream again is safe, as
// taps are idempotent by ID.
func (s *Server) streamTaps(ctx context.Context, _ *struct{}) (*huma.StreamResponse, error) {
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		lang := preferredLanguage(hc.Header("Accept-Language"))
		spool, p := s.spoolTaps(ctx, lang, hc.BodyReader())
		if p != nil {
			writeHumaProblem(s.api, hc, p)
			return
		}
		defer os.Remove(spool.Name())
		defer spool.Close()
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
		sc := bufio.NewScanner(spool)
		sc.Buffer(make([]byte, 0, maxTapLine), maxTapLine)
		batch := make([]metro.Tap, 0, 1000)
		send := func() bool {
			if len(batch) == 0 {
				return true
			}
			res, err := s.deps.Metro.Ingest(ctx, batch)
			if err != nil {
				fe := fault.As(err)
				fail(fe.Reason, fe.EN)
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
			// The spool was checked line by line: only a failing disk gets here.
			fail("internal", "could not read the spooled stream")
			return
		}
		if !send() {
			return
		}
		enc.Encode(streamLine{IngestResult: total, Line: line, Done: true})
		flush()
	}}, nil
}

// spoolTaps copies a tap stream into a temporary file and checks its size
// and line lengths, so a refusal comes before anything is stored. It
// returns the file positioned at its start, or the problem to answer.
func (s *Server) spoolTaps(ctx context.Context, lang string, body io.Reader) (*os.File, *problem.Problem) {
	limit := s.guard.Config().TapStreamBytes
	f, err := os.CreateTemp("", "piao-taps-*.ndjson")
	if err != nil {
		slog.ErrorContext(ctx, "spool tap stream", "request_id", requestIDFrom(ctx), "err", err.Error())
		return nil, newProblem(ctx, lang, http.StatusInternalServerError, "internal", "internal", "服务器内部错误", "internal error")
	}
	refuse := func(p *problem.Problem) (*os.File, *problem.Problem) {
		f.Close()
		os.Remove(f.Name())
		return nil, p
	}
	n, err := io.Copy(f, io.LimitReader(body, limit+1))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) || n > limit {
		return refuse(errBodyTooLarge(ctx, lang, limit))
	}
	if err != nil {
		return refuse(newProblem(ctx, lang, http.StatusBadRequest, fault.Invalid, "bad_stream", "读取请求体失败", "the request body could not be read"))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return refuse(newProblem(ctx, lang, http.StatusInternalServerError, "internal", "internal", "服务器内部错误", "internal error"))
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, maxTapLine), maxTapLine)
	lines := 0
	for sc.Scan() {
		lines++
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return refuse(newProblem(ctx, lang, http.StatusUnprocessableEntity, fault.Invalid, "line_too_long",
				fmt.Sprintf("第 %d 行超过 64 KiB，未存入任何记录", lines+1), fmt.Sprintf("line %d is over 64 KiB; no tap was stored", lines+1)))
		}
		return refuse(newProblem(ctx, lang, http.StatusInternalServerError, "internal", "internal", "服务器内部错误", "internal error"))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return refuse(newProblem(ctx, lang, http.StatusInternalServerError, "internal", "internal", "服务器内部错误", "internal error"))
	}
	return f, nil
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
