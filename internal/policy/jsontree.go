package policy

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// IAM refuses a document whose object repeats a key, which encoding/json's
// Unmarshal would silently resolve; so documents are read token by token into
// this tree, keeping key order and noticing duplicates.

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

type jsonValue struct {
	kind    jsonKind
	str     string // a string, or a number as written
	boolean bool
	items   []jsonValue
	members []jsonMember
}

type jsonMember struct {
	key   string
	value jsonValue
}

// maxJSONDepth is far beyond any policy's nesting (five levels) and keeps a
// hostile document from recursing deeply.
const maxJSONDepth = 32

var errJSON = errors.New("invalid policy JSON")

func decodeJSON(doc string) (jsonValue, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	v, err := readJSON(dec, 0)
	if err != nil {
		return jsonValue{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return jsonValue{}, errJSON // trailing data after the document
	}
	return v, nil
}

func readJSON(dec *json.Decoder, depth int) (jsonValue, error) {
	if depth > maxJSONDepth {
		return jsonValue{}, errJSON
	}
	tok, err := dec.Token()
	if err != nil {
		return jsonValue{}, errJSON
	}
	switch t := tok.(type) {
	case nil:
		return jsonValue{kind: jsonNull}, nil
	case bool:
		return jsonValue{kind: jsonBool, boolean: t}, nil
	case json.Number:
		return jsonValue{kind: jsonNumber, str: t.String()}, nil
	case string:
		return jsonValue{kind: jsonString, str: t}, nil
	case json.Delim:
		switch t {
		case '[':
			v := jsonValue{kind: jsonArray}
			for dec.More() {
				item, err := readJSON(dec, depth+1)
				if err != nil {
					return jsonValue{}, err
				}
				v.items = append(v.items, item)
			}
			if _, err := dec.Token(); err != nil {
				return jsonValue{}, errJSON
			}
			return v, nil
		case '{':
			v := jsonValue{kind: jsonObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return jsonValue{}, errJSON
				}
				key, ok := kt.(string)
				if !ok {
					return jsonValue{}, errJSON
				}
				for _, m := range v.members {
					if m.key == key {
						return jsonValue{}, errJSON
					}
				}
				val, err := readJSON(dec, depth+1)
				if err != nil {
					return jsonValue{}, err
				}
				v.members = append(v.members, jsonMember{key: key, value: val})
			}
			if _, err := dec.Token(); err != nil {
				return jsonValue{}, errJSON
			}
			return v, nil
		}
	}
	return jsonValue{}, errJSON
}

func (v *jsonValue) get(key string) (*jsonValue, bool) {
	for i := range v.members {
		if v.members[i].key == key {
			return &v.members[i].value, true
		}
	}
	return nil, false
}
