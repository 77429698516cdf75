package httpapi

import (
	"context"
	"strconv"
	"strings"

	"piao/internal/abuse"
)

// limited returns g with its routes counting against the abuse limit of
// action (per client IP and per account) and documenting the 429 it gives.
func (g group) limited(a abuse.Action) group {
	g.limit = a
	return g
}

// withMaxBody returns g with its routes accepting bodies up to n bytes
// instead of MaxBodyBytes; such a route's path must have no parameters.
func (g group) withMaxBody(n int64) group {
	g.maxBody = n
	return g
}

// ownBodyLimit records a route's own body limit for the middleware, which
// applies body limits before routing.
func (s *Server) ownBodyLimit(method, path string, n int64) {
	if strings.Contains(path, "{") {
		panic("httpapi: a route with its own body limit needs a fixed path: " + path)
	}
	s.bodyLimits[method+" "+path] = n
}

// maxBody is the largest body the request's route accepts.
func (s *Server) maxBody(method, path string) int64 {
	if n, ok := s.bodyLimits[method+" "+path]; ok {
		return n
	}
	return MaxBodyBytes
}

// limitedHandler wraps h so that each call first takes a token from the
// buckets of action for the client IP and the caller's account.
func limitedHandler[I, O any](s *Server, a abuse.Action, h func(context.Context, *I) (*O, error)) func(context.Context, *I) (*O, error) {
	return func(ctx context.Context, in *I) (*O, error) {
		if err := s.allow(ctx, a); err != nil {
			return nil, err
		}
		return h(ctx, in)
	}
}

// allow takes a token of action for the request's client IP and, when
// someone is logged in, for their account.
func (s *Server) allow(ctx context.Context, a abuse.Action) error {
	if err := s.guard.Allow(a, abuse.PerIP, clientIPFrom(ctx)); err != nil {
		return err
	}
	if p := PrincipalFrom(ctx); !p.Anonymous() {
		return s.guard.Allow(a, abuse.PerAccount, "account:"+strconv.FormatInt(p.Account.ID, 10))
	}
	return nil
}

type clientIPKey struct{}

// clientIPFrom returns the client IP the middleware found for the request.
func clientIPFrom(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}
