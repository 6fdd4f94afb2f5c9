package sharing

import (
	"taxiihub/internal/auth"
	"taxiihub/internal/store"
)

// rights are the caller's grant on a collection of root; seen is false when it holds none. The
// members collection, which holds the identities of the partnership's members, is no one's to grant:
// every member holding a grant anywhere in the partnership reads it, so that readers can tell who
// authored what, and no member writes into it, since only the hub speaks for who a member is. Being
// derived from the other grants, the rule cannot drift from them.
func rights(caller auth.Principal, root string, coll store.Collection) (read, write, seen bool) {
	if coll.Members {
		in := caller.InRoot(root)
		return in, false, in
	}
	return caller.Access(root, coll.ID)
}
