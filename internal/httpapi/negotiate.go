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

// acceptsTAXII reports whether an Accept header admits TAXII 2.1. The header is a list of media
// ranges, each with optional parameters and a q-value; as RFC 9110 (section 12.5.1) says, the most
// specific range that matches decides: application/taxii+json (at version 2.1, or unversioned), then
// application/*, then */*, and the answer is admitted when that range's q is above 0. So plain curl,
// which sends */*, is served TAXII, while an Accept naming only other types (text/html,
// application/json) still gets 406, and application/taxii+json;q=0 refuses TAXII even beside */*.
// An absent header admits anything.
func acceptsTAXII(header string) bool {
	if strings.TrimSpace(header) == "" {
		return true
	}
	// best is the specificity of the most specific matching range seen so far (0: none), and
	// admitted what that range says.
	best, admitted := 0, false
	for _, item := range strings.Split(header, ",") {
		mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(item))
		if err != nil {
			continue
		}
		specificity := 0
		switch mediaType {
		case taxiiType:
			if v, ok := params["version"]; ok && v != "2.1" {
				continue
			}
			specificity = 3
		case "application/*":
			specificity = 2
		case "*/*":
			specificity = 1
		default:
			continue
		}
		if specificity <= best {
			continue
		}
		best, admitted = specificity, positiveQ(params)
	}
	return admitted
}

// positiveQ reports whether a media range's q-value, 1 when absent, is above 0.
func positiveQ(params map[string]string) bool {
	q, ok := params["q"]
	if !ok {
		return true
	}
	f, err := strconv.ParseFloat(q, 64)
	return err == nil && f > 0
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
