// Package sealing is gridbot's data keys: SM4-GCM seals personal data at
// rest and HMAC-SM3 blinds what is looked up by it (core.Sealer and
// core.Blinder, 密评 GB/T 39786), with github.com/emmansun/gmsm.
//
// A key file holds the keys as text, one a line:
//
//	# gridbot data keys
//	index 5f0c…  (32 bytes, hex: the HMAC-SM3 key of the lookups)
//	key k2 9a1e… (16 bytes, hex: SM4; the first key line seals new data)
//	key k1 03bb… (older keys, kept to open what they sealed)
//
// Rotation adds a key line at the top (gridbot keys rotate): what is
// written from then on is sealed with it, what was sealed before still
// opens with the key its value names, and gridbot keys reseal rewrites the
// old values with the new key. The index key does not rotate: the lookups
// it keys would all have to be made again.
package sealing

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"sync"
	"unicode"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"

	"gridbot/core"
)

// Sizes of the keys.
const (
	DataKeyBytes  = 16 // SM4
	IndexKeyBytes = 32 // HMAC-SM3
)

const nonceBytes = 12

// Keyring is a key file's keys. It implements core.Sealer and core.Blinder
// and is safe for concurrent use.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
	order   []string // key IDs, the current one first
	index   []byte
	macs    sync.Pool // of hmac.New(sm3.New, index), for Blind

	cacheMu sync.Mutex
	cache   map[string]string // domain \x00 value → Blind's token
}

var (
	_ core.Sealer  = (*Keyring)(nil)
	_ core.Blinder = (*Keyring)(nil)
)

// Parse reads a key file's text. Lines may also be separated by ';' (a key
// set given in one environment variable).
func Parse(text string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for n, line := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == ';' }) {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case f[0] == "index" && len(f) == 2:
			if k.index != nil {
				return nil, fmt.Errorf("data keys line %d: a second index key", n+1)
			}
			b, err := hex.DecodeString(f[1])
			if err != nil || len(b) != IndexKeyBytes {
				return nil, fmt.Errorf("data keys line %d: the index key is %d bytes in hex", n+1, IndexKeyBytes)
			}
			k.index = b
		case f[0] == "key" && len(f) == 3:
			id := f[1]
			if !validID(id) {
				return nil, fmt.Errorf("data keys line %d: key ID %q: 1 to 32 letters, digits, '-' or '_'", n+1, id)
			}
			if _, dup := k.aeads[id]; dup {
				return nil, fmt.Errorf("data keys line %d: key %s twice", n+1, id)
			}
			b, err := hex.DecodeString(f[2])
			if err != nil || len(b) != DataKeyBytes {
				return nil, fmt.Errorf("data keys line %d: key %s is %d bytes in hex", n+1, id, DataKeyBytes)
			}
			aead, err := newAEAD(b)
			if err != nil {
				return nil, fmt.Errorf("data keys line %d: %w", n+1, err)
			}
			k.aeads[id] = aead
			k.order = append(k.order, id)
		default:
			return nil, fmt.Errorf("data keys line %d: want \"index <hex>\" or \"key <id> <hex>\"", n+1)
		}
	}
	if len(k.order) == 0 || k.index == nil {
		return nil, errors.New("data keys: want an index line and at least one key line")
	}
	k.current = k.order[0]
	return k, nil
}

// Load reads the key file at path. It refuses a file others may read.
func Load(path string) (*Keyring, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("data keys: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("data keys %s: mode %o lets others read it; chmod 600", path, info.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data keys: %w", err)
	}
	k, err := Parse(string(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func validID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, r := range id {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, err
	}
	// crypto/cipher's GCM over gmsm's block: on this project's machines it
	// measured faster than gmsm's own (3.1 against 4.2 µs for 150 bytes).
	return cipher.NewGCM(block)
}

// NewFile returns the text of a new key file: a fresh index key and a
// first data key, k1.
func NewFile() string {
	return "# gridbot data keys (SM4 for personal data at rest, HMAC-SM3 for lookups).\n" +
		"# Keep this file secret and backed up apart from the data: without it the data cannot be read.\n" +
		"index " + randomHex(IndexKeyBytes) + "\n" +
		"key k1 " + randomHex(DataKeyBytes) + "\n"
}

// Rotate returns the key file text with a new data key on top, which seals
// from now on, and its ID. The older keys stay, to open what they sealed.
func Rotate(text string) (string, string, error) {
	k, err := Parse(text)
	if err != nil {
		return "", "", err
	}
	id := ""
	for n := len(k.order) + 1; ; n++ {
		id = fmt.Sprintf("k%d", n)
		if _, taken := k.aeads[id]; !taken {
			break
		}
	}
	line := "key " + id + " " + randomHex(DataKeyBytes) + "\n"
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "key ") {
			return strings.Join(lines[:i], "") + line + strings.Join(lines[i:], ""), id, nil
		}
	}
	return text + line, id, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("sealing: no randomness: " + err.Error()) // crypto/rand never fails on supported systems
	}
	return hex.EncodeToString(b)
}

