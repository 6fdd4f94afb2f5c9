package requestlog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"taxiihub/internal/requestlog"
)

// lines decodes JSON log output, one record a line.
func lines(t *testing.T, out *bytes.Buffer) []map[string]any {
	t.Helper()
	var records []map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(out.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("log line is not JSON: %s", l)
		}
		records = append(records, r)
	}
	return records
}

func TestHandlerAddsTheRequestIDOfTheContext(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(requestlog.NewHandler(slog.NewJSONHandler(&out, nil))).With("component", "admin")
	ctx := requestlog.WithID(t.Context(), "trace-42")

	log.InfoContext(ctx, "operator action", "actor", "alice")
	log.InfoContext(t.Context(), "no request")
	log.Info("no context")

	records := lines(t, &out)
	if len(records) != 3 {
		t.Fatalf("%d records, want 3:\n%s", len(records), &out)
	}
	if got := records[0][requestlog.Key]; got != "trace-42" {
		t.Errorf("request_id = %v, want trace-42: %v", got, records[0])
	}
	if records[0]["actor"] != "alice" || records[0]["component"] != "admin" {
		t.Errorf("the record lost its own attributes: %v", records[0])
	}
	for _, r := range records[1:] {
		if _, ok := r[requestlog.Key]; ok {
			t.Errorf("a record without a request in its context names one: %v", r)
		}
	}
}

func TestWrappingTwiceNamesTheRequestOnce(t *testing.T) {
	var out bytes.Buffer
	h := requestlog.NewHandler(slog.NewJSONHandler(&out, nil))
	if again := requestlog.NewHandler(h); again != h {
		t.Fatal("wrapping a Handler made a second one")
	}
	slog.New(requestlog.NewHandler(h)).InfoContext(requestlog.WithID(t.Context(), "trace-42"), "once")
	if n := strings.Count(out.String(), `"request_id"`); n != 1 {
		t.Errorf("request_id appears %d times: %s", n, &out)
	}
}

func TestIDOfAContextWithout(t *testing.T) {
	if id := requestlog.ID(context.Background()); id != "" {
		t.Errorf("ID of a bare context = %q", id)
	}
}
