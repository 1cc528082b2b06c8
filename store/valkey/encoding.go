package valkey

import (
	"encoding/json"
	"fmt"

	"gridbot/core"
	"gridbot/store/valuecodec"
)

// Values are kept small by store/valuecodec: a case with its figure marks
// in one value, and each event of its log, compressed with a dictionary of
// their kind (tags and layouts described there). A ledger before kept the
// marks in a key of their own (P{gb}:marks:<number>), packed by
// valuecodec.Marks; those still read.

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
	return valuecodec.PackCaseWithMarks(plain, marks)
}

// splitCase returns the JSON of a stored case and of the figure marks
// stored with it (nil when they are in a key of their own).
func splitCase(raw []byte) (plain, marks []byte, err error) { return valuecodec.SplitCase(raw) }

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
	return valuecodec.Marks.Pack(plain)
}

// decodeMarks reads stored figure marks.
func decodeMarks(raw []byte, m *core.FigureMarks) error {
	plain, err := valuecodec.Marks.Unpack(raw)
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
	return valuecodec.PackCaseWithMarks(plain, marks)
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
