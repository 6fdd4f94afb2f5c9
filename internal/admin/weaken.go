package admin

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"taxiihub/internal/store"
)

// Weakenings are the ways a change loosens the sharing rules: more personal data, higher TLP, more
// members, more types or properties, onward sharing, wider roles or clearances. Operators make such
// a change on purpose or not at all, so the hub refuses it unless it is confirmed, and names each
// weakening in the refusal. Each function below compares one kind of rule before and after a change;
// a new rule is added to the function of its kind, and every way of changing it (the commands, the
// admin API's PUT and PATCH, apply) is then checked alike.

// personalDataStrictness orders the personal-data modes from the loosest to the strictest.
var personalDataStrictness = map[store.PersonalDataMode]int{
	store.PersonalDataAllow: 0, store.PersonalDataStrip: 1, store.PersonalDataReject: 2,
}

// PartnershipWeakenings lists how after loosens the partnership rules of before, for people; nil
// when it does not.
func PartnershipWeakenings(before, after store.PartnershipPolicy) []string {
	var out []string
	if personalDataStrictness[after.PersonalData] < personalDataStrictness[before.PersonalData] {
		out = append(out, fmt.Sprintf("personal data %s → %s", partnershipPolicyOf(before).PersonalData,
			partnershipPolicyOf(after).PersonalData))
	}
	switch added := setAdded(before.Jurisdictions, after.Jurisdictions); {
	case len(before.Jurisdictions) > 0 && len(after.Jurisdictions) == 0:
		out = append(out, "jurisdiction rule removed: members from anywhere (was "+strings.Join(before.Jurisdictions, ", ")+" only)")
	case len(before.Jurisdictions) > 0 && len(added) > 0:
		out = append(out, "jurisdictions widened: "+strings.Join(added, ", ")+" added")
	}
	if before.NoOnwardSharing && !after.NoOnwardSharing {
		out = append(out, "onward sharing allowed")
	}
	// A moderator added may release into every collection under partnership review what the
	// members post there: one more party whose say-so lets intelligence through. Removing one
	// only holds objects longer.
	if added := setAdded(before.Reviewers, after.Reviewers); len(added) > 0 {
		out = append(out, "reviewers added: "+strings.Join(added, ", ")+" may release what members post to collections under partnership review")
	}
	return out
}

// CollectionWeakenings lists how after loosens the collection rules of before; nil when it does not.
func CollectionWeakenings(before, after store.CollectionPolicy) []string {
	var out []string
	switch added := setAdded(before.AllowedTypes, after.AllowedTypes); {
	case len(before.AllowedTypes) > 0 && len(after.AllowedTypes) == 0:
		out = append(out, "allowed_types removed: any type accepted (was "+strings.Join(before.AllowedTypes, ", ")+" only)")
	case len(before.AllowedTypes) > 0 && len(added) > 0:
		out = append(out, "types allowed: "+strings.Join(added, ", "))
	}
	if removed := setAdded(after.DeniedProperties, before.DeniedProperties); len(removed) > 0 {
		out = append(out, "denied properties no longer refused: "+strings.Join(removed, ", "))
	}
	out = append(out, tlpWeakening("TLP ceiling", before.MaxTLP, after.MaxTLP)...)
	if before.Unmarked == store.UnmarkedRefuse && after.Unmarked != store.UnmarkedRefuse {
		out = append(out, "unmarked objects accepted as TLP:CLEAR (were refused)")
	}
	out = append(out, allowedPropertiesWeakenings(before.AllowedProperties, after.AllowedProperties)...)
	// Who reviews (own-member or partnership) and how long objects wait are a change of procedure,
	// not of what readers receive; dropping review releases everything without a second look.
	if before.Review != store.ReviewNone && after.Review == store.ReviewNone {
		out = append(out, "review removed: posted objects released without review (was "+string(before.Review)+")")
	}
	out = append(out, retentionWeakening(before.Retention, after.Retention)...)
	return out
}

// retentionWeakening reports objects kept longer than the arrangement said: a retention limits how
// long partners' data (personal data, in arrangements such as immigration's) is held, so removing
// or lengthening it loosens the rule. Shortening it is a stricter rule: the next sweep purges what
// has grown older than the new retention.
func retentionWeakening(before, after time.Duration) []string {
	switch {
	case before == 0:
		return nil
	case after == 0:
		return []string{"retention removed: objects kept for good (was " + FormatReviewTimeout(before) + ")"}
	case after > before:
		return []string{"retention lengthened " + FormatReviewTimeout(before) + " → " + FormatReviewTimeout(after)}
	}
	return nil
}

// allowedPropertiesWeakenings reports an allow-list removed, or paths it admits that it did not:
// a type without an entry carried the common properties only, so every path listed for it is new.
func allowedPropertiesWeakenings(before, after map[string][]string) []string {
	if len(before) == 0 {
		return nil
	}
	if len(after) == 0 {
		return []string{"allowed_properties removed: any property accepted"}
	}
	var out []string
	for _, typ := range slices.Sorted(maps.Keys(after)) {
		if added := setAdded(before[typ], after[typ]); len(added) > 0 {
			out = append(out, fmt.Sprintf("properties allowed on %s: %s", typ, strings.Join(added, ", ")))
		}
	}
	return out
}

// MembershipWeakenings lists how after loosens a member's standing before; nil when it does not.
// A membership removed stands as store.DefaultMembership: both roles, no TLP limit.
func MembershipWeakenings(before, after store.Membership) []string {
	var out []string
	if gained := roleGains(before.Role, after.Role); gained != "" {
		out = append(out, fmt.Sprintf("role of %s in %s widened %s → %s (%s)", before.MemberID, before.APIRoot,
			before.Role, after.Role, gained))
	}
	out = append(out, tlpWeakening("clearance of "+before.MemberID+" in "+before.APIRoot, before.Clearance, after.Clearance)...)
	return out
}

// roleGains names what role after may do that before may not, or "".
func roleGains(before, after store.Role) string {
	var gains []string
	if after.CanRead() && !before.CanRead() {
		gains = append(gains, "may now read")
	}
	if after.CanPublish() && !before.CanPublish() {
		gains = append(gains, "may now publish")
	}
	return strings.Join(gains, ", ")
}

// tlpWeakening reports a TLP limit raised or removed.
func tlpWeakening(what string, before, after store.TLP) []string {
	switch {
	case before == store.TLPNone:
		return nil
	case after == store.TLPNone:
		return []string{fmt.Sprintf("%s removed (was %s)", what, tlpName(before))}
	case after > before:
		return []string{fmt.Sprintf("%s raised %s → %s", what, tlpName(before), tlpName(after))}
	}
	return nil
}

func tlpName(t store.TLP) string { return "TLP:" + strings.ToUpper(t.String()) }

// setAdded lists the values of after missing from before, in after's order.
func setAdded(before, after []string) []string {
	var out []string
	for _, v := range after {
		if !slices.Contains(before, v) {
			out = append(out, v)
		}
	}
	return out
}

// refuseWeakening is the refusal of an unconfirmed change that weakens the rules of what, or nil when
// the change weakens nothing or is confirmed.
func refuseWeakening(what string, weakenings []string, confirmed bool) error {
	if len(weakenings) == 0 || confirmed {
		return nil
	}
	return &Error{Kind: Weakens, Problems: weakenings, Message: fmt.Sprintf(
		"the change weakens the rules of %s; if that is intended, repeat it confirmed "+
			"(taxiictl --confirm-weaken, or confirm_weaken=true in the admin API)", what)}
}
