package policy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"taxiihub/internal/store"
)

// corpusDir is the shared corpus of real STIX content, kept with the validator's tests.
var corpusDir = filepath.Join("..", "stix", "testdata", "corpus")

// corpusValidFiles returns the corpus files MANIFEST.md labels valid, by path under corpusDir.
func corpusValidFiles(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var files []string
	folder := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if heading, ok := strings.CutPrefix(line, "## `"); ok {
			folder, _, _ = strings.Cut(heading, "`")
			if !strings.HasSuffix(folder, "/") {
				folder = ""
			}
			continue
		}
		if folder == "" || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, " | ")
		if len(cells) >= 4 && strings.Trim(cells[2], "*") == "valid" {
			files = append(files, folder+strings.Trim(strings.TrimPrefix(cells[0], "| "), "`"))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return files
}

// corpusObjects returns the objects of a corpus file: a bundle's, a list's, or the file's one
// object.
func corpusObjects(data []byte) ([]json.RawMessage, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(data, &list); err == nil {
		return list, nil
	}
	var doc struct {
		Type    string          `json:"type"`
		Objects json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Type == "bundle" {
		list = nil
		if len(doc.Objects) == 0 {
			return nil, nil
		}
		if err := json.Unmarshal(doc.Objects, &list); err != nil {
			return nil, err
		}
		return list, nil
	}
	return []json.RawMessage{data}, nil
}

// knownPersonalInCorpus lists the places in the corpus's valid files that carry personal data as
// the rule defines it, and so are refused in reject mode by right: file, object id and path, with
// what is there. Each was read and judged by hand: persons' identities (APT1's named operators),
// registrants' and contacts' e-mail addresses, e-mail and account observables, e-mail addresses
// in patterns, and locations with a street address or postal code.
var knownPersonalInCorpus = map[string]string{
	"oasis-validator-cases/valid/observed_data--email_address_invalid_value--7545313a47.json email-addr--ff1e0780-358c-5808-a8c7-d0fca4ef6ef4 /type":  "email-addr object",
	"oasis-validator-cases/valid/observed_data--vocab_account_type--522730d72b.json user-account--ff1e0780-358c-5808-a8c7-d0fca4ef6ef4 /type":         "user-account object",
	"oasis-json-schemas-examples/apt1.json identity--a9119a87-6576-46af-bfd7-4fbe55926671 /identity_class":                                            "identity of an individual (or of unknown class)",
	"oasis-json-schemas-examples/apt1.json identity--e88ab115-7768-4630-baa3-3d49a7d946ea /identity_class":                                            "identity of an individual (or of unknown class)",
	"oasis-json-schemas-examples/apt1.json identity--0e9d20d9-fb11-42e3-94bc-b89fb5b007ca /identity_class":                                            "identity of an individual (or of unknown class)",
	"oasis-json-schemas-examples/apt1.json identity--ecf1c7de-d96c-41c6-a510-b9c65cdc9e3b /identity_class":                                            "identity of an individual (or of unknown class)",
	"oasis-json-schemas-examples/poisonivy.json indicator--9695dc2f-d92a-4f2b-8b16-b0e21d7c631d /description":                                         "e-mail address in text",
	"oasis-cti-documentation/identifying-a-threat-actor-profile.json identity--733c5838-34d9-4fbf-949c-62aba761184c /contact_information":             "e-mail address in text",
	"oasis-cti-documentation/sighting-of-an-indicator.json identity--39012926-a052-44c4-ae48-caaf4a10ee6e /contact_information":                       "e-mail address in text",
	"oasis-cti-documentation/sighting-of-an-indicator.json identity--5206ba14-478f-4b0b-9a48-395f690c20a2 /contact_information":                       "e-mail address in text",
	"oasis-cti-documentation/threat-actor-leveraging-attack-patterns-and-malware.json identity--1621d4d4-b67d-41e3-9670-f01faf20d111 /identity_class": "identity of an individual (or of unknown class)",
	"oasis-cti-documentation/using-marking-definitions.json identity--611d9d41-dba5-4e13-9b29-e22488058ffc /contact_information":                      "e-mail address in text",
	"misp-stix-literals/misp-external-analyst-data-samples.json opinion--e6039f2f-d705-41d0-859d-89845546cd7b /authors/0":                             "e-mail address in text",
	"misp-stix-literals/misp-external-analyst-data-samples.json note--31fc7048-9ede-4db9-a423-ef97670ed4c6 /authors/0":                                "e-mail address in text",
	"misp-stix-literals/misp-external-analyst-data-samples.json opinion--74258748-78f2-4b19-bedc-27ec61b1c5df /authors/0":                             "e-mail address in text",
	"misp-stix-literals/misp-external-analyst-data-samples.json note--dc14f700-6822-46bd-9b65-fb2703cf707f /authors/0":                                "e-mail address in text",
	"misp-stix-literals/misp-external-analyst-data-samples.json note--bbd17601-425f-4dd5-82ed-0b18115bee98 /authors/0":                                "e-mail address in text",
	"misp-stix-literals/misp-external-email-address-attributes.json email-addr--46f7e73f-36e5-40dd-9b27-735a0a6b44c2 /type":                           "email-addr object",
	"misp-stix-literals/misp-external-email-address-attributes.json email-addr--49713b77-b6ee-4069-a1b4-2a8ad49adf62 /type":                           "email-addr object",
	"misp-stix-literals/misp-external-email-address-attributes.json email-addr--81294150-8f7a-453d-a1d8-96c2cfe04efa /type":                           "email-addr object",
	"misp-stix-literals/misp-external-email-address-attributes.json email-addr--cd890f31-5825-4fea-85ca-0b3ab3872926 /type":                           "email-addr object",
	"misp-stix-literals/misp-external-email-address-attributes.json indicator--36d4345a-5cad-400a-a0ab-5f0bc47b1584 /pattern":                         "e-mail address in a pattern literal",
	"misp-stix-literals/misp-external-email-message-indicator.json indicator--d4e5f6a7-b8c9-4d0e-9f2a-3b4c5d6e7f80 /pattern":                          "e-mail address in a pattern literal",
	"misp-stix-literals/misp-external-email-message-objects.json email-message--cf9b4b7f-14c8-5955-8065-020e0316b559 /from_ref":                       "e-mail message senders and recipients",
	"misp-stix-literals/misp-external-email-message-objects.json email-message--cf9b4b7f-14c8-5955-8065-020e0316b559 /to_refs":                        "e-mail message senders and recipients",
	"misp-stix-literals/misp-external-email-message-objects.json email-message--cf9b4b7f-14c8-5955-8065-020e0316b559 /cc_refs":                        "e-mail message senders and recipients",
	"misp-stix-literals/misp-external-email-message-objects.json email-addr--89f52ea8-d6ef-51e9-8fce-6a29236436ed /type":                              "email-addr object",
	"misp-stix-literals/misp-external-email-message-objects.json email-addr--d1b3bf0c-f02a-51a1-8102-11aba7959868 /type":                              "email-addr object",
	"misp-stix-literals/misp-external-email-message-objects.json email-addr--e4ee5301-b52d-59cd-a8fa-8036738c7194 /type":                              "email-addr object",
	"misp-stix-literals/misp-external-email-message-objects.json indicator--9b5e4bbd-5a9a-4309-a921-82ccc2d2b1cc /pattern":                            "e-mail address in a pattern literal",
	"misp-stix-literals/misp-external-geolocation-objects.json location--e8f1c2a3-4b5d-4e6f-9a8b-7c6d5e4f3a2b /postal_code":                           "location address",
	"misp-stix-literals/misp-external-geolocation-objects.json location--e8f1c2a3-4b5d-4e6f-9a8b-7c6d5e4f3a2b /street_address":                        "location address",
	"misp-stix-literals/misp-external-identity-objects.json identity--c2cc2c57-98f5-4804-9e79-8df735f52921 /identity_class":                           "identity of an individual (or of unknown class)",
	"misp-stix-literals/misp-external-registry-key-objects.json user-account--5e384ae7-672c-4250-9cda-3b4da964451a /type":                             "user-account object",
	"misp-stix-literals/misp-external-user-account-objects.json user-account--0d5b424b-93b8-5cd8-ac36-306e1789d63c /type":                             "user-account object",
	"misp-stix-literals/misp-external-user-account-objects.json user-account--9bd3afcf-deee-54f9-83e2-520653cb6bba /type":                             "user-account object",
	"misp-stix-literals/misp-external-user-account-objects.json user-account--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f /type":                             "user-account object",
	"oasis-validator-cases/valid/location--invalid_timestamp--a6a7dd28d7.json location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64 /postal_code":            "location address",
	"oasis-validator-cases/valid/location--location_lat_long--1c630c62fa.json location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64 /postal_code":            "location address",
}

// TestCorpusUnderPersonalDataReject measures what the personal-data rule refuses of the corpus's
// valid files in reject mode, and why. It fails on any refusal not listed in
// knownPersonalInCorpus, so that a change to the rule that starts refusing ordinary threat
// intelligence is seen.
func TestCorpusUnderPersonalDataReject(t *testing.T) {
	reject := Rules{Partnership: store.PartnershipPolicy{PersonalData: store.PersonalDataReject}}
	var files, objects, refusedFiles, refusedObjects int
	reasons := map[string]int{}
	for _, name := range corpusValidFiles(t) {
		data, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil {
			t.Fatal(err)
		}
		objs, err := corpusObjects(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		files++
		refusedHere := false
		for _, raw := range objs {
			objects++
			d := reject.Check(raw)
			var id string
			var found []string
			for _, p := range d.Errors {
				if p.Code != CodePersonalData {
					continue
				}
				if id == "" {
					var o struct {
						ID string `json:"id"`
					}
					_ = json.Unmarshal(raw, &o)
					id = o.ID
				}
				key := fmt.Sprintf("%s %s %s", name, id, p.Path)
				found = append(found, key)
				reasons[p.Message]++
				t.Logf("refused: %s: %s", key, p.Message)
				if _, ok := knownPersonalInCorpus[key]; !ok {
					t.Errorf("refused and not known to carry personal data: %s: %s", key, p.Message)
				}
			}
			if len(found) > 0 {
				refusedObjects++
				refusedHere = true
			}
		}
		if refusedHere {
			refusedFiles++
		}
	}
	t.Logf("corpus, valid files: %d files, %d objects; refused in reject mode: %d objects in %d files", files, objects, refusedObjects, refusedFiles)
	messages := make([]string, 0, len(reasons))
	for m := range reasons {
		messages = append(messages, m)
	}
	sort.Strings(messages)
	for _, m := range messages {
		t.Logf("%4d × %s", reasons[m], m)
	}
}
