package pattern

import (
	"fmt"
	"strings"
)

// MaxNesting is how deeply brackets and parentheses may nest. Real patterns stay within a few
// levels; the limit keeps hostile input from driving the recursive parser arbitrarily deep.
const MaxNesting = 64

// Parse parses a STIX 2.1 pattern and applies the semantic checks of the OASIS pattern validator:
// hash values compared with hashes.<algorithm> must be well formed, and a qualifier type may be
// applied only once directly to a [...] expression. Timestamps must also be real calendar
// instants (see the package documentation for this and other differences from the OASIS tools).
//
// On failure the error is a [Problems] holding the first syntax error, or every semantic problem
// (up to a limit), and the returned pattern is nil. Parse never panics and runs in time linear in
// the length of s.
func Parse(s string) (*Pattern, error) {
	p := parser{src: s, lx: lexer{src: s}}
	root := p.pattern()
	if p.err != nil {
		return nil, Problems{*p.err}
	}
	pat := &Pattern{Root: root, src: s}
	if problems := pat.validatorProblems(); len(problems) > 0 {
		return nil, problems
	}
	return pat, nil
}

// parser is a recursive-descent parser for STIXPattern.g4. The grammar's left-recursive rules
// are chains of one operator, which the parser reads with loops; only brackets and parentheses
// recurse. It stops at the first error.
type parser struct {
	src   string
	lx    lexer
	tok   token // the current, not yet consumed token
	depth int   // open brackets and parentheses
	err   *Problem
}

func (p *parser) advance()            { p.tok = p.lx.next() }
func (p *parser) text(t token) string { return p.src[t.pos:t.end] }
func (p *parser) failed() bool        { return p.err != nil }

func (p *parser) fail(code Code, offset int, format string, args ...any) {
	if p.err == nil {
		problem := newProblem(p.src, code, offset, format, args...)
		p.err = &problem
	}
}

// unexpected reports that the current token cannot appear here. A lexical error wins, because it
// explains the token better than the grammar can.
func (p *parser) unexpected(expected string) {
	if p.tok.kind == tokInvalid {
		if p.err == nil {
			p.err = p.lx.err
		}
		return
	}
	p.fail(CodeSyntax, p.tok.pos, "%s, found %s%s", expected, p.describe(p.tok), p.hint(p.tok))
}

func (p *parser) describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "the end of the pattern"
	case tokString, tokHex, tokBinary, tokTimestamp:
		return "the constant " + truncate(p.text(t))
	}
	return "'" + truncate(p.text(t)) + "'"
}

// hint adds advice for the mistakes people make most: keywords and booleans in the wrong case.
func (p *parser) hint(t token) string {
	if t.kind != tokIdent {
		return ""
	}
	word := p.text(t)
	if upper := strings.ToUpper(word); upper != word {
		if kind, ok := keywordKind(upper); ok && kind != tokBool {
			return fmt.Sprintf(" (keywords are uppercase: %s)", upper)
		}
	}
	if lower := strings.ToLower(word); lower != word && (lower == "true" || lower == "false") {
		return fmt.Sprintf(" (booleans are lowercase: %s)", lower)
	}
	return ""
}

func (p *parser) enter(open int) bool {
	if p.depth >= MaxNesting {
		p.fail(CodeTooDeep, open, "brackets and parentheses nest more than %d levels deep", MaxNesting)
		return false
	}
	p.depth++
	return true
}

func (p *parser) leave() { p.depth-- }

// pattern : observationExpressions EOF
func (p *parser) pattern() ObservationExpr {
	p.advance()
	switch p.tok.kind {
	case tokEOF:
		p.fail(CodeSyntax, p.tok.pos, "the pattern is empty; it needs an observation expression such as [file:name = 'a.exe']")
		return nil
	case tokLBracket, tokLParen:
	default:
		p.unexpected("a pattern must start with '[', which opens an observation expression such as [file:name = 'a.exe'], or with '('")
		return nil
	}
	root := p.observationChain(FollowedBy)
	if p.failed() {
		return nil
	}
	if p.tok.kind != tokEOF {
		p.trailing()
		return nil
	}
	return root
}

