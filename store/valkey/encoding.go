package valkey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"

	"gridbot/core"
)

// Values are kept small: a case, its figure marks and each event of its
// log are compressed (zstd, github.com/klauspost/compress) with a preset
// dictionary of their kind, which holds what every value of the kind
// repeats — the JSON field names, states, event kinds, the shape of a time —
// and nothing of any town's data, so even a value of a few dozen bytes
// compresses to about half. zstd rather than DEFLATE: with a dictionary it
// compresses these values a few per cent less but ten times faster (a
// case's list page expands hundreds of them); measured in
// BenchmarkEncodeCase.
//
// A compressed value is a tag byte naming its dictionary, then the zstd
// frame without its four-byte magic number (the tag stands for it). A
// dictionary is therefore never edited: a better one gets a new tag, and
// values with the old tag still read. A value that starts with "{" or ","
// is plain JSON (written before, or by a store that does not compress) and
// reads as it is.
//
//	0x01  caseDict1: a case alone
//	0x02  marksDict1: figure marks alone (their own key, a ledger before)
//	0x03  eventDict1: a log entry after its sequence number
//	0x04  caseDict1, a newline, marksDict1: a case, a newline and its
//	      figure marks — one key for both, as writeScript writes them

// zstdMagic starts every zstd frame.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// A codec compresses and expands the values of one kind. Its encoder and
// decoder are made at first use and are safe for concurrent use.
type codec struct {
	tag  byte
	dict string
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

func newCodec(tag byte, dict string) *codec { return &codec{tag: tag, dict: dict} }

// zstd returns the codec's encoder and decoder, made at the first call.
func (c *codec) zstd() (*zstd.Encoder, *zstd.Decoder, error) {
	c.once.Do(func() {
		c.enc, c.err = zstd.NewWriter(nil, zstd.WithEncoderDictRaw(uint32(c.tag), []byte(c.dict)),
			zstd.WithEncoderCRC(false), zstd.WithSingleSegment(true), zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithNoEntropyCompression(c.plain))
		if c.err == nil {
			c.dec, c.err = zstd.NewReader(nil, zstd.WithDecoderDictRaw(uint32(c.tag), []byte(c.dict)), zstd.WithDecoderConcurrency(0))
		}
	})
	return c.enc, c.dec, c.err
}

// The codecs of the kinds of value; immutable.
var (
	caseCodec  = newCodec(0x01, caseDict1)
	marksCodec = newCodec(0x02, marksDict1)
	eventCodec = newCodec(0x03, eventDict1)
	bothCodec  = &codec{tag: 0x04, dict: caseDict1 + "\n" + marksDict1, plain: true}
)

// pack returns plain compressed, after the codec's tag.
func (c *codec) pack(plain []byte) ([]byte, error) {
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

// errTag is a value with a tag this store does not know.
var errTag = errors.New("value written by a newer store: unknown encoding")

// unpack returns the plain value of raw: raw itself when it is plain
// JSON, else what its tag's dictionary expands it to.
func (c *codec) unpack(raw []byte) ([]byte, error) {
	if len(raw) == 0 || raw[0] == '{' || raw[0] == ',' || raw[0] == '[' {
		return raw, nil
	}
	if raw[0] != c.tag {
		return nil, fmt.Errorf("%w (tag %#x)", errTag, raw[0])
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

// encodeCase is the stored value of c and its figure marks m: one value,
// so a case costs one key (and its log) rather than two.
func encodeCase(c *core.Case, m *core.FigureMarks) ([]byte, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode case: %w", err)
	}
	marks, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode marks: %w", err)
	}
	return bothCodec.pack(append(append(plain, '\n'), marks...))
}

// splitCase returns the JSON of a stored case and of the figure marks
// stored with it (nil when they are in a key of their own).
func splitCase(raw []byte) (plain, marks []byte, err error) {
	if len(raw) > 0 && raw[0] == bothCodec.tag {
		both, err := bothCodec.unpack(raw)
		if err != nil {
			return nil, nil, err
		}
		plain, marks, ok := bytes.Cut(both, []byte{'\n'})
		if !ok {
			return nil, nil, errors.New("a case without its marks")
		}
		return plain, marks, nil
	}
	plain, err = caseCodec.unpack(raw)
	return plain, nil, err
}

// decodeCase reads a stored case, and the figure marks stored with it (nil
// when they are in a key of their own).
func decodeCase(raw []byte, c *core.Case) (*core.FigureMarks, error) {
	plain, marks, err := splitCase(raw)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(plain, c); err != nil {
		return nil, err
	}
	if marks == nil {
		return nil, nil
	}
	var m core.FigureMarks
	if err := json.Unmarshal(marks, &m); err != nil {
		return nil, fmt.Errorf("marks: %w", err)
	}
	return &m, nil
}

// marksOf reads the figure marks stored with a case, without the case;
// nil when they are in a key of their own.
func marksOf(raw []byte) (*core.FigureMarks, error) {
	_, marks, err := splitCase(raw)
	if err != nil || marks == nil {
		return nil, err
	}
	var m core.FigureMarks
	if err := json.Unmarshal(marks, &m); err != nil {
		return nil, fmt.Errorf("marks: %w", err)
	}
	return &m, nil
}

// encodeMarks is the stored value of a case's figure marks.
func encodeMarks(m *core.FigureMarks) ([]byte, error) {
	plain, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode marks: %w", err)
	}
	return marksCodec.pack(plain)
}

// decodeMarks reads stored figure marks.
func decodeMarks(raw []byte, m *core.FigureMarks) error {
	plain, err := marksCodec.unpack(raw)
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, m)
}

// packCase is encodeCase with c's personal fields sealed with the store's
// Sealer (core.EncodeCase).
func (s *Store) packCase(c *core.Case, m *core.FigureMarks) ([]byte, error) {
	if s.sealer == nil {
		return encodeCase(c, m)
	}
	plain, err := core.EncodeCase(s.sealer, c)
	if err != nil {
		return nil, fmt.Errorf("encode case: %w", err)
	}
	marks, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode marks: %w", err)
	}
	return bothCodec.pack(append(append(plain, '\n'), marks...))
}

// unpackCase is decodeCase with the sealed fields opened.
func (s *Store) unpackCase(raw []byte, c *core.Case) (*core.FigureMarks, error) {
	plain, marks, err := splitCase(raw)
	if err != nil {
		return nil, err
	}
	if err := core.DecodeCase(s.sealer, plain, c); err != nil {
		return nil, err
	}
	if marks == nil {
		return nil, nil
	}
	var m core.FigureMarks
	if err := json.Unmarshal(marks, &m); err != nil {
		return nil, fmt.Errorf("marks: %w", err)
	}
	return &m, nil
}
