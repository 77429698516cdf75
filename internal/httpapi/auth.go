package httpapi

import (
	"context"
	"strings"

	"piao/internal/abuse"
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
	// Per account: the login name tried, whether or not it exists.
	name := strings.ToLower(strings.TrimSpace(in.Body.Username))
	if err := s.guard.Allow(abuse.Login, abuse.PerAccount, "login:"+name); err != nil {
		return nil, err
	}
	secret, acct, err := s.deps.Identity.Login(ctx, in.Body.Username, in.Body.Password, identity.APIToken)
	if err != nil {
		return nil, err
	}
	return s.tokenResponse(ctx, secret, acct)
}

func (s *Server) tokenResponse(ctx context.Context, secret string, acct identity.Account) (*tokenOutput, error) {
	p, err := s.deps.Identity.Authenticate(ctx, secret, identity.APIToken)
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

type mintTokenInput struct {
	Body struct {
		Password string `json:"password" minLength:"1" maxLength:"256" doc:"The account's password, checked again: a live credential alone cannot mint a longer-lived one"`
	}
}

func (s *Server) issueToken(ctx context.Context, in *mintTokenInput) (*tokenOutput, error) {
	p := PrincipalFrom(ctx)
	secret, err := s.deps.Identity.MintToken(ctx, p, in.Body.Password)
	if err != nil {
		return nil, err
	}
	return s.tokenResponse(ctx, secret, p.Account)
}

type credentialsOutput struct {
	Body struct {
		Credentials []identity.Credential `json:"credentials"`
	}
}

func (s *Server) listCredentials(ctx context.Context, _ *struct{}) (*credentialsOutput, error) {
	cs, err := s.deps.Identity.Credentials(ctx, PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := &credentialsOutput{}
	out.Body.Credentials = cs
	return out, nil
}

func (s *Server) revokeCredential(ctx context.Context, in *struct {
	ID string `path:"id" minLength:"16" maxLength:"16" pattern:"^[0-9a-f]+$" doc:"A credential's public ID from GET /api/v1/me/credentials"`
}) (*struct{}, error) {
	return nil, s.deps.Identity.Revoke(ctx, PrincipalFrom(ctx), in.ID)
}

type revokeAllInput struct {
	Body struct {
		Reason string `json:"reason,omitempty" maxLength:"500" doc:"Why, for the audit log"`
	}
}

type revokedOutput struct {
	Body struct {
		Revoked int `json:"revoked" doc:"How many sessions and tokens ended"`
	}
}

func (s *Server) revokeMyCredentials(ctx context.Context, in *revokeAllInput) (*revokedOutput, error) {
	return s.revokeAll(ctx, PrincipalFrom(ctx).Account.ID, in.Body.Reason)
}

func (s *Server) revokeAccountCredentials(ctx context.Context, in *struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Reason string `json:"reason,omitempty" maxLength:"500" doc:"Why, for the audit log"`
	}
}) (*revokedOutput, error) {
	return s.revokeAll(ctx, in.ID, in.Body.Reason)
}

func (s *Server) revokeAll(ctx context.Context, accountID int64, reason string) (*revokedOutput, error) {
	n, err := s.deps.Identity.RevokeAll(ctx, accountID, reason)
	if err != nil {
		return nil, err
	}
	out := &revokedOutput{}
	out.Body.Revoked = n
	return out, nil
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

type unlockInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body *struct {
		Reason string `json:"reason,omitempty" maxLength:"500" doc:"Why the account is unlocked (kept in the audit trail)"`
	}
}

type unlockOutput struct {
	Body struct {
		AccountID int64                  `json:"account_id"`
		Cleared   identity.LoginFailures `json:"cleared" doc:"The failed logins and lock that were cleared"`
	}
}

func (s *Server) unlockAccount(ctx context.Context, in *unlockInput) (*unlockOutput, error) {
	reason := ""
	if in.Body != nil {
		reason = in.Body.Reason
	}
	cleared, err := s.deps.Identity.Unlock(ctx, in.ID, reason)
	if err != nil {
		return nil, err
	}
	out := &unlockOutput{}
	out.Body.AccountID, out.Body.Cleared = in.ID, cleared
	return out, nil
}