// trailing reports the token found where the pattern should have ended.
func (p *parser) trailing() {
	t := p.tok
	switch {
	case t.kind == tokRBracket:
		p.fail(CodeSyntax, t.pos, "unexpected ']' with no '[' before it to close")
	case t.kind == tokRParen:
		p.fail(CodeSyntax, t.pos, "unexpected ')' with no '(' before it to close")
	case t.kind == tokLAST || t.kind == tokIdent && isUpperWord(p.text(t)):
		p.fail(CodeSyntax, t.pos, "unknown qualifier '%s'; the qualifiers are WITHIN <seconds> SECONDS, REPEATS <count> TIMES and START t'…' STOP t'…'", truncate(p.text(t)))
	default:
		p.unexpected("expected AND, OR, FOLLOWEDBY, a qualifier (WITHIN, REPEATS, START) or the end of the pattern")
	}
}

func isUpperWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return s != ""
}

// observationChain reads the chains of observationExpressions (FOLLOWEDBY),
// observationExpressionOr (OR) and observationExpressionAnd (AND), loosest first.
func (p *parser) observationChain(op LogicalOp) ObservationExpr {
	operand := func() ObservationExpr {
		switch op {
		case FollowedBy:
			return p.observationChain(Or)
		case Or:
			return p.observationChain(And)
		}
		return p.observation()
	}
	operands, ok := chain(p, op, operand)
	switch {
	case !ok:
		return nil
	case len(operands) == 1:
		return operands[0]
	}
	return &ObservationOperation{Op: op, Operands: operands}
}

// chain reads operand (op operand)*. A lone operand comes back alone, even when reading it failed,
// so that the caller returns it as it is; a failure after op yields ok false.
func chain[E any](p *parser, op LogicalOp, operand func() E) (operands []E, ok bool) {
	operands = []E{operand()}
	if p.failed() {
		return operands, true
	}
	for p.tok.kind == operatorToken(op) {
		p.advance()
		next := operand()
		if p.failed() {
			return nil, false
		}
		operands = append(operands, next)
	}
	return operands, true
}

func operatorToken(op LogicalOp) tokenKind {
	switch op {
	case FollowedBy:
		return tokFOLLOWEDBY
	case Or:
		return tokOR
	}
	return tokAND
}

// unclosedParen begins the error for a parenthesis never closed; the column it opened at follows.
const unclosedParen = "expected ')' to close the parenthesis opened at "

// enclosed reads, with inner, what lies between the opening token the parser is at and a token of
// kind closing, counting the nesting against its limit. ok is false when parsing failed, the reason
// reported: unclosed, followed by the opening's column, when the closing token is missing.
func enclosed[T any](p *parser, closing tokenKind, unclosed string, inner func() T) (_ T, ok bool) {
	var none T
	open := p.tok.pos
	if !p.enter(open) {
		return none, false
	}
	p.advance()
	v := inner()
	if p.failed() {
		return none, false
	}
	if p.tok.kind != closing {
		p.unexpected(unclosed + columnOf(p.src, open))
		return none, false
	}
	p.leave()
	p.advance()
	return v, true
}

// observation : '[' comparisonExpression ']' qualifier* | '(' observationExpressions ')' qualifier*
func (p *parser) observation() ObservationExpr {
	open := p.tok.pos
	switch p.tok.kind {
	case tokLBracket:
		cmp, ok := enclosed(p, tokRBracket, "expected ']' to close the observation expression opened at ",
			func() ComparisonExpr { return p.comparisonChain(Or) })
		if !ok {
			return nil
		}
		obs := &Observation{LBracket: open, Comparison: cmp}
		obs.Qualifiers = p.qualifiers()
		return obs
	case tokLParen:
		inner, ok := enclosed(p, tokRParen, unclosedParen, func() ObservationExpr { return p.observationChain(FollowedBy) })
		if !ok {
			return nil
		}
		group := &ObservationGroup{LParen: open, Inner: inner}
		group.Qualifiers = p.qualifiers()
		return group
	}
	p.unexpected("expected an observation expression, which starts with '[' or '('")
	return nil
}

