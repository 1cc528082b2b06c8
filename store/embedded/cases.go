package embedded

import (
	"encoding/json"

	"gridbot/core"
	"gridbot/store/valuecodec"
)

// A case is stored as core.EncodeCase writes it (its personal fields
// sealed when the store seals), compressed as the Valkey store compresses
// its cases (store/valuecodec: the dictionary trained on cases and their
// marks, literals without Huffman tables so that a list page expands its
// hundreds of cases quickly), with no marks after it: they have a bucket
// of their own here, which the figures read without the cases. Any value
// valuecodec reads still reads: plain JSON as written before, or a case
// packed alone with the first dictionary.

// encodeCase is the stored value of c.
func (s *Store) encodeCase(c *core.Case) ([]byte, error) {
	v, err := core.EncodeCase(s.sealer, c)
	if err != nil {
		return nil, err
	}
	return valuecodec.PackCaseWithMarks(v, nil)
}

// plainCase returns the JSON of a stored case, its personal fields still
// sealed: for what reads only the fields the indexes and figures need.
func plainCase(v []byte) ([]byte, error) {
	plain, _, err := valuecodec.SplitCase(v)
	return plain, err
}

// unmarshalCase reads a stored case's JSON into c, its personal fields
// still sealed.
func unmarshalCase(v []byte, c *core.Case) error {
	plain, err := plainCase(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, c)
}

// decodeStored reads a stored case with its personal fields opened.
func (s *Store) decodeStored(v []byte, c *core.Case) error {
	plain, err := plainCase(v)
	if err != nil {
		return err
	}
	*c = core.Case{}
	return core.DecodeCase(s.sealer, plain, c)
}

// decodeCase reads stored case number with its personal fields opened,
// through the cache of decoded cases.
func (s *Store) decodeCase(number string, v []byte, c *core.Case) error {
	if s.decoded.Get(number, v, c) {
		return nil
	}
	if err := s.decodeStored(v, c); err != nil {
		return err
	}
	s.decoded.Put(number, v, c)
	return nil
}

// maxDecodedCases bounds the cases the cache keeps: some pages of 500 of
// an office at work, a few megabytes.
const maxDecodedCases = 4096
