package pattern

import (
	"fmt"
	"strconv"
	"strings"
)

// Pattern is a parsed STIX 2.1 pattern.
type Pattern struct {
	Root ObservationExpr
	src  string
}

// Source returns the text the pattern was parsed from.
func (p *Pattern) Source() string { return p.src }

// Position returns the 1-based line and character column of a byte offset in the pattern, such
// as the Pos of a path or a literal, for messages about it.
func (p *Pattern) Position(offset int) (line, column int) { return lineColumn(p.src, offset) }

// String renders the pattern in a canonical spacing. Parsing the result yields a pattern with the
// same structure and the same String.
func (p *Pattern) String() string {
	var b strings.Builder
	p.Root.render(&b)
	return b.String()
}

// EachComparison calls fn for every comparison of the pattern in source order: Comparisons
// without the slice, for checks that run on every indicator.
func (p *Pattern) EachComparison(fn func(*Comparison)) { walkObservations(p.Root, fn) }

// Comparisons returns every comparison of the pattern in source order.
func (p *Pattern) Comparisons() []*Comparison {
	var out []*Comparison
	walkObservations(p.Root, func(c *Comparison) { out = append(out, c) })
	return out
}

// LogicalOp joins operands: And and Or at both levels, FollowedBy between observations only.
type LogicalOp uint8

// The logical operators, from the loosest-binding to the tightest.
const (
	FollowedBy LogicalOp = iota + 1
	Or
	And
)

func (op LogicalOp) String() string {
	switch op {
	case FollowedBy:
		return "FOLLOWEDBY"
	case Or:
		return "OR"
	case And:
		return "AND"
	}
	return fmt.Sprintf("LogicalOp(%d)", uint8(op))
}

// ObservationExpr is an observation expression: *Observation, *ObservationGroup or
// *ObservationOperation.
type ObservationExpr interface {
	Pos() int
	String() string
	render(b *strings.Builder)
}

// Observation is [comparison-expression] with the qualifiers written directly after it.
type Observation struct {
	LBracket   int
	Comparison ComparisonExpr
	Qualifiers []Qualifier
}

// ObservationGroup is (observation-expressions) with the qualifiers written after the ')'.
// Groups are kept because they change meaning: a qualifier type may be repeated on a group but
// not on an Observation.
type ObservationGroup struct {
	LParen     int
	Inner      ObservationExpr
	Qualifiers []Qualifier
}

// ObservationOperation is a chain of two or more observation expressions joined by one operator,
// such as a AND b AND c. All three operators are left-associative, so a chain needs no nesting.
type ObservationOperation struct {
	Op       LogicalOp
	Operands []ObservationExpr
}

func (o *Observation) Pos() int          { return o.LBracket }
func (g *ObservationGroup) Pos() int     { return g.LParen }
func (o *ObservationOperation) Pos() int { return o.Operands[0].Pos() }

func (o *Observation) String() string          { return renderString(o) }
func (g *ObservationGroup) String() string     { return renderString(g) }
func (o *ObservationOperation) String() string { return renderString(o) }

func (o *Observation) render(b *strings.Builder) {
	b.WriteByte('[')
	o.Comparison.render(b)
	b.WriteByte(']')
	renderQualifiers(b, o.Qualifiers)
}

func (g *ObservationGroup) render(b *strings.Builder) {
	b.WriteByte('(')
	g.Inner.render(b)
	b.WriteByte(')')
	renderQualifiers(b, g.Qualifiers)
}

// render writes operands without parentheses of its own: the parser puts an operand of looser
// binding than its operator only inside a group, which renders its own parentheses.
func (o *ObservationOperation) render(b *strings.Builder) {
	for i, e := range o.Operands {
		if i > 0 {
			b.WriteByte(' ')
			b.WriteString(o.Op.String())
			b.WriteByte(' ')
		}
		e.render(b)
	}
}

// QualifierKind is the type of a qualifier.
type QualifierKind uint8

// The qualifiers of the grammar.
const (
	Within QualifierKind = iota + 1
	Repeats
	StartStop
)

func (k QualifierKind) String() string {
	switch k {
	case Within:
		return "WITHIN"
	case Repeats:
		return "REPEATS"
	case StartStop:
		return "START/STOP"
	}
	return fmt.Sprintf("QualifierKind(%d)", uint8(k))
}

