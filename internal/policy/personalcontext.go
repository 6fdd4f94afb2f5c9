package policy

import (
	"sort"
	"strings"
)

// Dates of birth, passport numbers, national identity numbers and postal addresses look like
// countless other dates, codes and places, so they are found only where the text or the property
// name says what they are.

// valueRule is what must follow a cue for it to be a finding.
type valueRule int

const (
	// anyNumber: a word with a digit among the next few words ("DOB: 12.03.1980").
	anyNumber valueRule = iota
	// aDate: a whole date, not just any number or a year ("born on 12 March 1980", not "born in
	// 2019 as a fork of Emotet").
	aDate
	// aDocumentNumber: a code of 5 to 20 letters and digits with at least 4 digits, separators
	// allowed ("passport no. AB1234567", not "passport 2024 campaign").
	aDocumentNumber
	// anAddress: the rest of the clause, which must hold a number and a word ("lives at
	// 12 Rue de la Loi, 1040 Brussels").
	anAddress
)

// textCue is words that announce personal data in free text, written as judged text reads them
// (lower case, accents folded).
type textCue struct {
	words string
	kind  personalKind
	value valueRule
}

var textCues = []textCue{
	{"date of birth", kindBirth, anyNumber},
	{"birth date", kindBirth, anyNumber},
	{"birthdate", kindBirth, anyNumber},
	{"birthday", kindBirth, aDate},
	{"dob", kindBirth, anyNumber},
	{"d.o.b", kindBirth, anyNumber},
	{"born", kindBirth, aDate},
	{"date de naissance", kindBirth, anyNumber},
	{"ne le", kindBirth, aDate},
	{"nee le", kindBirth, aDate},
	{"geburtsdatum", kindBirth, anyNumber},
	{"geboren", kindBirth, aDate},
	{"geb.", kindBirth, aDate},
	{"fecha de nacimiento", kindBirth, anyNumber},
	{"data di nascita", kindBirth, anyNumber},
	{"geboortedatum", kindBirth, anyNumber},

	{"passport", kindPassport, aDocumentNumber},
	{"passeport", kindPassport, aDocumentNumber},
	{"reisepass", kindPassport, aDocumentNumber},
	{"pasaporte", kindPassport, aDocumentNumber},
	{"passaporto", kindPassport, aDocumentNumber},
	{"paspoort", kindPassport, aDocumentNumber},
	{"travel document", kindPassport, aDocumentNumber},

	{"national id", kindNationalID, aDocumentNumber},
	{"national identity", kindNationalID, aDocumentNumber},
	{"national identification", kindNationalID, aDocumentNumber},
	{"national insurance", kindNationalID, aDocumentNumber},
	{"national register", kindNationalID, aDocumentNumber},
	{"id card", kindNationalID, aDocumentNumber},
	{"identity card", kindNationalID, aDocumentNumber},
	{"identity number", kindNationalID, aDocumentNumber},
	{"personal number", kindNationalID, aDocumentNumber},
	{"personal identification number", kindNationalID, aDocumentNumber},
	{"social security", kindNationalID, aDocumentNumber},
	{"ssn", kindNationalID, aDocumentNumber},
	{"personnummer", kindNationalID, aDocumentNumber},
	{"henkilotunnus", kindNationalID, aDocumentNumber},
	{"rijksregisternummer", kindNationalID, aDocumentNumber},
	{"burgerservicenummer", kindNationalID, aDocumentNumber},
	{"bsn", kindNationalID, aDocumentNumber},
	{"codice fiscale", kindNationalID, aDocumentNumber},
	{"dni", kindNationalID, aDocumentNumber},
	{"pesel", kindNationalID, aDocumentNumber},
	{"numero de securite sociale", kindNationalID, aDocumentNumber},
	{"personalausweis", kindNationalID, aDocumentNumber},
	{"my number", kindNationalID, aDocumentNumber},

	{"lives at", kindAddress, anAddress},
	{"living at", kindAddress, anAddress},
	{"resides at", kindAddress, anAddress},
	{"residing at", kindAddress, anAddress},
	{"resident at", kindAddress, anAddress},
	{"domiciled at", kindAddress, anAddress},
	{"home address", kindAddress, anAddress},
	{"postal address", kindAddress, anAddress},
	{"street address", kindAddress, anAddress},
	{"mailing address", kindAddress, anAddress},
	{"residential address", kindAddress, anAddress},
	{"private address", kindAddress, anAddress},
	{"wohnhaft", kindAddress, anAddress},
	{"domicilie", kindAddress, anAddress},
	{"woonachtig", kindAddress, anAddress},
}

// cuesByStart indexes textCues by their first two letters, so that finding cues costs a look-up
// per word of text rather than a search of the whole text per cue.
var cuesByStart = func() map[[2]byte][]int {
	m := map[[2]byte][]int{}
	for i, c := range textCues {
		k := [2]byte{c.words[0], c.words[1]}
		m[k] = append(m[k], i)
	}
	return m
}()

// findCued finds the personal data that a cue in text announces. lower is text in ASCII lower
// case, byte for byte, and words its words.
func findCued(text, lower string, words []token) []span {
	var found []span
	for from := 0; from+1 < len(lower); from++ {
		if from > 0 && isWordByte(lower[from-1]) || !isLetter(lower[from]) {
			continue
		}
		for _, i := range cuesByStart[[2]byte{lower[from], lower[from+1]}] {
			c := textCues[i]
			to := from + len(c.words)
			if !strings.HasPrefix(lower[from:], c.words) || (to < len(lower) && isWordByte(lower[to]) && lower[to-1] != '.') {
				continue
			}
			if end, ok := cuedValue(text, words, to, c.value); ok {
				found = append(found, span{from, end, c.kind})
			}
		}
	}
	return found
}