// KeyID implements core.Sealer.
func (k *Keyring) KeyID() string { return k.current }

// KeyIDs are the data keys' IDs, the current one first.
func (k *Keyring) KeyIDs() []string { return append([]string(nil), k.order...) }

// Seal implements core.Sealer: SealMark, the key ID's length and the ID,
// a random nonce, then the SM4-GCM ciphertext, the mark and the ID
// authenticated with it.
func (k *Keyring) Seal(plain []byte) ([]byte, error) {
	head := len(core.SealMark) + 1 + len(k.current)
	out := make([]byte, head+nonceBytes, head+nonceBytes+len(plain)+16)
	copy(out, core.SealMark)
	out[len(core.SealMark)] = byte(len(k.current))
	copy(out[len(core.SealMark)+1:], k.current)
	if _, err := rand.Read(out[head:]); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return k.aeads[k.current].Seal(out, out[head:], plain, out[:head]), nil
}

// Open implements core.Sealer.
func (k *Keyring) Open(sealed []byte) ([]byte, error) {
	if !core.IsSealed(sealed) {
		return sealed, nil
	}
	id := core.SealedKeyOf(sealed)
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("open: sealed with key %q, which the key file does not hold", id)
	}
	head := len(core.SealMark) + 1 + len(id)
	if len(sealed) < head+nonceBytes+aead.Overhead() {
		return nil, errors.New("open: too short")
	}
	plain, err := aead.Open(nil, sealed[head:head+nonceBytes], sealed[head+nonceBytes:], sealed[:head])
	if err != nil {
		return nil, fmt.Errorf("open (key %s): %w", id, err)
	}
	return plain, nil
}

// Blind implements core.Blinder: HMAC-SM3 of the domain and the value
// under the index key, the first 16 bytes in hex.
func (k *Keyring) Blind(domain, value string) string {
	// The search's terms repeat (common pairs, places, days): a token
	// made once is kept, in memory only, up to blindCacheSize of them.
	key := domain + "\x00" + value
	k.cacheMu.Lock()
	tok, ok := k.cache[key]
	k.cacheMu.Unlock()
	if ok {
		return tok
	}
	tok = k.blind(domain, value)
	k.cacheMu.Lock()
	if len(k.cache) >= blindCacheSize || k.cache == nil {
		k.cache = make(map[string]string, 1024)
	}
	k.cache[key] = tok
	k.cacheMu.Unlock()
	return tok
}

// blindCacheSize bounds the tokens Blind keeps; past it they are dropped
// all at once and made again as asked.
const blindCacheSize = 1 << 16

// blind computes Blind's token.
func (k *Keyring) blind(domain, value string) string {
	// A keyed HMAC is reused (Reset keeps the key's state): a case's
	// write blinds dozens of search terms, and keying each anew cost
	// five times the digest.
	m, ok := k.macs.Get().(hash.Hash)
	if ok {
		m.Reset()
	} else {
		m = hmac.New(sm3.New, k.index)
	}
	io.WriteString(m, domain)
	m.Write([]byte{0})
	io.WriteString(m, value)
	var sum [sm3.Size]byte
	m.Sum(sum[:0])
	k.macs.Put(m)
	return hex.EncodeToString(sum[:16])
}

// SearchTermDomain is the Blinder domain of the text search's index terms.
const SearchTermDomain = "search-term"

// BlindTerm keys an index term of the text search (core.SearchIndex's
// TermBlinder): Blind in the search's own domain, so its terms never equal
// the phone index's.
func (k *Keyring) BlindTerm(term string) string { return k.Blind(SearchTermDomain, term) }
