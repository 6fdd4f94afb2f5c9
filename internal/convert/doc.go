// Package convert turns what analysts hold (IOC lists, CSV files, MISP event exports) into STIX 2.1
// indicators, one per indicator of compromise, and lets STIX bundles through unchanged.
//
// It is pure: no I/O beyond the reader it is given, no clock beyond Options.Now, nothing of the
// hub's storage or HTTP. The command line converts offline with it, and the sharing layer settles
// the versions of what it produced against the collection before publishing.
//
// The recognisers are written here rather than taken from a library: the maintained Go IOC
// extractors find candidates in prose but neither refuse ambiguous lines nor produce STIX
// patterns, and the hub needs both (an analyst must be told about a line, never have it guessed).
// They stand on maintained parts: net/netip for addresses, golang.org/x/net/idna for international
// domain names and golang.org/x/net/publicsuffix for telling domains from file names.
package convert
