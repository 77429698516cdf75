package httpapi

import (
	"context"
	"strings"

	"piao/internal/booking"
)

type recommendInput struct {
	From     string   `query:"from" required:"true" minLength:"1" maxLength:"64" doc:"Origin: station ID, telecode, name or pinyin"`
	To       string   `query:"to" required:"true" minLength:"1" maxLength:"64" doc:"Destination: station ID, telecode, name or pinyin"`
	Date     string   `query:"date" maxLength:"10" doc:"Service date YYYY-MM-DD; default today in Asia/Shanghai"`
	By       []string `query:"by" maxItems:"4" uniqueItems:"true" enum:"arrival,duration,price,berth" doc:"What matters, most important first, comma-separated; factors not named follow in this order to break ties (default arrival,duration,price,berth)"`
	Berth    string   `query:"berth" enum:"lower,middle,upper" doc:"The berth wanted; when none is given and berth is among the factors (or by is absent), lower"`
	Class    []string `query:"class" maxItems:"5" uniqueItems:"true" enum:"hard_sleeper,soft_sleeper,second,first,business" doc:"Only these seat classes, comma-separated; any if absent"`
	ArriveBy string   `query:"arrive_by" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" doc:"Arrive by this time of day (HH:MM, Beijing time), the first such time after departure; trains in time tie on arrival"`
}

type recommendOutput struct {
	Body struct {
		Recommendations []booking.Recommendation `json:"recommendations" doc:"Every train, best first; trains with nothing acceptable left come last"`
	}
}

// recommend ranks the trains of a remaining-ticket query by the
// passenger's priorities (R10).
func (s *Server) recommend(ctx context.Context, in *recommendInput) (*recommendOutput, error) {
	date, err := s.dateOrToday(in.Date)
	if err != nil {
		return nil, err
	}
	p, err := booking.ParsePriorities(strings.Join(in.By, ","), in.Berth, strings.Join(in.Class, ","), in.ArriveBy)
	if err != nil {
		return nil, err
	}
	recs, err := s.deps.Booking.Recommendations(ctx, in.From, in.To, date, p)
	if err != nil {
		return nil, err
	}
	out := &recommendOutput{}
	out.Body.Recommendations = recs
	return out, nil
}
