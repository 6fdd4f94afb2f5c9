package httpapi

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

const (
	taxiiType = "application/taxii+json"
	stixType  = "application/stix+json"
)

// acceptsTAXII reports whether an Accept header admits TAXII 2.1: a list of media ranges, each with
// optional parameters and a q-value, where application/taxii+json counts unless its version is not
// 2.1 or its q is 0. An absent header admits anything (RFC 9110); wildcards alone do not admit TAXII,
// since a client that cannot name TAXII would not understand what it gets.
func acceptsTAXII(header string) bool {
	if strings.TrimSpace(header) == "" {
		return true
	}
	for _, item := range strings.Split(header, ",") {
		mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(item))
		if err != nil || mediaType != taxiiType {
			continue
		}
		if v, ok := params["version"]; ok && v != "2.1" {
			continue
		}
		if q, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
				continue
			}
		}
		return true
	}
	return false
}

// acceptableBody reports whether a request body's Content-Type is one the hub reads: the TAXII 2.1
// envelope type, or the STIX 2.1 type for bundles, unversioned or at version 2.1.
func acceptableBody(header string) bool {
	mediaType, params, err := mime.ParseMediaType(header)
	if err != nil || (mediaType != taxiiType && mediaType != stixType) {
		return false
	}
	v, ok := params["version"]
	return !ok || v == "2.1"
}

// negotiate refuses requests that cannot take a TAXII answer before any work is done.
func (a *api) negotiate(c *gin.Context) {
	if !acceptsTAXII(c.GetHeader("Accept")) {
		writeError(c, a.log, &requestError{status: http.StatusNotAcceptable, code: "not-acceptable",
			title: "Not acceptable", description: "This server answers with " + TAXIIMediaType + "; send it in Accept."})
		c.Abort()
		return
	}
	c.Next()
}
