// Package valuecodec packs the stores' values small: a case, its figure
// marks and each event of its log are compressed (zstd,
// github.com/klauspost/compress) with a dictionary of their kind, which
// holds what every value of the kind repeats — the JSON field names,
// states, event kinds, the shape of a time — and nothing of any town's
// data, so even a value of a few dozen bytes compresses to about half.
// zstd rather than DEFLATE: with a dictionary it compresses these values a
// few per cent less but ten times faster (a list page expands hundreds of
// them); measured in store/valkey's BenchmarkEncodeCase.
//
// It knows nothing of where values are kept: store/valkey uses it, and any
// store may.
//
// A packed value is a tag byte naming its dictionary, then the zstd frame
// without its four-byte magic number (the tag stands for it). A dictionary
// is therefore never edited: a better one gets a new tag, and values with
// the old tag still read. A value that starts with "{", "[" or "," is plain
// JSON (written before, or by a store that does not compress) and reads as
// it is.
//
//	0x01  CaseDict1: a case alone
//	0x02  MarksDict1: figure marks alone
//	0x03  EventDict1: a log entry after its sequence number
//	0x04  CaseDict1, a newline, MarksDict1: a case, a newline and its
//	      figure marks
//	0x05  case2.dict: a case, a newline and its figure marks
//
// The dictionaries of tags 1 to 4 are raw content (dict.go), written by
// hand. That of tag 5 is trained (traindict, on a synthetic ledger of the
// sample town, never a town's data): a zstd dictionary with the content
// cases repeat, chosen from thousands of them, and the sequences' entropy
// tables. Over 1,000 cases of a fill it packs a case with its marks in 335
// bytes where tag 4 took 439, and expands it as fast (3–6 µs; literals
// are left without Huffman coding, as for tag 4: with them a case is 10 %
// smaller and expands at half the speed). A dictionary trained for events
// made them no smaller (50 bytes against 49: an event is mostly its own
// time and data), so events keep tag 3. BenchmarkCodecs.
package valuecodec

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// zstdMagic starts every zstd frame.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// A Codec compresses and expands the values of one kind. Its encoder and
// decoder are made at first use and are safe for concurrent use.
type Codec struct {
	tag  byte
	dict string
	// trained is a zstd dictionary (with its header and entropy tables)
	// rather than raw content.
	trained bool
	// plain leaves literals without Huffman coding: a dictionary of raw
	// content has no entropy tables, so each small frame would carry one
	// that every expansion reads again. For cases, read hundreds a list
	// page and every open one a figures page, that was half the server's
	// CPU at 100,000 cases; plain literals cost 7 % more bytes and expand
	// three times faster (2.6 µs against 7.9 µs a case).
	plain bool
	once  sync.Once
	enc   *zstd.Encoder
	dec   *zstd.Decoder
	err   error
}

//go:embed case2.dict
var case2Dict string

// The codecs of the kinds of value; immutable. Stores write with
// CaseWithMarks2 and Event and read all of them.
var (
	Case          = &Codec{tag: 0x01, dict: CaseDict1}
	Marks         = &Codec{tag: 0x02, dict: MarksDict1}
	Event         = &Codec{tag: 0x03, dict: EventDict1}
	CaseWithMarks = &Codec{tag: 0x04, dict: CaseDict1 + "\n" + MarksDict1, plain: true}

	CaseWithMarks2 = &Codec{tag: 0x05, dict: case2Dict, trained: true, plain: true}
)

// Tag is the byte that starts the codec's packed values.
func (c *Codec) Tag() byte { return c.tag }

// zstd returns the codec's encoder and decoder, made at the first call.
func (c *Codec) zstd() (*zstd.Encoder, *zstd.Decoder, error) {
	c.once.Do(func() {
		encDict, decDict := zstd.WithEncoderDictRaw(uint32(c.tag), []byte(c.dict)), zstd.WithDecoderDictRaw(uint32(c.tag), []byte(c.dict))
		if c.trained {
			encDict, decDict = zstd.WithEncoderDict([]byte(c.dict)), zstd.WithDecoderDicts([]byte(c.dict))
		}
		c.enc, c.err = zstd.NewWriter(nil, encDict,
			zstd.WithEncoderCRC(false), zstd.WithSingleSegment(true), zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithNoEntropyCompression(c.plain))
		if c.err == nil {
			c.dec, c.err = zstd.NewReader(nil, decDict, zstd.WithDecoderConcurrency(0))
		}
	})
	return c.enc, c.dec, c.err
}

// Pack returns plain compressed, after the codec's tag.
func (c *Codec) Pack(plain []byte) ([]byte, error) {
	enc, _, err := c.zstd()
	if err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	frame := enc.EncodeAll(plain, make([]byte, 0, len(plain)/2+16))
	if !bytes.HasPrefix(frame, zstdMagic) {
		return nil, errors.New("compress: not a zstd frame")
	}
	frame[len(zstdMagic)-1] = c.tag
	return frame[len(zstdMagic)-1:], nil
}

// ErrTag is a value with a tag this codec does not know.
var ErrTag = errors.New("value written by a newer store: unknown encoding")

// IsPlain says whether raw is plain JSON, kept as it is.
func IsPlain(raw []byte) bool {
	return len(raw) == 0 || raw[0] == '{' || raw[0] == ',' || raw[0] == '['
}

// Unpack returns the plain value of raw: raw itself when it is plain
// JSON, else what its tag's dictionary expands it to.
func (c *Codec) Unpack(raw []byte) ([]byte, error) {
	if IsPlain(raw) {
		return raw, nil
	}
	if raw[0] != c.tag {
		return nil, fmt.Errorf("%w (tag %#x)", ErrTag, raw[0])
	}
	_, dec, err := c.zstd()
	if err != nil {
		return nil, fmt.Errorf("expand: %w", err)
	}
	frame := make([]byte, 0, len(zstdMagic)+len(raw)-1)
	frame = append(append(frame, zstdMagic...), raw[1:]...)
	plain, err := dec.DecodeAll(frame, make([]byte, 0, 3*len(raw)))
	if err != nil {
		return nil, fmt.Errorf("expand value: %w", err)
	}
	return plain, nil
}

// All is every codec, for a reader that does not know a value's kind.
func All() []*Codec { return []*Codec{Case, Marks, Event, CaseWithMarks, CaseWithMarks2} }

// Expand returns raw expanded by the codec its tag names, or raw itself
// when it is plain or no codec's.
func Expand(raw []byte) []byte {
	for _, c := range All() {
		if len(raw) > 0 && raw[0] == c.tag {
			if plain, err := c.Unpack(raw); err == nil {
				return plain
			}
		}
	}
	return raw
}
