package httpapi

import (
	"context"
	"time"

	"piao/internal/network"
)

type listFeedsOutput struct {
	Body struct {
		Feeds []network.Feed `json:"feeds"`
	}
}

func (s *Server) listFeeds(ctx context.Context, _ *struct{}) (*listFeedsOutput, error) {
	feeds, err := s.deps.Catalog.Feeds(ctx)
	if err != nil {
		return nil, err
	}
	out := &listFeedsOutput{}
	out.Body.Feeds = nonNil(feeds)
	return out, nil
}

type searchStationsInput struct {
	Q     string `query:"q" required:"true" minLength:"1" maxLength:"64" doc:"Telecode (NCG), name (南昌, Nanchang), pinyin prefix (nanch) or initials (nc)"`
	Limit int    `query:"limit" minimum:"1" maximum:"100" default:"20" doc:"Most stations to return"`
}

type stationsOutput struct {
	Body struct {
		Stations []network.Station `json:"stations"`
	}
}

func (s *Server) searchStations(ctx context.Context, in *searchStationsInput) (*stationsOutput, error) {
	st, err := s.deps.Catalog.SearchStations(ctx, in.Q, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &stationsOutput{}
	out.Body.Stations = nonNil(st)
	return out, nil
}

type idPath struct {
	ID string `path:"id" maxLength:"128" doc:"Identifier, e.g. cr:NCG"`
}

type stationOutput struct{ Body network.Station }

func (s *Server) getStation(ctx context.Context, in *idPath) (*stationOutput, error) {
	st, err := s.deps.Catalog.Station(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &stationOutput{Body: st}, nil
}

type listLinesInput struct {
	Feed string `query:"feed" maxLength:"64" doc:"Only lines of this feed"`
}

type linesOutput struct {
	Body struct {
		Lines []network.Line `json:"lines"`
	}
}

func (s *Server) listLines(ctx context.Context, in *listLinesInput) (*linesOutput, error) {
	lines, err := s.deps.Catalog.Lines(ctx, in.Feed)
	if err != nil {
		return nil, err
	}
	out := &linesOutput{}
	out.Body.Lines = nonNil(lines)
	return out, nil
}

type lineOutput struct{ Body network.Line }

func (s *Server) getLine(ctx context.Context, in *idPath) (*lineOutput, error) {
	l, err := s.deps.Catalog.Line(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &lineOutput{Body: l}, nil
}

type timetableInput struct {
	Number string `path:"number" maxLength:"32" doc:"Train number, e.g. Z66"`
	Date   string `query:"date" maxLength:"10" doc:"Service date YYYY-MM-DD; default today in Asia/Shanghai"`
}

type timetableOutput struct {
	Body struct {
		Timetables []network.Timetable `json:"timetables"`
	}
}

func (s *Server) getTimetable(ctx context.Context, in *timetableInput) (*timetableOutput, error) {
	date, err := s.dateOrToday(in.Date)
	if err != nil {
		return nil, err
	}
	tts, err := s.deps.Catalog.Timetables(ctx, in.Number, date)
	if err != nil {
		return nil, err
	}
	out := &timetableOutput{}
	out.Body.Timetables = tts
	return out, nil
}

func (s *Server) dateOrToday(v string) (network.Date, error) {
	if v == "" {
		return network.DateOf(time.Now().In(shanghai)), nil
	}
	return network.ParseDate(v)
}

type trainFaresInput struct {
	Number string `path:"number" maxLength:"32" doc:"Train number, e.g. T168"`
	From   string `query:"from" required:"true" maxLength:"128" doc:"Origin station ID or telecode"`
	To     string `query:"to" required:"true" maxLength:"128" doc:"Destination station ID or telecode"`
}

type trainFaresOutput struct {
	Body struct {
		Quotes []network.FareQuote `json:"quotes"`
	}
}

func (s *Server) getTrainFares(ctx context.Context, in *trainFaresInput) (*trainFaresOutput, error) {
	q, err := s.deps.Catalog.TrainFares(ctx, in.Number, in.From, in.To)
	if err != nil {
		return nil, err
	}
	out := &trainFaresOutput{}
	out.Body.Quotes = q
	return out, nil
}

type metroFareInput struct {
	Feed string `path:"feed" maxLength:"64" doc:"Metro feed ID, e.g. nbmetro"`
	From string `query:"from" required:"true" maxLength:"128" doc:"Origin station ID"`
	To   string `query:"to" required:"true" maxLength:"128" doc:"Destination station ID"`
}

type metroFareOutput struct{ Body network.MetroQuote }

func (s *Server) getMetroFare(ctx context.Context, in *metroFareInput) (*metroFareOutput, error) {
	q, err := s.deps.Catalog.MetroFare(ctx, in.Feed, in.From, in.To)
	if err != nil {
		return nil, err
	}
	return &metroFareOutput{Body: q}, nil
}

type carTypesOutput struct {
	Body struct {
		CarTypes []network.CarType `json:"car_types"`
	}
}

func (s *Server) listCarTypes(ctx context.Context, _ *struct{}) (*carTypesOutput, error) {
	cts, err := s.deps.Catalog.CarTypes(ctx)
	if err != nil {
		return nil, err
	}
	out := &carTypesOutput{}
	out.Body.CarTypes = nonNil(cts)
	return out, nil
}

type putCarTypeInput struct {
	Code   string `path:"code" maxLength:"32"`
	Reason string `query:"reason" maxLength:"500" doc:"Why the change is made, kept in the audit trail"`
	Body   network.CarType
}

type carTypeOutput struct{ Body network.CarType }

func (s *Server) putCarType(ctx context.Context, in *putCarTypeInput) (*carTypeOutput, error) {
	in.Body.Code = in.Code
	if err := s.deps.Catalog.PutCarType(ctx, in.Body, in.Reason); err != nil {
		return nil, err
	}
	ct, err := s.deps.Catalog.CarType(ctx, in.Code)
	if err != nil {
		return nil, err
	}
	return &carTypeOutput{Body: ct}, nil
}

type putFareInput struct {
	Reason string `query:"reason" maxLength:"500" doc:"Why the change is made, kept in the audit trail"`
	Body   network.Fare
}

type fareOutput struct{ Body network.Fare }

func (s *Server) putFare(ctx context.Context, in *putFareInput) (*fareOutput, error) {
	if err := s.deps.Catalog.SetFare(ctx, in.Body, in.Reason); err != nil {
		return nil, err
	}
	return &fareOutput{Body: in.Body}, nil
}

// nonNil turns a nil slice into an empty one so JSON shows [] not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
