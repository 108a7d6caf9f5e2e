package awsproto

import (
	"encoding/json"
	"encoding/xml"
	"strconv"
	"time"
)

// Timestamp is a time that awsJson1.1 and restJson1 send as epoch seconds
// and awsQuery sends as ISO-8601.
type Timestamp time.Time

func (t Timestamp) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*t = Timestamp(time.UnixMilli(int64(f * 1000)).UTC())
	return nil
}

// MarshalXML writes t as awsQuery services do: ISO-8601 in UTC.
func (t Timestamp) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(time.Time(t).UTC().Format(time.RFC3339), start)
}

// Time returns t as a time.Time.
func (t Timestamp) Time() time.Time { return time.Time(t) }

// TimestampOf converts t; a zero time gives nil so it is left out of a response.
func TimestampOf(t time.Time) *Timestamp {
	if t.IsZero() {
		return nil
	}
	ts := Timestamp(t)
	return &ts
}
