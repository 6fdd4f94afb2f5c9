package main

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"taxiihub/internal/admin"
)

var sweepAction = action{"", "",
	"purge at once what retention no longer keeps: object versions past their collection's retention, statuses past the hub's", sweepNow}

// sweepNow asks the hub for the sweep it otherwise runs every --sweep-interval.
func sweepNow(inv *invocation) error {
	if _, err := inv.parse(0, 0); err != nil {
		return err
	}
	var r admin.SweepReport
	if err := inv.call(http.MethodPost, "/admin/sweep/", nil, &r); err != nil {
		return err
	}
	return inv.output(r, func(w io.Writer) {
		for _, c := range r.Collections {
			name := c.Collection
			if c.Alias != "" {
				name = c.Alias
			}
			fmt.Fprintf(w, "%s/%s: retention %s, %d object versions added before %s purged\n",
				c.Partnership, name, c.Retention, c.Purged, c.Before.Format(time.RFC3339))
		}
		fmt.Fprintf(w, "purged %d object versions and %d statuses (kept %s)\n", r.Purged, r.Statuses, r.StatusRetention)
	})
}
