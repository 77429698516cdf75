package httpapi

import (
	"context"
	"time"

	"piao/internal/fault"
	"piao/internal/identity"
)

type loginInput struct {
	Body struct {
		Username string `json:"username" minLength:"1" maxLength:"64" doc:"Username or phone number"`
		Password string `json:"password" minLength:"1" maxLength:"256"`
	}
}

type tokenBody struct {
	Token     string           `json:"token" doc:"Bearer token; send as Authorization: Bearer <token>"`
	ExpiresAt time.Time        `json:"expires_at"`
	Account   identity.Account `json:"account"`
}

type tokenOutput struct{ Body tokenBody }

func (s *Server) login(ctx context.Context, in *loginInput) (*tokenOutput, error) {
	secret, acct, err := s.deps.Identity.Login(ctx, in.Body.Username, in.Body.Password, identity.APIToken)
	if err != nil {
		return nil, err
	}
	return s.tokenResponse(ctx, secret, acct)
}

func (s *Server) tokenResponse(ctx context.Context, secret string, acct identity.Account) (*tokenOutput, error) {
	p, err := s.deps.Identity.Authenticate(ctx, secret)
	if err != nil {
		return nil, err
	}
	return &tokenOutput{Body: tokenBody{Token: secret, ExpiresAt: p.Token.ExpiresAt, Account: acct}}, nil
}

type authHeader struct {
	Authorization string `header:"Authorization" doc:"Bearer token"`
}

func (s *Server) logout(ctx context.Context, in *authHeader) (*struct{}, error) {
	secret := bearerSecret(in.Authorization)
	if err := s.deps.Identity.Logout(ctx, secret); err != nil {
		return nil, err
	}
	return nil, nil
}

func bearerSecret(h string) string {
	if len(h) > 7 && h[:7] == "Bearer " {
		return h[7:]
	}
	return ""
}

func (s *Server) issueToken(ctx context.Context, _ *struct{}) (*tokenOutput, error) {
	p := PrincipalFrom(ctx)
	secret, err := s.deps.Identity.Issue(ctx, p.Account.ID, identity.APIToken)
	if err != nil {
		return nil, err
	}
	return s.tokenResponse(ctx, secret, p.Account)
}

type accountOutput struct{ Body identity.Account }

func (s *Server) getMe(ctx context.Context, _ *struct{}) (*accountOutput, error) {
	return &accountOutput{Body: PrincipalFrom(ctx).Account}, nil
}

type accountIDPath struct {
	ID int64 `path:"id" minimum:"1"`
}

// accountView is getAccount's input: the account, and whether to show its phone in full.
type accountView struct {
	ID   int64 `path:"id" minimum:"1"`
	Full bool  `query:"full" doc:"Show the phone in full (needs pii:read; audited)"`
}

func (s *Server) getAccount(ctx context.Context, in *accountView) (*accountOutput, error) {
	a, err := s.deps.Identity.Store.AccountByID(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &accountOutput{Body: a}, nil
}

type createAccountInput struct {
	Body identity.NewAccount
}

func (s *Server) createAccount(ctx context.Context, in *createAccountInput) (*accountOutput, error) {
	if in.Body.Role == "" {
		return nil, fault.New(fault.Invalid, "bad_role", "必须指定角色", "a role is required")
	}
	a, err := s.deps.Identity.CreateAccount(ctx, in.Body)
	if err != nil {
		return nil, err
	}
	return &accountOutput{Body: a}, nil
}
