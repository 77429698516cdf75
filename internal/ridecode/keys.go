package ridecode

import (
	"crypto/ecdsa"
	"encoding/pem"
	"io"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"piao/internal/fault"
)

// PEM block types of the keys this package writes.
const (
	PrivateKeyPEMType = "PRIVATE KEY" // PKCS #8, as OpenSSL and gmssl read it
	PublicKeyPEMType  = "PUBLIC KEY"  // PKIX SubjectPublicKeyInfo
)

func keyErr(zh, en string, err error) error {
	e := fault.New(fault.Invalid, ReasonKey, zh, en)
	e.Err = err
	return e
}

// GenerateKey makes a new SM2 issuer key pair from random (crypto/rand.Reader in production).
func GenerateKey(random io.Reader) (*sm2.PrivateKey, error) {
	k, err := sm2.GenerateKey(random)
	if err != nil {
		return nil, fault.Wrap(err, "generate sm2 key")
	}
	return k, nil
}

// MarshalPrivateKeyPEM writes an SM2 private key as a PKCS #8 PEM block.
func MarshalPrivateKeyPEM(k *sm2.PrivateKey) ([]byte, error) {
	der, err := smx509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, keyErr("无法编码 SM2 私钥", "cannot encode the SM2 private key", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: PrivateKeyPEMType, Bytes: der}), nil
}

// ParsePrivateKeyPEM reads an SM2 private key from PEM (PKCS #8 or SEC 1 "EC PRIVATE KEY").
func ParsePrivateKeyPEM(data []byte) (*sm2.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, keyErr("不是 PEM 格式的私钥", "not a PEM private key", nil)
	}
	var key any
	var err error
	switch block.Type {
	case PrivateKeyPEMType:
		key, err = smx509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = smx509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, keyErr("PEM 块不是私钥", "the PEM block is not a private key", nil)
	}
	if err != nil {
		return nil, keyErr("无法解析 SM2 私钥", "cannot parse the SM2 private key", err)
	}
	switch k := key.(type) {
	case *sm2.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		if sm2.IsSM2PublicKey(&k.PublicKey) {
			return new(sm2.PrivateKey).FromECPrivateKey(k)
		}
	}
	return nil, keyErr("私钥不是 SM2 密钥", "the private key is not an SM2 key", nil)
}

// MarshalPublicKeyPEM writes an SM2 public key as a PKIX PEM block.
func MarshalPublicKeyPEM(pub *ecdsa.PublicKey) ([]byte, error) {
	if !sm2.IsSM2PublicKey(pub) {
		return nil, keyErr("公钥不是 SM2 密钥", "the public key is not an SM2 key", nil)
	}
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, keyErr("无法编码 SM2 公钥", "cannot encode the SM2 public key", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: PublicKeyPEMType, Bytes: der}), nil
}

// ParsePublicKeyPEM reads an SM2 public key from a PKIX PEM block.
func ParsePublicKeyPEM(data []byte) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != PublicKeyPEMType {
		return nil, keyErr("不是 PEM 格式的公钥", "not a PEM public key", nil)
	}
	key, err := smx509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, keyErr("无法解析 SM2 公钥", "cannot parse the SM2 public key", err)
	}
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(pub) {
		return nil, keyErr("公钥不是 SM2 密钥", "the public key is not an SM2 key", nil)
	}
	return pub, nil
}