// Qualifier is WITHIN n SECONDS, REPEATS n TIMES or START t'..' STOP t'..'.
type Qualifier struct {
	Kind QualifierKind
	Pos  int
	// Value is the number of seconds (an IntLit or FloatLit) for Within, the count (an IntLit)
	// for Repeats.
	Value Literal
	// Start and Stop are the TimestampLit bounds of a StartStop qualifier.
	Start, Stop Literal
}

func (q Qualifier) String() string {
	switch q.Kind {
	case Within:
		return "WITHIN " + q.Value.String() + " SECONDS"
	case Repeats:
		return "REPEATS " + q.Value.String() + " TIMES"
	case StartStop:
		return "START " + q.Start.String() + " STOP " + q.Stop.String()
	}
	return q.Kind.String()
}

func renderQualifiers(b *strings.Builder, qs []Qualifier) {
	for _, q := range qs {
		b.WriteByte(' ')
		b.WriteString(q.String())
	}
}

// ComparisonExpr is the content of an observation: *Comparison, *ComparisonGroup or
// *ComparisonOperation.
type ComparisonExpr interface {
	Pos() int
	String() string
	render(b *strings.Builder)
}

// ComparisonGroup is (comparison-expression) inside an observation.
type ComparisonGroup struct {
	LParen int
	Inner  ComparisonExpr
}

// ComparisonOperation is a chain of two or more comparison expressions joined by And or Or.
type ComparisonOperation struct {
	Op       LogicalOp
	Operands []ComparisonExpr
}

// CompareOp is a comparison operator.
type CompareOp uint8

// The comparison operators. Exists takes no value; In takes a set; the others take one constant.
const (
	Equal CompareOp = iota + 1
	NotEqual
	Less
	LessOrEqual
	Greater
	GreaterOrEqual
	In
	Like
	Matches
	IsSubset
	IsSuperset
	Exists
)

func (op CompareOp) String() string {
	switch op {
	case Equal:
		return "="
	case NotEqual:
		return "!="
	case Less:
		return "<"
	case LessOrEqual:
		return "<="
	case Greater:
		return ">"
	case GreaterOrEqual:
		return ">="
	case In:
		return "IN"
	case Like:
		return "LIKE"
	case Matches:
		return "MATCHES"
	case IsSubset:
		return "ISSUBSET"
	case IsSuperset:
		return "ISSUPERSET"
	case Exists:
		return "EXISTS"
	}
	return fmt.Sprintf("CompareOp(%d)", uint8(op))
}

// Comparison tests one object path: Path [NOT] Operator Value, Path [NOT] IN (Set...), or
// [NOT] EXISTS Path.
type Comparison struct {
	Path    ObjectPath
	Negated bool
	// OpPos is the byte offset of the operator; for Exists, of NOT or EXISTS, which come first.
	OpPos    int
	Operator CompareOp
	Value    Literal   // the constant, unless Operator is In or Exists
	Set      []Literal // the members for In; empty for the empty set ()
}

// Values returns the constants the path is compared with: Value, the members of Set, or nothing
// for Exists.
func (c *Comparison) Values() []Literal {
	var out []Literal
	c.eachValue(func(l Literal) { out = append(out, l) })
	return out
}

// eachValue is Values without the allocation, for the checks that run on every parse.
func (c *Comparison) eachValue(fn func(Literal)) {
	switch c.Operator {
	case In:
		for _, l := range c.Set {
			fn(l)
		}
	case Exists:
	default:
		fn(c.Value)
	}
}

func (c *Comparison) Pos() int {
	if c.Operator == Exists {
		return c.OpPos
	}
	return c.Path.Pos
}

func (c *Comparison) String() string          { return renderString(c) }
func (g *ComparisonGroup) String() string     { return renderString(g) }
func (o *ComparisonOperation) String() string { return renderString(o) }
func (g *ComparisonGroup) Pos() int           { return g.LParen }
func (o *ComparisonOperation) Pos() int       { return o.Operands[0].Pos() }

