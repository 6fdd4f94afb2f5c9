package stix

import (
	"strings"

	"golang.org/x/text/language"
)

// checkLanguageTag checks a value STIX requires to be an RFC 5646 language tag.
func (c *objectCheck) checkLanguageTag(where loc, tag string) {
	if why := languageTagProblem(tag); why != "" {
		c.r.errorf(CodeInvalidLanguageTag, where, "%s must be an RFC 5646 language tag such as en or fr-CA; %s is not: %s.", where, quote(tag), why)
	}
}

// languageTagProblem tells why tag is not an RFC 5646 language tag, "" when it is one.
//
// Well-formedness is checked here (x/text also accepts "_" as a separator) and subtag
// registration by golang.org/x/text/language. A three-letter primary language must moreover
// be an ISO 639-2 code: the IANA registry also holds ISO 639-3 codes such as bbb, but STIX
// producers mean ISO 639 codes, and the OASIS validator refuses the others.
func languageTagProblem(tag string) string {
	if tag == "" {
		return "it is empty"
	}
	for _, sub := range strings.Split(tag, "-") {
		if len(sub) == 0 || len(sub) > 8 || !isAlnumString(sub) {
			return "subtags are 1 to 8 ASCII letters or digits separated by hyphens"
		}
	}
	if _, err := language.Parse(tag); err != nil {
		return strings.TrimPrefix(err.Error(), "language: ")
	}
	primary, _, _ := strings.Cut(tag, "-")
	primary = strings.ToLower(primary)
	switch len(primary) {
	case 3:
		if !isISO6392(primary) {
			return quote(primary) + " is not an ISO 639-1 or ISO 639-2 language code"
		}
	case 4:
		return "four-letter primary language subtags are reserved"
	}
	return ""
}

func isAlnumString(s string) bool {
	for i := range len(s) {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

func isISO6392(code string) bool {
	if code >= "qaa" && code <= "qtz" { // reserved for local use
		return true
	}
	i := strings.Index(iso6392Codes, code)
	return i >= 0 && i%4 == 0
}

// iso6392Codes holds the ISO 639-2 codes (bibliographic and terminology forms), as maintained
// by the Library of Congress, each followed by a space.
const iso6392Codes = "" +
	"aar abk ace ach ada ady afa afh afr ain aka akk alb ale alg alt amh ang anp apa ara arc arg arm arn arp art arw " +
	"asm ast ath aus ava ave awa aym aze bad bai bak bal bam ban baq bas bat bej bel bem ben ber bho bih bik bin bis " +
	"bla bnt bod bos bra bre btk bua bug bul bur byn cad cai car cat cau ceb cel ces cha chb che chg chi chk chm chn " +
	"cho chp chr chu chv chy cmc cnr cop cor cos cpe cpf cpp cre crh crp csb cus cym cze dak dan dar day del den deu " +
	"dgr din div doi dra dsb dua dum dut dyu dzo efi egy eka ell elx eng enm epo est eus ewe ewo fan fao fas fat fij " +
	"fil fin fiu fon fra fre frm fro frr frs fry ful fur gaa gay gba gem geo ger gez gil gla gle glg glv gmh goh gon " +
	"gor got grb grc gre grn gsw guj gwi hai hat hau haw heb her hil him hin hit hmn hmo hrv hsb hun hup hye iba ibo " +
	"ice ido iii ijo iku ile ilo ina inc ind ine inh ipk ira iro isl ita jav jbo jpn jpr jrb kaa kab kac kal kam kan " +
	"kar kas kat kau kaw kaz kbd kha khi khm kho kik kin kir kmb kok kom kon kor kos kpe krc krl kro kru kua kum kur " +
	"kut lad lah lam lao lat lav lez lim lin lit lol loz ltz lua lub lug lui lun luo lus mac mad mag mah mai mak mal " +
	"man mao map mar mas may mdf mdr men mga mic min mis mkd mkh mlg mlt mnc mni mno moh mon mos mri msa mul mun mus " +
	"mwl mwr mya myn myv nah nai nap nau nav nbl nde ndo nds nep new nia nic niu nld nno nob nog non nor nqo nso nub " +
	"nwc nya nym nyn nyo nzi oci oji ori orm osa oss ota oto paa pag pal pam pan pap pau peo per phi phn pli pol pon " +
	"por pra pro pus que raj rap rar roa roh rom ron rum run rup rus sad sag sah sai sal sam san sas sat scn sco sel " +
	"sem sga sgn shn sid sin sio sit sla slk slo slv sma sme smi smj smn smo sms sna snd snk sog som son sot spa sqi " +
	"srd srn srp srr ssa ssw suk sun sus sux swa swe syc syr tah tai tam tat tel tem ter tet tgk tgl tha tib tig tir " +
	"tiv tkl tlh tli tmh tog ton tpi tsi tsn tso tuk tum tup tur tut tvl twi tyv udm uga uig ukr umb und urd uzb vai " +
	"ven vie vol vot wak wal war was wel wen wln wol xal xho yao yap yid yor ypk zap zbl zen zgh zha zho znd zul zun " +
	"zxx zza "
