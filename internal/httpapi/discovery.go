package httpapi

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

type discoveryResource struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	APIRoots    []string `json:"api_roots"`
}

// discovery lists the API roots. Their URLs are absolute paths, which clients resolve against the
// discovery URL, so the hub needs no knowledge of the host name it is reached under.
func (a *api) discovery(c *gin.Context) error {
	roots, err := a.store.APIRoots(c.Request.Context())
	if err != nil {
		return fmt.Errorf("httpapi: list API roots: %w", err)
	}
	res := discoveryResource{Title: a.title, Description: a.description, APIRoots: []string{}}
	for _, r := range roots {
		res.APIRoots = append(res.APIRoots, "/"+r.Slug+"/")
	}
	writeTAXII(c, http.StatusOK, res)
	return nil
}