func (p *parser) qualifiers() []Qualifier {
	var qs []Qualifier
	for !p.failed() {
		var q Qualifier
		switch p.tok.kind {
		case tokWITHIN:
			q = p.within()
		case tokREPEATS:
			q = p.repeats()
		case tokSTART:
			q = p.startStop()
		default:
			return qs
		}
		if qs == nil {
			qs = make([]Qualifier, 0, 2) // more than two qualifiers on one expression is rare
		}
		qs = append(qs, q)
	}
	return nil
}

// within : WITHIN (IntPosLiteral | FloatPosLiteral) SECONDS
func (p *parser) within() Qualifier {
	q := Qualifier{Kind: Within, Pos: p.tok.pos}
	p.advance()
	t := p.tok
	switch {
	case (t.kind == tokInt || t.kind == tokFloat) && p.src[t.pos] == '-':
		p.fail(CodeSyntax, t.pos, "WITHIN needs a positive number of seconds, found %s", p.describe(t))
		return q
	case t.kind != tokInt && t.kind != tokFloat:
		p.unexpected("expected a number of seconds after WITHIN")
		return q
	}
	return p.countIn(q, t, tokSECONDS, "expected SECONDS after WITHIN %s (seconds are the only unit)")
}

// countIn completes q with the number t, which the parser is at, and the unit keyword that must
// follow it; missing is the error when it does not, given the number as written.
func (p *parser) countIn(q Qualifier, t token, unit tokenKind, missing string) Qualifier {
	q.Value = newLiteral(p.src, t)
	p.advance()
	if p.tok.kind != unit {
		p.unexpected(fmt.Sprintf(missing, q.Value.Raw))
		return q
	}
	p.advance()
	return q
}

// repeats : REPEATS IntPosLiteral TIMES
func (p *parser) repeats() Qualifier {
	q := Qualifier{Kind: Repeats, Pos: p.tok.pos}
	p.advance()
	t := p.tok
	switch {
	case t.kind == tokInt && p.src[t.pos] == '-':
		p.fail(CodeSyntax, t.pos, "REPEATS needs a positive count, found %s", p.describe(t))
		return q
	case t.kind == tokFloat:
		p.fail(CodeSyntax, t.pos, "REPEATS needs a whole number, found %s", p.describe(t))
		return q
	case t.kind != tokInt:
		p.unexpected("expected a count after REPEATS")
		return q
	}
	return p.countIn(q, t, tokTIMES, "expected TIMES after REPEATS %s")
}

// startStop : START TimestampLiteral STOP TimestampLiteral
func (p *parser) startStop() Qualifier {
	q := Qualifier{Kind: StartStop, Pos: p.tok.pos}
	p.advance()
	if q.Start = p.timestamp("START"); p.failed() {
		return q
	}
	if p.tok.kind != tokSTOP {
		p.unexpected("expected STOP after START " + q.Start.Raw)
		return q
	}
	p.advance()
	q.Stop = p.timestamp("STOP")
	return q
}

func (p *parser) timestamp(keyword string) Literal {
	t := p.tok
	if t.kind != tokTimestamp {
		p.unexpected(fmt.Sprintf("expected a timestamp constant such as t'2016-06-01T00:00:00Z' after %s", keyword))
		return Literal{}
	}
	p.advance()
	return newLiteral(p.src, t)
}

// comparisonChain reads the chains of comparisonExpression (OR) and comparisonExpressionAnd (AND).
func (p *parser) comparisonChain(op LogicalOp) ComparisonExpr {
	operand := func() ComparisonExpr {
		if op == Or {
			return p.comparisonChain(And)
		}
		return p.comparisonTerm()
	}
	operands, ok := chain(p, op, operand)
	switch {
	case !ok:
		return nil
	case len(operands) == 1:
		return operands[0]
	}
	return &ComparisonOperation{Op: op, Operands: operands}
}

