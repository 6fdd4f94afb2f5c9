package main

import (
	"cmp"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"taxiihub/internal/admin"
)

// TAXII clients are given a collection's URL by id, never by alias: taxii2-client (the OASIS Python
// client) reads the collection resource at the URL it was given and refuses it unless the
// resource's id appears in that URL ("The collection '<id>' does not match the url for queries").
// No answer at an alias URL can satisfy it, a redirect included, since the client keeps the URL it
// was given; so the hub serves alias URLs for people (curl, the README's walk-through) and taxiictl
// prints the id URL to hand to partners.

func collectionURL(inv *invocation) error {
	base := inv.fs.String("base", "", "the hub's TAXII base URL as partners reach it (default: the URL taxiictl talks to)")
	args, err := inv.parse(2, 2)
	if err != nil {
		return err
	}
	taxiiBase := cmp.Or(*base, *inv.url, inv.getenv("TAXIIHUB_URL"), defaultURL)
	if u, err := url.Parse(taxiiBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("--base %q is not an http or https URL", taxiiBase)
	}
	var res struct {
		Collections []admin.Collection `json:"collections"`
	}
	if err := inv.call(http.MethodGet, "/admin/partnerships/"+seg(args[0])+"/collections/", nil, &res); err != nil {
		return err
	}
	for _, c := range res.Collections {
		if c.ID != args[1] && (c.Alias == "" || c.Alias != args[1]) {
			continue
		}
		u := strings.TrimSuffix(taxiiBase, "/") + collectionPath(args[0], c.ID)
		return inv.output(map[string]string{"url": u, "id": c.ID, "alias": c.Alias}, func(w io.Writer) { fmt.Fprintln(w, u) })
	}
	return &refusedError{status: http.StatusNotFound, body: errorBody{Title: "Not found",
		Description: fmt.Sprintf("partnership %s has no collection %s", args[0], args[1])}}
}