func (c *Comparison) render(b *strings.Builder) {
	if c.Operator == Exists {
		if c.Negated {
			b.WriteString("NOT ")
		}
		b.WriteString("EXISTS ")
		c.Path.render(b)
		return
	}
	c.Path.render(b)
	if c.Negated {
		b.WriteString(" NOT")
	}
	b.WriteByte(' ')
	b.WriteString(c.Operator.String())
	b.WriteByte(' ')
	if c.Operator != In {
		b.WriteString(c.Value.String())
		return
	}
	b.WriteByte('(')
	for i, v := range c.Set {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v.String())
	}
	b.WriteByte(')')
}

func (g *ComparisonGroup) render(b *strings.Builder) {
	b.WriteByte('(')
	g.Inner.render(b)
	b.WriteByte(')')
}

func (o *ComparisonOperation) render(b *strings.Builder) {
	for i, e := range o.Operands {
		if i > 0 {
			b.WriteByte(' ')
			b.WriteString(o.Op.String())
			b.WriteByte(' ')
		}
		e.render(b)
	}
}

// ObjectPath is object-type:property followed by more steps, such as
// file:extensions.'windows-pebinary-ext'.sections[*].entropy.
type ObjectPath struct {
	Pos        int
	ObjectType string
	// Steps holds at least one step; the first is always a KeyStep naming a property of the
	// object type.
	Steps []PathStep
}

// Property returns the name of the top-level property the path starts with.
func (p ObjectPath) Property() string { return p.Steps[0].Key }

func (p ObjectPath) String() string {
	var b strings.Builder
	p.render(&b)
	return b.String()
}

func (p ObjectPath) render(b *strings.Builder) {
	b.WriteString(p.ObjectType)
	b.WriteByte(':')
	for i, s := range p.Steps {
		switch s.Kind {
		case KeyStep:
			if i > 0 {
				b.WriteByte('.')
			}
			if s.Quoted {
				b.WriteString(quote(s.Key))
			} else {
				b.WriteString(s.Key)
			}
		case IndexStep:
			b.WriteByte('[')
			b.WriteString(s.Index)
			b.WriteByte(']')
		case AnyIndexStep:
			b.WriteString("[*]")
		}
	}
}

// StepKind is the type of an object path step.
type StepKind uint8

// The kinds of object path steps.
const (
	KeyStep      StepKind = iota + 1 // .name or .'quoted-name'
	IndexStep                        // [2]
	AnyIndexStep                     // [*]
)

// PathStep is one step of an object path.
type PathStep struct {
	Kind StepKind
	Pos  int
	// Key is the property or dictionary key of a KeyStep, with quotes and escapes resolved.
	Key string
	// Quoted records that the key was written as a string, as in hashes.'SHA-256'.
	Quoted bool
	// Index is the integer of an IndexStep as written ("0", "-1", "+2"); see IndexValue.
	Index string
}

// IndexValue returns the list index of an IndexStep. The grammar puts no bound on indexes, so
// this fails for values outside the int64 range.
func (s PathStep) IndexValue() (int64, error) {
	if s.Kind != IndexStep {
		return 0, fmt.Errorf("pattern: path step is not a list index")
	}
	n, err := strconv.ParseInt(s.Index, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("pattern: list index %s: %w", s.Index, err)
	}
	return n, nil
}

func renderString(n interface{ render(*strings.Builder) }) string {
	var b strings.Builder
	n.render(&b)
	return b.String()
}

// walkObservations calls fn for every comparison under e, in source order. Its recursion depth is
// the nesting depth of the pattern, which the parser bounds by MaxNesting.
func walkObservations(e ObservationExpr, fn func(*Comparison)) {
	switch e := e.(type) {
	case *Observation:
		walkComparisons(e.Comparison, fn)
	case *ObservationGroup:
		walkObservations(e.Inner, fn)
	case *ObservationOperation:
		for _, o := range e.Operands {
			walkObservations(o, fn)
		}
	}
}

func walkComparisons(e ComparisonExpr, fn func(*Comparison)) {
	switch e := e.(type) {
	case *Comparison:
		fn(e)
	case *ComparisonGroup:
		walkComparisons(e.Inner, fn)
	case *ComparisonOperation:
		for _, o := range e.Operands {
			walkComparisons(o, fn)
		}
	}
}
