package console

import (
	"fmt"
	"testing"
)

// The graph draws up to maxGraphNodes references around the object, each labelled by its property,
// and nothing for an object that refers to none.
func TestGraphOfAnObjectsReferences(t *testing.T) {
	if g := graphOf("indicator--1", nil); g != nil {
		t.Errorf("graph of an object without references: %+v", g)
	}
	var rel []relation
	for i := range 20 {
		rel = append(rel, relation{Property: "object_refs", Ref: fmt.Sprintf("indicator--%08d-0000-4000-8000-000000000000", i)})
	}
	g := graphOf("report--12345678-0000-4000-8000-000000000000", rel)
	if g.Center != "report--12345678" || len(g.Nodes) != maxGraphNodes || g.Nodes[0].Label != "indicator--00000000" ||
		g.Nodes[0].Property != "object_refs" {
		t.Fatalf("graph: %+v", g)
	}
	for _, n := range g.Nodes {
		if n.X < 0 || n.X > g.Width || n.Y < 0 || n.Y > g.Height {
			t.Errorf("node %+v lies outside the %dx%d drawing", n, g.Width, g.Height)
		}
	}
}
