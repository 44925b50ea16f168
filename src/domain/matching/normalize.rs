//! Normalization of field values for matching, one function per kind of value.
//!
//! - **Text** ([`fold`]): Unicode compatibility decomposition (NFKD), full Unicode case folding
//!   (`ß` → `ss`), diacritics removed (combining marks dropped after decomposition, plus the
//!   letters that do not decompose: `ø ł đ æ œ þ ı`), punctuation dropped, whitespace collapsed.
//!   "Müller" = "MULLER", "Ｃｏｎｔｏｓｏ" = "contoso".
//! - **First names**: folded like text for EXACT and the first/last-N operators ("Zoë" =
//!   "ZOE", but "Liam" ≠ "William": two people with those names are two people, and the
//!   default rules must not match them). FUZZY also compares the names the bundled nickname
//!   table gives ([`first_name`], `nicknames.txt`: "Bob" = "Robert", "Liz" = "Elizabeth"), so
//!   a FUZZY rule on first names finds "Bob Smith" for "Robert Smith" with similarity 1.0.
//! - **Company names** ([`company`]): folded, `&` = `and`, legal-form suffixes removed from the end
//!   ("Contoso, Ltd." = "Contoso Limited" = "Contoso"), and a leading "the".
//! - **Phones** ([`phone`]): parsed by the `phonenumber` crate (Google's libphonenumber metadata)
//!   and written as E.164; numbers without a country code belong to the organization's region
//!   (`phoneRegion`). An unparsable number falls back to its digits.
//! - **Websites** ([`website`]): the registrable domain under the public suffix list (`psl`):
//!   `https://shop.contoso.co.uk/x` = `contoso.co.uk`.
//! - **E-mails**: trimmed and folded.
//! - **Streets** ([`street`]): folded, with the usual abbreviations spelled out ("St" = "Street",
//!   "Ave" = "Avenue", "N" = "North", ...).
//! - **Postal codes** ([`postal_code`]): folded without spaces and dashes; a US ZIP+4 keeps its
//!   five digits.
//! - **Countries** ([`country`]): folded, with a few common spellings of one country mapped to
//!   its ISO code ("United States", "USA", "U.S." = "us").

use std::str::FromStr;

use phonenumber::country;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::nicknames;

/// The region of phone numbers written without a country code (ISO 3166 alpha-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhoneRegion(country::Id);

impl PhoneRegion {
    /// Parses an ISO 3166 alpha-2 code known to the phone-number metadata ("US", "gb").
    pub fn parse(code: &str) -> Option<Self> {
        let code = code.trim().to_ascii_uppercase();
        if code.len() != 2 {
            return None;
        }
        country::Id::from_str(&code).ok().map(Self)
    }

    /// The ISO code.
    pub fn code(&self) -> String {
        self.0.as_ref().to_owned()
    }
}

impl Default for PhoneRegion {
    fn default() -> Self {
        Self(country::Id::US)
    }
}

/// What normalization depends on besides the value: the organization's phone region.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Normalizer {
    pub phone_region: PhoneRegion,
}

/// Letters that carry a diacritic or ligature but do not decompose under NFKD.
fn undecomposable(c: char) -> Option<&'static str> {
    Some(match c {
        'ø' => "o",
        'ł' => "l",
        'đ' | 'ð' => "d",
        'æ' => "ae",
        'œ' => "oe",
        'þ' => "th",
        'ı' => "i",
        'ħ' => "h",
        'ŧ' => "t",
        _ => return None,
    })
}

/// Case-folded, compatibility-normalized text without diacritics; punctuation becomes a space
/// except apostrophes and periods, which are dropped ("O'Brien" = "OBrien", "S.A." = "SA");
/// whitespace is collapsed.
pub fn fold(value: &str) -> String {
    let decomposed: String = value.nfkd().collect();
    let folded = caseless::default_case_fold_str(&decomposed);
    let mut out = String::with_capacity(folded.len());
    for c in folded.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        if let Some(s) = undecomposable(c) {
            out.push_str(s);
        } else if c.is_alphanumeric() {
            out.push(c);
        } else if matches!(c, '\'' | '’' | '.' | '`' | '´') {
            // dropped: initials and elisions stay one token
        } else if c == '&' {
            out.push_str(" & ");
        } else {
            out.push(' ');
        }
    }
    collapse(&out)
}

