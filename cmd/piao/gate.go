package main

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"piao/internal/app"
	"piao/internal/fault"
	"piao/internal/ridecode"
)

// gateCmd is the station-gate side of ride codes (SPEC M1): keys, signing
// and offline verification, for operators and for testing gates.
type gateCmd struct {
	Keygen gateKeygenCmd `cmd:"" help:"Generate an SM2 issuer key pair: NAME.key.pem (private, mode 0600) and NAME.pub.pem in --out. 生成 SM2 签发密钥对。"`
	Sign   gateSignCmd   `cmd:"" help:"Sign a ride code and print its text (quote it in a shell: it has spaces). 签发乘车码。"`
	Verify gateVerifyCmd `cmd:"" help:"Verify a ride code offline and print its claims as JSON; exits non-zero when it is refused. 离线验证乘车码。"`
}

type gateKeygenCmd struct {
	Out   string `name:"out" required:"" help:"Directory to write the keys to (created if missing)."`
	Name  string `name:"name" default:"issuer" help:"File name stem of the keys."`
	Force bool   `name:"force" help:"Overwrite existing key files."`
}

func (cmd gateKeygenCmd) Run() error {
	if cmd.Name == "" || strings.ContainsAny(cmd.Name, `/\`) {
		return fmt.Errorf("--name %q: a file name stem without slashes", cmd.Name)
	}
	privPath, pubPath, err := writeIssuerKeys(cmd.Out, cmd.Name, cmd.Force)
	if err != nil {
		return err
	}
	fmt.Printf("private key 私钥: %s\npublic key 公钥:  %s\n", privPath, pubPath)
	return nil
}

// writeIssuerKeys generates an SM2 key pair and writes it to dir as
// NAME.key.pem (mode 0600) and NAME.pub.pem, refusing to overwrite unless force.
func writeIssuerKeys(dir, name string, force bool) (privPath, pubPath string, err error) {
	k, err := ridecode.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	priv, err := ridecode.MarshalPrivateKeyPEM(k)
	if err != nil {
		return "", "", err
	}
	pub, err := ridecode.MarshalPublicKeyPEM(&k.PublicKey)
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	privPath = filepath.Join(dir, name+".key.pem")
	pubPath = filepath.Join(dir, name+".pub.pem")
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{privPath, priv, 0o600}, {pubPath, pub, 0o644}} {
		if err := writeFileFlags(f.path, f.data, flags, f.mode); err != nil {
			if errors.Is(err, os.ErrExist) {
				return "", "", fmt.Errorf("%s exists; use --force to overwrite it", f.path)
			}
			return "", "", err
		}
	}
	return privPath, pubPath, nil
}

func writeFileFlags(path string, data []byte, flags int, mode os.FileMode) error {
	f, err := os.OpenFile(path, flags, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type gateSignCmd struct {
	Key     string        `name:"key" required:"" type:"existingfile" help:"Issuer private key (PEM)."`
	Issuer  string        `name:"issuer" required:"" help:"Issuer ID written into the code; gates look the public key up by it."`
	Account int64         `name:"account" required:"" help:"Account ID of the rider."`
	Network string        `name:"network" default:"nbmetro" help:"Network (feed) ID the code is for."`
	Kind    string        `name:"kind" default:"ride" enum:"ride,count,paper" help:"Kind of code (${enum})."`
	Ticket  int64         `name:"ticket" help:"Ticket ID, required for count and paper codes."`
	TTL     time.Duration `name:"ttl" help:"Validity (default 60s for ride and count codes, 720h for paper)."`
	At      string        `name:"at" help:"Issue time, RFC 3339 (default now)."`
	PNG     string        `name:"png" help:"Also write the QR code as a PNG image to this file."`
	Size    int           `name:"size" default:"320" help:"PNG width and height in pixels."`
}

func (cmd gateSignCmd) Run() error {
	data, err := os.ReadFile(cmd.Key)
	if err != nil {
		return err
	}
	k, err := ridecode.ParsePrivateKeyPEM(data)
	if err != nil {
		return faultText(err)
	}
	is, err := ridecode.NewIssuer(cmd.Issuer, k)
	if err != nil {
		return faultText(err)
	}
	kind, err := ridecode.ParseKind(cmd.Kind)
	if err != nil {
		return faultText(err)
	}
	at, err := parseAt(cmd.At)
	if err != nil {
		return err
	}
	c := ridecode.Claims{Kind: kind, Network: cmd.Network, Account: cmd.Account, Ticket: cmd.Ticket, IssuedAt: at}
	if cmd.TTL != 0 {
		c.ExpiresAt = at.Add(cmd.TTL)
	}
	text, err := is.Sign(c)
	if err != nil {
		return faultText(err)
	}
	if cmd.PNG != "" {
		img, err := ridecode.PNG(text, cmd.Size)
		if err != nil {
			return err
		}
		if err := os.WriteFile(cmd.PNG, img, 0o644); err != nil {
			return err
		}
	}
	fmt.Println(text)
	return nil
}

// parseAt reads an RFC 3339 time, or returns now for "".
func parseAt(s string) (time.Time, error) {
	if s == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at %q: want an RFC 3339 time such as 2026-03-01T08:30:00+08:00", s)
	}
	return t, nil
}

type gateVerifyCmd struct {
	Pub     []string      `name:"pub" required:"" sep:"none" placeholder:"ID=FILE" help:"Trusted issuer public key as ID=PUB.pem; repeat for more issuers."`
	Network string        `name:"network" help:"Accept only codes of this network."`
	Skew    time.Duration `name:"skew" default:"5s" help:"Clock skew tolerated either side of the validity window."`
	At      string        `name:"at" help:"Verify as of this RFC 3339 time (default now)."`
	Code    string        `arg:"" help:"The code's text (quoted), or - to read it from standard input."`
}

func (cmd gateVerifyCmd) Run() error {
	v, err := newVerifier("--pub", cmd.Pub, cmd.Network, cmd.Skew)
	if err != nil {
		return err
	}
	text := cmd.Code
	if text == "-" {
		b, err := io.ReadAll(io.LimitReader(os.Stdin, 4096))
		if err != nil {
			return err
		}
		text = strings.TrimRight(string(b), "\r\n")
	}
	at, err := parseAt(cmd.At)
	if err != nil {
		return err
	}
	c, err := v.Verify(text, at)
	if err != nil {
		return faultText(err)
	}
	out := struct {
		ridecode.Claims
		Code string `json:"code_id"`
	}{c, c.CodeID()}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// newVerifier reads trusted issuer public keys given as ID=PUB.pem (flag
// names the option in errors) into a ride code verifier.
func newVerifier(flag string, pubs []string, network string, skew time.Duration) (*ridecode.Verifier, error) {
	keys := map[string]*ecdsa.PublicKey{}
	for _, p := range pubs {
		id, file, ok := strings.Cut(p, "=")
		if !ok || id == "" || file == "" {
			return nil, fmt.Errorf("%s %q: want ID=PUB.pem", flag, p)
		}
		if _, dup := keys[id]; dup {
			return nil, fmt.Errorf("%s: issuer %q is given twice", flag, id)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		pub, err := ridecode.ParsePublicKeyPEM(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, faultText(err))
		}
		keys[id] = pub
	}
	v, err := ridecode.NewVerifier(ridecode.VerifierConfig{Keys: keys, Skew: skew, Network: network})
	if err != nil {
		return nil, faultText(err)
	}
	return v, nil
}

// useRideCodes gives the app the verifier of the trusted issuers' ride
// codes; with --demo and no keys, a demo issuer kept in the data directory,
// and it returns how to sign codes for it.
func (cmd serveCmd) useRideCodes(a *app.App, dataDir string) (demoHint string, err error) {
	keys := cmd.RideCodeKeys
	if cmd.Demo && len(keys) == 0 {
		entry, priv, err := demoRideCodeKey(filepath.Join(dataDir, "ridecodes"))
		if err != nil {
			return "", err
		}
		keys = []string{entry}
		demoHint = "piao gate sign --key " + priv + " --issuer demo --account ID"
	}
	if len(keys) > 0 {
		v, err := newVerifier("--ride-code-key", keys, cmd.RideCodeNetwork, cmd.RideCodeSkew)
		if err != nil {
			return "", err
		}
		a.UseRideCodes(v)
	}
	return demoHint, nil
}

// demoRideCodeKey makes sure the demo issuer's key pair exists in dir
// (created on first use, kept afterwards) and returns its ID=PUB.pem
// entry and the private key's path.
func demoRideCodeKey(dir string) (entry, privPath string, err error) {
	privPath, pubPath := filepath.Join(dir, "demo.key.pem"), filepath.Join(dir, "demo.pub.pem")
	if _, err := os.Stat(pubPath); err == nil {
		return "demo=" + pubPath, privPath, nil
	}
	if _, _, err := writeIssuerKeys(dir, "demo", true); err != nil {
		return "", "", err
	}
	return "demo=" + pubPath, privPath, nil
}

// faultText shows a domain error in both languages with its reason.
func faultText(err error) error {
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Code == fault.Internal {
		return err
	}
	return fmt.Errorf("%s: %s / %s", fe.Reason, fe.ZH, fe.EN)
}