// comparisonTerm : propTest, which includes '(' comparisonExpression ')' and NOT? EXISTS objectPath
func (p *parser) comparisonTerm() ComparisonExpr {
	t := p.tok
	switch t.kind {
	case tokLParen:
		inner, ok := enclosed(p, tokRParen, unclosedParen, func() ComparisonExpr { return p.comparisonChain(Or) })
		if !ok {
			return nil
		}
		return &ComparisonGroup{LParen: t.pos, Inner: inner}
	case tokNOT:
		p.advance()
		if p.tok.kind != tokEXISTS {
			p.unexpected("expected EXISTS after a leading NOT (any other operator is negated after the object path, as in file:name NOT = 'a.exe')")
			return nil
		}
		return p.exists(t.pos, true)
	case tokEXISTS:
		return p.exists(t.pos, false)
	case tokIdent, tokIdentHyphen:
		return p.propertyTest()
	}
	p.unexpected("expected a comparison such as file:name = 'a.exe'")
	return nil
}

// exists reads EXISTS objectPath; start is where NOT or EXISTS began.
func (p *parser) exists(start int, negated bool) ComparisonExpr {
	p.advance()
	path := p.objectPath()
	if p.failed() {
		return nil
	}
	return &Comparison{Path: path, Negated: negated, OpPos: start, Operator: Exists}
}

// propertyTest : objectPath NOT? operator constant-or-set
func (p *parser) propertyTest() ComparisonExpr {
	path := p.objectPath()
	if p.failed() {
		return nil
	}
	c := &Comparison{Path: path}
	if p.tok.kind == tokNOT {
		c.Negated = true
		p.advance()
	}
	op := p.tok
	c.OpPos = op.pos
	switch op.kind {
	case tokEQ, tokNEQ, tokLT, tokLE, tokGT, tokGE, tokLIKE, tokMATCHES, tokISSUBSET, tokISSUPERSET:
		c.Operator = compareOpOf(op.kind)
		p.advance()
		switch c.Operator {
		case Equal, NotEqual:
			c.Value = p.constant(op, true)
		case Less, LessOrEqual, Greater, GreaterOrEqual:
			c.Value = p.constant(op, false)
		default:
			c.Value = p.stringConstant(op)
		}
	case tokIN:
		c.Operator = In
		p.advance()
		c.Set = p.set(op)
	case tokEXISTS:
		p.fail(CodeSyntax, op.pos, "EXISTS goes before the object path, as in EXISTS %s", truncate(path.String()))
	default:
		p.unexpected("expected a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET) after " + truncate(path.String()))
	}
	if p.failed() {
		return nil
	}
	return c
}

func compareOpOf(kind tokenKind) CompareOp {
	switch kind {
	case tokEQ:
		return Equal
	case tokNEQ:
		return NotEqual
	case tokLT:
		return Less
	case tokLE:
		return LessOrEqual
	case tokGT:
		return Greater
	case tokGE:
		return GreaterOrEqual
	case tokLIKE:
		return Like
	case tokMATCHES:
		return Matches
	case tokISSUBSET:
		return IsSubset
	}
	return IsSuperset
}

// constant reads primitiveLiteral, or orderableLiteral when booleans are not allowed. op is the
// operator the constant follows; it is only used to word errors.
func (p *parser) constant(op token, allowBool bool) Literal {
	t := p.tok
	switch t.kind {
	case tokString, tokInt, tokFloat, tokHex, tokBinary, tokTimestamp:
		p.advance()
		return newLiteral(p.src, t)
	case tokBool:
		if allowBool {
			p.advance()
			return newLiteral(p.src, t)
		}
		p.fail(CodeSyntax, t.pos, "booleans have no order; compare them with = or !=, not %s", p.text(op))
	case tokIdent, tokIdentHyphen:
		if p.hint(t) != "" {
			p.unexpected("expected a constant " + p.constantPlace(op))
		} else {
			p.fail(CodeSyntax, t.pos, "expected a constant %s, found '%s'; strings must be in single quotes", p.constantPlace(op), truncate(p.text(t)))
		}
	default:
		p.unexpected("expected a constant " + p.constantPlace(op))
	}
	return Literal{}
}