func isWordByte(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' || c >= 0x80 }

// cueReach is how many words after a cue may hold its value: "passport no. AB1234567" has the
// value third.
const cueReach = 4

// cuedValue looks for the value a cue announces among the words after offset at, and returns where
// it ends.
func cuedValue(text string, words []token, at int, rule valueRule) (int, bool) {
	first := sort.Search(len(words), func(i int) bool { return words[i].from >= at })
	if rule == anAddress {
		return addressAfter(text, words[first:])
	}
	end, seen := 0, false
	for i := first; i < len(words) && i-first < cueReach; i++ {
		w := text[words[i].from:words[i].to]
		switch rule {
		case anyNumber:
			if countDigits(w) > 0 {
				end, seen = words[i].to, true
			}
		case aDate:
			if dateToken.MatchString(w) {
				return words[i].to, true
			}
			if countDigits(w) > 0 && countDigits(w) <= 2 && i+1 < len(words) && isMonth(text[words[i+1].from:words[i+1].to]) {
				end, seen = words[i+1].to, true
				if i+2 < len(words) && isYear(text[words[i+2].from:words[i+2].to]) {
					end = words[i+2].to
				}
			}
		case aDocumentNumber:
			if isDocumentNumber(w) {
				return words[i].to, true
			}
		}
	}
	return end, seen
}

func isYear(w string) bool {
	return len(w) == 4 && (strings.HasPrefix(w, "19") || strings.HasPrefix(w, "20")) && countDigits(w) == 4
}

var months = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
	"janv", "fevr", "mars", "avr", "mai", "juin", "juil", "aout", "sept", "dez", "okt", "marz", "mei", "maart"}

func isMonth(w string) bool {
	w = strings.ToLower(w)
	for _, m := range months {
		if strings.HasPrefix(w, m) {
			return true
		}
	}
	return false
}

// isDocumentNumber reports a code of 5 to 20 letters, digits and separators with at least 4
// digits, and no more than 4 letters in a row (which would make it a word or a hash's hex, not a
// document number).
func isDocumentNumber(w string) bool {
	if len(w) < 5 || len(w) > 20 || countDigits(w) < 4 {
		return false
	}
	letters := 0
	for i := 0; i < len(w); i++ {
		switch c := w[i]; {
		case isLetter(c):
			letters++
			if letters > 4 {
				return false
			}
		case isDigit(c):
			letters = 0
		case c == '-' || c == '.' || c == '/' || c == ' ':
			letters = 0
		default:
			return false
		}
	}
	return true
}

// addressReach is how many words after a cue an address may take.
const addressReach = 12

// addressAfter takes the words after an address cue up to the end of the clause, and accepts them
// as an address when they hold a number and a word that is not one.
func addressAfter(text string, words []token) (int, bool) {
	end, number, word := 0, false, false
	for i := 0; i < len(words) && i < addressReach; i++ {
		w := text[words[i].from:words[i].to]
		if ipv4Token.MatchString(w) {
			return 0, false
		}
		if isHouseNumber(w) {
			number = true
		} else if countDigits(w) == 0 {
			word = true
		}
		end = words[i].to
		// The clause ends at a full stop or semicolon right after the word.
		if next := words[i].to; next < len(text) && (text[next] == ';' || text[next] == '.') {
			break
		}
	}
	return end, number && word
}

// isHouseNumber reports a word that can be a house number or postal code: mostly digits, short
// ("12", "12a", "12-14", "1040"), unlike an address in memory (0x7ffd4e2a1000).
func isHouseNumber(w string) bool {
	d := countDigits(w)
	return d > 0 && len(w) <= 8 && 2*d >= len(w)
}

// propertyKind reports the personal data a property holds by its name alone, whatever its value:
// custom properties such as x_date_of_birth or x_passport_number, and the street address and
// postal code of a location. Names are compared without case, "x_" and separators.
func propertyKind(name string) personalKind {
	n := asciiLower(name)
	if !mayNamePersonalData(n) {
		return ""
	}
	n = strings.TrimPrefix(n, "x_")
	parts := strings.FieldsFunc(n, func(r rune) bool { return r == '_' || r == '-' })
	joined := strings.Join(parts, "")
	for _, p := range parts {
		switch p {
		case "dob":
			return kindBirth
		case "ssn", "nin", "bsn":
			return kindNationalID
		case "zip", "zipcode", "postcode":
			return kindAddress
		}
	}
	switch {
	case strings.Contains(joined, "dateofbirth"), strings.Contains(joined, "birthdate"), strings.Contains(joined, "birthday"):
		return kindBirth
	case strings.Contains(joined, "passport"):
		return kindPassport
	case strings.Contains(joined, "nationalid"), strings.Contains(joined, "socialsecurity"),
		strings.Contains(joined, "identitycard"), strings.Contains(joined, "idcard"),
		strings.Contains(joined, "personalnumber"), strings.Contains(joined, "taxpayerid"):
		return kindNationalID
	case joined == "address", strings.Contains(joined, "streetaddress"), strings.Contains(joined, "postaladdress"),
		strings.Contains(joined, "homeaddress"), strings.Contains(joined, "mailingaddress"),
		strings.Contains(joined, "residentialaddress"), strings.Contains(joined, "postalcode"):
		return kindAddress
	}
	return ""
}

// mayNamePersonalData is a cheap first look at a lower-case property name: nearly every name
// holds none of these, and is done with at once.
func mayNamePersonalData(n string) bool {
	for _, w := range []string{"birth", "dob", "passport", "ssn", "nin", "bsn", "zip", "post", "national",
		"social", "card", "personal", "taxpayer", "address"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
