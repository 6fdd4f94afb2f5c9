package server

import (
	"os"
	"testing"

	"taxiihub/internal/httpapi"
)

func TestMain(m *testing.M) {
	httpapi.UseReleaseMode()
	os.Exit(m.Run())
}