func (p *parser) constantPlace(op token) string {
	if op.kind == tokIN {
		return "in the set after IN"
	}
	return "after '" + p.text(op) + "'"
}

func (p *parser) stringConstant(op token) Literal {
	t := p.tok
	if t.kind != tokString {
		p.unexpected("expected a string in single quotes after " + p.text(op))
		return Literal{}
	}
	p.advance()
	return newLiteral(p.src, t)
}

// set : '(' ')' | '(' primitiveLiteral (',' primitiveLiteral)* ')'
func (p *parser) set(in token) []Literal {
	open := p.tok.pos
	if p.tok.kind != tokLParen {
		p.unexpected("expected '(' to open the set of values after IN")
		return nil
	}
	p.advance()
	if p.tok.kind == tokRParen {
		p.advance()
		return nil
	}
	var members []Literal
	for {
		lit := p.constant(in, true)
		if p.failed() {
			return nil
		}
		members = append(members, lit)
		switch p.tok.kind {
		case tokComma:
			p.advance()
			continue
		case tokRParen:
			p.advance()
			return members
		}
		p.unexpected("expected ',' or ')' in the set opened at " + columnOf(p.src, open))
		return nil
	}
}

// objectPath : objectType ':' firstPathComponent objectPathComponent*
func (p *parser) objectPath() ObjectPath {
	t := p.tok
	if t.kind != tokIdent && t.kind != tokIdentHyphen {
		p.unexpected("expected an object path such as file:name")
		return ObjectPath{}
	}
	path := ObjectPath{Pos: t.pos, ObjectType: p.text(t)}
	p.advance()
	if p.tok.kind != tokColon {
		p.unexpected(fmt.Sprintf("expected ':' after the object type '%s', as in %s:name", path.ObjectType, path.ObjectType))
		return ObjectPath{}
	}
	p.advance()
	step, ok := p.keyStep("':'")
	if !ok {
		return ObjectPath{}
	}
	// Most paths have one or two steps (file:name, file:hashes.MD5); room for two saves a regrowth.
	path.Steps = append(make([]PathStep, 0, 2), step)
	for {
		switch p.tok.kind {
		case tokDot:
			p.advance()
			step, ok := p.keyStep("'.'")
			if !ok {
				return ObjectPath{}
			}
			path.Steps = append(path.Steps, step)
		case tokLBracket:
			step, ok := p.indexStep()
			if !ok {
				return ObjectPath{}
			}
			path.Steps = append(path.Steps, step)
		default:
			return path
		}
	}
}

// keyStep reads a property name or a quoted dictionary key.
func (p *parser) keyStep(after string) (PathStep, bool) {
	t := p.tok
	switch t.kind {
	case tokIdent:
		p.advance()
		return PathStep{Kind: KeyStep, Pos: t.pos, Key: p.text(t)}, true
	case tokString:
		p.advance()
		lit := newLiteral(p.src, t)
		return PathStep{Kind: KeyStep, Pos: t.pos, Key: lit.Str, Quoted: true}, true
	case tokIdentHyphen:
		name := p.text(t)
		p.fail(CodeSyntax, t.pos, "'%s' contains a hyphen, which an unquoted property name cannot; quote it: '%s'", truncate(name), truncate(name))
	default:
		p.unexpected("expected a property name after " + after)
	}
	return PathStep{}, false
}

// indexStep reads [n] or [*].
func (p *parser) indexStep() (PathStep, bool) {
	open := p.tok.pos
	p.advance()
	t := p.tok
	var step PathStep
	switch t.kind {
	case tokInt:
		step = PathStep{Kind: IndexStep, Pos: open, Index: p.text(t)}
	case tokAsterisk:
		step = PathStep{Kind: AnyIndexStep, Pos: open}
	default:
		p.unexpected("expected a list index or '*' after '['")
		return PathStep{}, false
	}
	p.advance()
	if p.tok.kind != tokRBracket {
		p.unexpected("expected ']' to close the list index opened at " + columnOf(p.src, open))
		return PathStep{}, false
	}
	p.advance()
	return step, true
}