/// Whitespace collapsed to single spaces, trimmed.
pub fn collapse(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The case-keeping form of text for case-sensitive rules: NFKC, whitespace collapsed.
pub fn exact_text(value: &str) -> String {
    collapse(&value.nfkc().collect::<String>())
}

/// The name a first name stands for: folded, each token through the nickname table (what FUZZY
/// compares besides the name as written).
pub fn first_name(value: &str) -> String {
    fold(value)
        .split(' ')
        .map(nicknames::canonical)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Legal-form suffixes (folded, without periods), removed from the end of company names.
const LEGAL_FORMS: &[&str] = &[
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "llc",
    "llp",
    "lp",
    "plc",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "ag",
    "kg",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "bv",
    "nv",
    "ab",
    "as",
    "asa",
    "oy",
    "oyj",
    "pty",
    "pte",
    "kk",
    "sl",
    "se",
    "ulc",
    "group",
];

/// A company name: folded, `&` = `and`, legal-form suffixes and a leading "the" removed. A name
/// that is nothing but legal forms keeps them.
pub fn company(value: &str) -> String {
    let folded = fold(value);
    let mut tokens: Vec<&str> = folded
        .split(' ')
        .map(|t| if t == "&" { "and" } else { t })
        .collect();
    while tokens.len() > 1
        && tokens
            .last()
            .is_some_and(|t| LEGAL_FORMS.contains(t) || *t == "and")
    {
        tokens.pop();
    }
    if tokens.len() > 1 && tokens.first() == Some(&"the") {
        tokens.remove(0);
    }
    tokens.join(" ")
}

/// A phone number in E.164 (`+14255550100`), extensions dropped; numbers without a country code
/// are read in `region`. What the parser rejects compares by its digits.
pub fn phone(value: &str, region: PhoneRegion) -> String {
    match phonenumber::parse(Some(region.0), value) {
        Ok(number) => number.format().mode(phonenumber::Mode::E164).to_string(),
        Err(_) => value.chars().filter(char::is_ascii_digit).collect(),
    }
}

/// The host of a URL or bare domain, lower-cased, without port, `www.` or trailing dot.
fn host(value: &str) -> String {
    let lower = value.trim().to_lowercase();
    let without_scheme = lower
        .split_once("://")
        .map_or(lower.as_str(), |(_, rest)| rest);
    let authority = without_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('.');
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = authority.split(':').next().unwrap_or(authority);
    host.strip_prefix("www.").unwrap_or(host).to_owned()
}

/// A website's registrable domain (`https://shop.contoso.co.uk/` → `contoso.co.uk`); a host the
/// public suffix list knows nothing of keeps its whole name.
pub fn website(value: &str) -> String {
    let host = host(value);
    match psl::domain_str(&host) {
        Some(domain) => domain.to_owned(),
        None => host,
    }
}

/// An e-mail address: trimmed and folded.
pub fn email(value: &str) -> String {
    caseless::default_case_fold_str(value.trim())
}

/// Street words and their abbreviations, spelled out.
const STREET_WORDS: &[(&str, &str)] = &[
    ("st", "street"),
    ("str", "street"),
    ("ave", "avenue"),
    ("av", "avenue"),
    ("rd", "road"),
    ("blvd", "boulevard"),
    ("dr", "drive"),
    ("ln", "lane"),
    ("ct", "court"),
    ("pl", "place"),
    ("sq", "square"),
    ("hwy", "highway"),
    ("pkwy", "parkway"),
    ("cir", "circle"),
    ("ter", "terrace"),
    ("trl", "trail"),
    ("ste", "suite"),
    ("apt", "apartment"),
    ("fl", "floor"),
    ("bldg", "building"),
    ("n", "north"),
    ("s", "south"),
    ("e", "east"),
    ("w", "west"),
    ("ne", "northeast"),
    ("nw", "northwest"),
    ("se", "southeast"),
    ("sw", "southwest"),
];

/// A street: folded, abbreviations spelled out.
pub fn street(value: &str) -> String {
    fold(value)
        .split(' ')
        .map(|t| {
            STREET_WORDS
                .iter()
                .find(|(short, _)| *short == t)
                .map_or(t, |(_, long)| long)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A postal code: folded, without spaces and dashes; `98052-6399` → `98052`.
pub fn postal_code(value: &str) -> String {
    let compact: String = fold(value).chars().filter(|c| *c != ' ').collect();
    let plain: String = value
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    // A US ZIP+4 ("98052-6399") keeps the ZIP.
    let bytes = plain.as_bytes();
    if bytes.len() == 10
        && bytes.get(5) == Some(&b'-')
        && plain
            .chars()
            .enumerate()
            .all(|(i, c)| i == 5 || c.is_ascii_digit())
    {
        return plain.chars().take(5).collect();
    }
    compact
}

/// Spellings of a few countries, folded, and their ISO codes.
const COUNTRIES: &[(&str, &str)] = &[
    ("united states", "us"),
    ("united states of america", "us"),
    ("usa", "us"),
    ("us", "us"),
    ("america", "us"),
    ("united kingdom", "gb"),
    ("uk", "gb"),
    ("great britain", "gb"),
    ("gb", "gb"),
    ("england", "gb"),
    ("germany", "de"),
    ("deutschland", "de"),
    ("de", "de"),
    ("france", "fr"),
    ("fr", "fr"),
    ("canada", "ca"),
    ("ca", "ca"),
    ("spain", "es"),
    ("espana", "es"),
    ("es", "es"),
    ("netherlands", "nl"),
    ("the netherlands", "nl"),
    ("holland", "nl"),
    ("nl", "nl"),
];

/// A country: folded; common spellings of a few countries become their ISO code.
pub fn country(value: &str) -> String {
    let folded = fold(value);
    COUNTRIES
        .iter()
        .find(|(name, _)| *name == folded)
        .map_or(folded, |(_, code)| (*code).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_folds_case_width_and_diacritics() {
        assert_eq!(fold("Müller"), "muller");
        assert_eq!(fold("MULLER"), "muller");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("Ｃｏｎｔｏｓｏ"), "contoso");
        assert_eq!(fold("  José   Álvarez "), "jose alvarez");
        assert_eq!(fold("Søren Łukasz"), "soren lukasz");
        assert_eq!(fold("O'Brien"), "obrien");
        assert_eq!(fold("ﬁnance"), "finance");
        assert_eq!(fold("Jean-Luc"), "jean luc");
    }

    #[test]
    fn first_names_go_through_the_nickname_table() {
        assert_eq!(first_name("Bob"), "robert");
        assert_eq!(first_name("ROBERT"), "robert");
        assert_eq!(first_name("Bill"), "william");
        assert_eq!(first_name("Liz"), "elizabeth");
        assert_eq!(first_name("Zoë"), "zoe");
    }

    #[test]
    fn company_names_lose_punctuation_and_legal_forms() {
        assert_eq!(company("Contoso, Ltd."), "contoso");
        assert_eq!(company("Contoso Limited"), "contoso");
        assert_eq!(company("CONTOSO"), "contoso");
        assert_eq!(company("Fabrikam Inc"), "fabrikam");
        assert_eq!(company("Fabrikam, Inc."), "fabrikam");
        assert_eq!(company("Müller GmbH"), "muller");
        assert_eq!(company("Alpine S.A."), "alpine");
        assert_eq!(company("Smith & Sons Co."), "smith and sons");
        assert_eq!(company("Smith and Sons Company"), "smith and sons");
        assert_eq!(company("The Phone Company"), "phone");
        assert_eq!(company("Litware Corp."), "litware");
        assert_eq!(company("Litware Corporation"), "litware");
        assert_eq!(company("Adatum PLC"), "adatum");
        assert_eq!(company("Tailspin B.V."), "tailspin");
        // A name that is only a legal form stays itself.
        assert_eq!(company("Co"), "co");
    }

    #[test]
    fn phones_become_e164_in_the_organization_region() {
        let us = PhoneRegion::default();
        assert_eq!(phone("+1 425 555 0100", us), "+14255550100");
        assert_eq!(phone("(425) 555-0100", us), "+14255550100");
        assert_eq!(phone("425.555.0100", us), "+14255550100");
        assert_eq!(phone("1-425-555-0100", us), "+14255550100");
        let gb = PhoneRegion::parse("gb").unwrap();
        assert_eq!(phone("020 7946 0018", gb), "+442079460018");
        assert_eq!(phone("+44 20 7946 0018", us), "+442079460018");
        // Unparsable: its digits.
        assert_eq!(phone("12", us), "12");
    }

    #[test]
    fn phone_regions_are_iso_codes() {
        assert_eq!(PhoneRegion::parse("us").unwrap().code(), "US");
        assert_eq!(PhoneRegion::parse(" DE ").unwrap().code(), "DE");
        assert!(PhoneRegion::parse("XX").is_none());
        assert!(PhoneRegion::parse("USA").is_none());
        assert!(PhoneRegion::parse("").is_none());
    }

    #[test]
    fn websites_compare_by_registrable_domain() {
        assert_eq!(website("https://shop.contoso.co.uk/about"), "contoso.co.uk");
        assert_eq!(website("contoso.co.uk"), "contoso.co.uk");
        assert_eq!(website("https://www.contoso.com/"), "contoso.com");
        assert_eq!(website("HTTP://Contoso.com:8080/about?x#y"), "contoso.com");
        assert_eq!(website("blog.fabrikam.com"), "fabrikam.com");
    }

    #[test]
    fn emails_are_trimmed_and_folded() {
        assert_eq!(email(" John@X.COM "), "john@x.com");
    }

    #[test]
    fn streets_spell_out_abbreviations() {
        assert_eq!(street("1 Microsoft Way"), "1 microsoft way");
        assert_eq!(street("123 Main St."), "123 main street");
        assert_eq!(street("123 Main Street"), "123 main street");
        assert_eq!(street("45 N Oak Ave"), "45 north oak avenue");
    }

    #[test]
    fn postal_codes_ignore_spacing_and_zip_plus_four() {
        assert_eq!(postal_code("98052-6399"), "98052");
        assert_eq!(postal_code("98052"), "98052");
        assert_eq!(postal_code("SW1A 1AA"), "sw1a1aa");
        assert_eq!(postal_code("sw1a1aa"), "sw1a1aa");
    }

    #[test]
    fn countries_map_common_spellings() {
        assert_eq!(country("United States"), "us");
        assert_eq!(country("U.S.A."), "us");
        assert_eq!(country("USA"), "us");
        assert_eq!(country("Deutschland"), "de");
        assert_eq!(country("Portugal"), "portugal");
    }
}
