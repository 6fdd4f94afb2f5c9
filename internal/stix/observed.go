package stix

import (
	"strconv"
)

// checkObservedData applies the observed-data rules: exactly one of object_refs and the
// deprecated objects dictionary, whose members are validated as SCOs in their own right.
func (c *objectCheck) checkObservedData() {
	objects, hasObjects := c.obj["objects"]
	switch {
	case hasObjects && has(c.obj, "object_refs"):
		c.r.errorf(CodeExclusive, at("objects"), "An observed-data has object_refs or objects, not both.")
	case !hasObjects && !has(c.obj, "object_refs"):
		c.r.errorf(CodeMissingOneOf, nil, "An observed-data needs object_refs (or, deprecated, objects).")
	}
	members, ok := objects.(map[string]any)
	if !ok {
		return // absent, or reported by the schema
	}
	c.r.warnf(CodeDeprecated, at("objects"), "objects is deprecated in STIX 2.1: send the observables as top-level objects and list them in object_refs.")
	for key, m := range members {
		where := at("objects", key)
		if n, err := strconv.Atoi(key); err != nil || n < 0 || strconv.Itoa(n) != key {
			c.r.warnf(CodeValueFormat, where, "The keys of objects should be non-negative integers written as strings (\"0\", \"1\"...); %s is not.", quote(key))
		}
		member, ok := m.(map[string]any)
		if !ok {
			continue // reported by the schema
		}
		if typ, _ := str(member, "type"); typ != "" && !kindOf(typ, member).isObservable() {
			c.r.errorf(CodeReferenceTarget, where.key("type"), "objects may only hold cyber-observable objects, not %s.", withArticle(typ))
			continue
		}
		var nested report
		mc := objectCheck{v: c.v, obj: member, r: &nested, embedded: members}
		mc.run()
		c.r.merge(where.pointer(), &nested)
	}
}

// checkEmbeddedReference checks a reference made by a member of an observed-data's objects
// dictionary: it names another key of that dictionary, whose object must be of a permitted
// type.
func (c *objectCheck) checkEmbeddedReference(where loc, v any, rule targetRule) {
	key, ok := v.(string)
	if !ok {
		return // reported by the schema
	}
	target, ok := c.embedded[key].(map[string]any)
	if !ok {
		c.r.errorf(CodeObservedReference, where, "%s refers to %s, which is not a key of the observed-data's objects.", where, quote(key))
		return
	}
	if typ, ok := str(target, "type"); ok && !rule.permits(typ) {
		c.r.errorf(CodeObservedReference, where, "%s must refer to %s; objects[%s] is %s.", where, rule.describe(), quote(key), withArticle(typ))
	}
}
