//! Duplicate-matching evaluation (issue 15): how many real-world duplicates the default rules and
//! the recommended rule set find (recall), and how many of their matches are right (precision).
//!
//! ```text
//! cargo bench --bench matching
//! cargo bench --bench matching -- --people 2000 --companies 1000 --seed 7
//! cargo bench --bench matching -- --lookup-sizes 10000,1000000
//! cargo bench --bench matching -- --database-url postgres://postgres@127.0.0.1:5432/fresh_db
//! ```
//!
//! `--show-misses N` prints up to N contact probes per rule set that missed their original or
//! matched another record, beside the records concerned.
//!
//! Flags: `--people N` (1,000) and `--companies N` (500) originals; `--seed S` (15) of the
//! generator; `--lookup-sizes 10000,1000000` (10,000): record counts at which the lookup latency
//! of one check (recommended rules) is measured, p50/p99 over 300 checks; `--database-url URL`
//! (default: an SQLite file in a temporary directory; a PostgreSQL database must be empty).
//!
//! What it does, in-process, with leadq's own code:
//!
//! 1. Generates originals with a seeded RNG: people (first and last names, some with accents,
//!    e-mail, business and mobile phone, street address) with unique names, and companies (name
//!    with or without a legal form, website, phone, address) with unique names.
//! 2. Stores them: rows, then their match keys through `service::duplicates::insert_keys` (the
//!    function every write path uses).
//! 3. Generates one duplicate of each original with one to three realistic corruptions: typos
//!    (transposition, deletion, insertion, substitution), nicknames, accents and case, phone
//!    formats, legal-form suffixes and `&`/`and`, website subdomains and schemes, first and last
//!    name swapped, missing fields, street abbreviations ("St" / "Street") and ZIP+4; and as many
//!    new people and companies, duplicates of nobody.
//! 4. Checks every probe with `service::duplicates::{contact,account}_matches_with` under the
//!    default rules and under the recommended set, and counts: a probe's match is a true
//!    positive when it is the probe's original, a false positive otherwise; a duplicate whose
//!    original is not among its matches is a false negative.
//!
//! It prints precision, recall and F1 per rule set and record type, then the lookup latency per
//! size. Timing depends on the machine (the README keeps only precision and recall).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use entity::{DuplicateRecordType, RecordState, Role, account, contact};
use leadq::db::{self, Db};
use leadq::service::duplicate_rules;
use leadq::service::duplicates::{self, LoadedRule, Record};
use migration::{Migrator, MigratorTrait};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{EntityTrait, TransactionTrait};
use uuid::Uuid;

const FIRST_NAMES: &[&str] = &[
    "Robert",
    "William",
    "Elizabeth",
    "Margaret",
    "Katherine",
    "Jonathan",
    "Michael",
    "Patricia",
    "Christopher",
    "Jennifer",
    "Richard",
    "Susan",
    "Thomas",
    "Deborah",
    "Alexander",
    "Rebecca",
    "Benjamin",
    "Victoria",
    "Nicholas",
    "Samantha",
    "Daniel",
    "Jessica",
    "Matthew",
    "Amanda",
    "Anthony",
    "Stephanie",
    "Edward",
    "Catherine",
    "Andrew",
    "Abigail",
    "Joseph",
    "Barbara",
    "Timothy",
    "Pamela",
    "Gregory",
    "Kimberly",
    "Zoë",
    "José",
    "Renée",
    "Søren",
    "Chloé",
    "Jürgen",
    "François",
    "Inés",
    "Björn",
    "Agnès",
    "Mateo",
    "Priya",
    "Aarav",
    "Yuki",
    "Olga",
    "Dmitri",
    "Fatima",
    "Omar",
    "Leila",
    "Hannah",
    "Lucas",
    "Emma",
    "Noah",
    "Olivia",
    "Liam",
    "Sophia",
];
const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Müller",
    "Schröder",
    "Gómez",
    "Núñez",
    "Østergaard",
    "Łukasiewicz",
    "Dvořák",
    "Lefèvre",
    "Björklund",
    "O'Brien",
    "McAllister",
    "Van der Berg",
    "Castillo",
    "Okafor",
    "Kowalski",
    "Nakamura",
    "Petrov",
    "Haddad",
    "Fitzgerald",
    "Whitaker",
    "Sandoval",
    "Kaminski",
    "Abernathy",
    "Blackwood",
    "Castellanos",
    "Delacroix",
    "Eriksson",
    "Fairbanks",
    "Gallagher",
    "Holloway",
    "Ibarra",
    "Jorgensen",
    "Kensington",
    "Lindqvist",
    "Montgomery",
    "Northcott",
];
const COMPANY_WORDS: &[&str] = &[
    "Contoso",
    "Fabrikam",
    "Northwind",
    "Tailspin",
    "Litware",
    "Adatum",
    "Proseware",
    "Wingtip",
    "Alpine",
    "Blue Yonder",
    "Coho",
    "Fourth Coffee",
    "Lamna",
    "Margie",
    "Relecloud",
    "Trey",
    "Woodgrove",
    "Graphic Design",
    "Humongous",
    "Lucerne",
    "Nod",
    "Southridge",
    "Wide World",
    "Bellows",
    "Cascade",
    "Summit",
    "Harbor",
    "Pinnacle",
    "Redwood",
    "Silverline",
    "Granite",
    "Evergreen",
    "Meridian",
    "Horizon",
    "Keystone",
    "Lakeside",
    "Ironwood",
    "Brightwater",
];
const COMPANY_KINDS: &[&str] = &[
    "Traders",
    "Pharmaceuticals",
    "Logistics",
    "Systems",
    "Airlines",
    "Foods",
    "Software",
    "Consulting",
    "Energy",
    "Bank",
    "Insurance",
    "Studios",
    "Analytics",
    "Robotics",
    "Outfitters",
    "Partners",
    "Holdings",
    "Labs",
    "Media",
    "Motors",
];
const LEGAL_FORMS: &[&str] = &[
    "",
    "",
    "Inc",
    "Inc.",
    "Ltd",
    "Ltd.",
    "Limited",
    "LLC",
    "Corp.",
    "Corporation",
    "GmbH",
    "PLC",
];
const STREETS: &[&str] = &[
    "Main",
    "Oak",
    "Maple",
    "Cedar",
    "Pine",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Sunset",
    "Ridge",
    "Highland",
    "Meadow",
    "Forest",
    "River",
    "Spring",
    "Church",
    "Mill",
];
const STREET_TYPES: &[(&str, &str)] = &[
    ("Street", "St"),
    ("Avenue", "Ave"),
    ("Road", "Rd"),
    ("Boulevard", "Blvd"),
    ("Drive", "Dr"),
    ("Lane", "Ln"),
];
const CITIES: &[(&str, &str)] = &[
    ("Redmond", "WA"),
    ("Seattle", "WA"),
    ("Portland", "OR"),
    ("Austin", "TX"),
    ("Denver", "CO"),
    ("Boston", "MA"),
    ("Chicago", "IL"),
    ("Atlanta", "GA"),
    ("Phoenix", "AZ"),
    ("Raleigh", "NC"),
];

/// Nicknames of a few generated first names (a subset of the bundled table, as people write
/// them).
fn nickname(first: &str) -> Option<&'static str> {
    Some(match first {
        "Robert" => "Bob",
        "William" => "Bill",
        "Elizabeth" => "Liz",
        "Margaret" => "Peggy",
        "Katherine" => "Kate",
        "Jonathan" => "Jonny",
        "Michael" => "Mike",
        "Patricia" => "Trish",
        "Christopher" => "Chris",
        "Jennifer" => "Jenny",
        "Richard" => "Rick",
        "Susan" => "Sue",
        "Thomas" => "Tom",
        "Deborah" => "Debbie",
        "Alexander" => "Alex",
        "Rebecca" => "Becky",
        "Benjamin" => "Ben",
        "Victoria" => "Vicky",
        "Nicholas" => "Nick",
        "Daniel" => "Dan",
        "Matthew" => "Matt",
        "Anthony" => "Tony",
        "Edward" => "Ted",
        "Andrew" => "Andy",
        "Joseph" => "Joe",
        "Timothy" => "Tim",
        "Gregory" => "Greg",
        _ => return None,
    })
}

struct Options {
    people: usize,
    companies: usize,
    seed: u64,
    lookup_sizes: Vec<usize>,
    database_url: Option<String>,
    /// Contact misses (false negatives and positives) printed per rule set.
    show_misses: usize,
}

fn options() -> Options {
    let mut o = Options {
        people: 1_000,
        companies: 500,
        seed: 15,
        lookup_sizes: vec![10_000],
        database_url: None,
        show_misses: 0,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--people" => o.people = value.parse().expect("--people N"),
            "--companies" => o.companies = value.parse().expect("--companies N"),
            "--seed" => o.seed = value.parse().expect("--seed S"),
            "--lookup-sizes" => {
                o.lookup_sizes = value
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse().expect("--lookup-sizes 10000,1000000"))
                    .collect()
            }
            "--database-url" => o.database_url = Some(value),
            "--show-misses" => o.show_misses = value.parse().expect("--show-misses N"),
            // `cargo bench` passes --bench; anything else unknown is ignored too.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

/// A person as generated (an original or a probe).
#[derive(Clone, Debug)]
struct Person {
    first: Option<String>,
    last: String,
    email: Option<String>,
    business_phone: Option<String>,
    mobile_phone: Option<String>,
    street: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
}

/// A company as generated.
#[derive(Clone, Debug)]
struct Company {
    name: String,
    website: Option<String>,
    phone: Option<String>,
    street: Option<String>,
    city: Option<String>,
    postal_code: Option<String>,
}

/// Phone digits (a US number) written one of the ways people write them.
fn write_phone(rng: &mut StdRng, digits: &str) -> String {
    let (a, b, c) = (&digits[0..3], &digits[3..6], &digits[6..10]);
    match rng.random_range(0..5) {
        0 => format!("+1 {a} {b} {c}"),
        1 => format!("({a}) {b}-{c}"),
        2 => format!("{a}.{b}.{c}"),
        3 => format!("1-{a}-{b}-{c}"),
        _ => format!("{a}-{b}-{c}"),
    }
}

fn phone_digits(rng: &mut StdRng) -> String {
    // Area codes and exchanges that libphonenumber accepts as US numbers.
    let area = [206, 425, 503, 512, 303, 617, 312, 404, 602, 919]
        .choose(rng)
        .copied()
        .unwrap_or(425);
    format!(
        "{area}{}{:04}",
        rng.random_range(201..=989),
        rng.random_range(0..10_000)
    )
}

fn ascii_fold(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.replace('Ø', "O")
        .replace('ø', "o")
        .replace('Ł', "L")
        .replace('ł', "l")
        .nfkd()
        .filter(char::is_ascii)
        .collect()
}

/// One typo: a transposition, deletion, insertion or substitution after the first letter.
fn typo(rng: &mut StdRng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    if chars.len() < 4 {
        return s.to_owned();
    }
    let at = rng.random_range(1..chars.len() - 1);
    match rng.random_range(0..4) {
        0 => chars.swap(at, at + 1),
        1 => {
            chars.remove(at);
        }
        2 => chars.insert(at, chars[at]),
        _ => chars[at] = *b"aeiourstln".choose(rng).unwrap_or(&b'e') as char,
    }
    chars.into_iter().collect()
}

fn address(rng: &mut StdRng) -> (String, String, String, String, (String, String)) {
    let street = STREETS.choose(rng).unwrap();
    let kind = STREET_TYPES.choose(rng).unwrap();
    let (city, state) = CITIES.choose(rng).unwrap();
    (
        format!("{} {street} {}", rng.random_range(1..9_999), kind.0),
        (*city).to_owned(),
        (*state).to_owned(),
        format!("{:05}", rng.random_range(10_000..99_999)),
        (kind.0.to_owned(), kind.1.to_owned()),
    )
}

/// A pronounceable made-up word of five to nine letters, capitalized.
fn made_up_word(rng: &mut StdRng) -> String {
    const CONSONANTS: &[u8] = b"bcdfghjklmnprstvz";
    const VOWELS: &[u8] = b"aeiou";
    let len = rng.random_range(5..=9);
    let mut word = String::with_capacity(len);
    for i in 0..len {
        let pool = if i % 2 == 0 { CONSONANTS } else { VOWELS };
        let c = pool[rng.random_range(0..pool.len())] as char;
        word.push(if i == 0 { c.to_ascii_uppercase() } else { c });
    }
    word
}

fn person(rng: &mut StdRng, taken: &mut HashSet<(String, String)>, i: usize) -> Person {
    let (first, last) = loop {
        let first = (*FIRST_NAMES.choose(rng).unwrap()).to_owned();
        let last = (*LAST_NAMES.choose(rng).unwrap()).to_owned();
        let last = if taken.len() > FIRST_NAMES.len() * LAST_NAMES.len() * LAST_NAMES.len() / 4 {
            // Past what the name lists can tell apart (the fill of `--lookup-sizes`).
            format!("{last}-{}", made_up_word(rng))
        } else if taken.len() > FIRST_NAMES.len() * LAST_NAMES.len() / 2 {
            format!("{last}-{}", LAST_NAMES.choose(rng).unwrap())
        } else {
            last
        };
        if taken.insert((first.clone(), last.clone())) {
            break (first, last);
        }
    };
    let (street, city, state, zip, _) = address(rng);
    let email = format!(
        "{}.{}{i}@{}",
        ascii_fold(&first).to_lowercase(),
        ascii_fold(&last).to_lowercase().replace([' ', '\''], ""),
        ["example.com", "mail.example.org", "contoso.com"]
            .choose(rng)
            .unwrap()
    );
    let business = phone_digits(rng);
    let mobile = phone_digits(rng);
    Person {
        first: Some(first),
        last,
        email: Some(email),
        business_phone: Some(write_phone(rng, &business)),
        mobile_phone: Some(write_phone(rng, &mobile)),
        street: Some(street),
        city: Some(city),
        state: Some(state),
        postal_code: Some(zip),
        country: Some(
            ["United States", "USA", "US"]
                .choose(rng)
                .unwrap()
                .to_string(),
        ),
    }
}

/// A duplicate of `p` with one to three corruptions.
fn corrupt_person(rng: &mut StdRng, p: &Person) -> Person {
    let mut d = p.clone();
    let n = rng.random_range(1..=3);
    for _ in 0..n {
        match rng.random_range(0..9) {
            0 => d.last = typo(rng, &d.last),
            1 => d.first = d.first.as_deref().map(|f| typo(rng, f)),
            2 => {
                if let Some(nick) = d.first.as_deref().and_then(nickname) {
                    d.first = Some(nick.to_owned());
                }
            }
            3 => {
                d.first = d.first.as_deref().map(|f| ascii_fold(f).to_uppercase());
                d.last = ascii_fold(&d.last).to_lowercase();
            }
            4 => {
                let digits: String = d
                    .business_phone
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                let digits = digits.trim_start_matches('1').to_owned();
                if digits.len() == 10 {
                    d.business_phone = Some(write_phone(rng, &digits));
                }
                d.email = d.email.map(|e| e.to_uppercase());
            }
            5 => {
                if let Some(first) = d.first.take() {
                    d.first = Some(d.last.clone());
                    d.last = first;
                }
            }
            6 => match rng.random_range(0..3) {
                0 => d.email = None,
                1 => d.mobile_phone = None,
                _ => {
                    d.street = None;
                    d.city = None;
                }
            },
            7 => {
                d.street = d.street.map(|s| {
                    let mut s = s;
                    for (long, short) in STREET_TYPES {
                        s = s.replace(long, &format!("{short}."));
                    }
                    s
                });
                d.postal_code = d
                    .postal_code
                    .map(|z| format!("{z}-{:04}", rng.random_range(0..10_000)));
            }
            _ => d.email = None,
        }
    }
    d
}

fn company(rng: &mut StdRng, taken: &mut HashSet<String>) -> Company {
    let base = loop {
        let base = format!(
            "{} {}",
            COMPANY_WORDS.choose(rng).unwrap(),
            COMPANY_KINDS.choose(rng).unwrap()
        );
        let space = COMPANY_WORDS.len() * COMPANY_KINDS.len();
        let base = if taken.len() > space * STREETS.len() / 4 {
            // Past what the word lists can tell apart (the fill of `--lookup-sizes`): a made-up
            // first word, as real company names start with words of their own.
            format!(
                "{} {}",
                made_up_word(rng),
                COMPANY_KINDS.choose(rng).unwrap()
            )
        } else if taken.len() > space / 2 {
            format!("{base} {}", STREETS.choose(rng).unwrap())
        } else {
            base
        };
        if taken.insert(base.clone()) {
            break base;
        }
    };
    let form = LEGAL_FORMS.choose(rng).unwrap();
    let name = if form.is_empty() {
        base.clone()
    } else {
        format!("{base} {form}")
    };
    let domain = base.to_lowercase().replace(' ', "");
    let tld = [".com", ".co.uk", ".io", ".net"].choose(rng).unwrap();
    let (street, city, _, zip, _) = address(rng);
    let phone = phone_digits(rng);
    Company {
        name,
        website: Some(format!("https://www.{domain}{tld}")),
        phone: Some(write_phone(rng, &phone)),
        street: Some(street),
        city: Some(city),
        postal_code: Some(zip),
    }
}

fn corrupt_company(rng: &mut StdRng, c: &Company) -> Company {
    let mut d = c.clone();
    let n = rng.random_range(1..=3);
    for _ in 0..n {
        match rng.random_range(0..7) {
            0 => {
                // Another legal form (or none).
                let mut words: Vec<&str> = d.name.split(' ').collect();
                if words.len() > 2
                    && LEGAL_FORMS
                        .iter()
                        .any(|f| !f.is_empty() && Some(f) == words.last())
                {
                    words.pop();
                }
                let form = LEGAL_FORMS.choose(rng).unwrap();
                d.name = format!(
                    "{}{}{form}",
                    words.join(" "),
                    if form.is_empty() { "" } else { ", " }
                );
            }
            1 => d.name = typo(rng, &d.name),
            2 => d.name = d.name.to_uppercase(),
            3 => {
                d.website = d.website.map(|w| {
                    let host = w.trim_start_matches("https://www.");
                    match rng.random_range(0..3) {
                        0 => format!("http://shop.{host}/"),
                        1 => host.to_owned(),
                        _ => format!("https://{host}/about-us"),
                    }
                })
            }
            4 => {
                let digits: String = d
                    .phone
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                let digits = digits.trim_start_matches('1').to_owned();
                if digits.len() == 10 {
                    d.phone = Some(write_phone(rng, &digits));
                }
            }
            5 => match rng.random_range(0..3) {
                0 => d.website = None,
                1 => d.phone = None,
                _ => d.city = None,
            },
            _ => {
                d.street = d.street.map(|s| {
                    let mut s = s;
                    for (long, short) in STREET_TYPES {
                        s = s.replace(long, short);
                    }
                    s
                })
            }
        }
    }
    d
}

fn contact_model(p: &Person, owner: Uuid) -> contact::Model {
    let now = chrono::Utc::now();
    contact::Model {
        id: Uuid::now_v7(),
        first_name: p.first.clone(),
        last_name: p.last.clone(),
        job_title: None,
        business_phone: p.business_phone.clone(),
        mobile_phone: p.mobile_phone.clone(),
        email: p.email.clone(),
        street1: p.street.clone(),
        street2: None,
        street3: None,
        city: p.city.clone(),
        state_or_province: p.state.clone(),
        postal_code: p.postal_code.clone(),
        country_or_region: p.country.clone(),
        parent_account_id: None,
        originating_lead_id: None,
        owner_id: owner,
        state: RecordState::Active,
        created_at: now,
        modified_at: now,
    }
}

fn account_model(c: &Company, owner: Uuid) -> account::Model {
    let now = chrono::Utc::now();
    account::Model {
        id: Uuid::now_v7(),
        name: c.name.clone(),
        website: c.website.clone(),
        phone: c.phone.clone(),
        email: None,
        street1: c.street.clone(),
        street2: None,
        street3: None,
        city: c.city.clone(),
        state_or_province: None,
        postal_code: c.postal_code.clone(),
        country_or_region: None,
        primary_contact_id: None,
        originating_lead_id: None,
        owner_id: owner,
        state: RecordState::Active,
        created_at: now,
        modified_at: now,
    }
}

/// Stores records and their match keys, 500 per transaction.
async fn store(db: &Db, accounts: &[account::Model], contacts: &[contact::Model]) {
    for chunk in accounts.chunks(500) {
        let txn = db.write.begin().await.unwrap();
        account::Entity::insert_many(chunk.iter().map(|a| {
            let m: account::ActiveModel = a.clone().into();
            m
        }))
        .exec_without_returning(&txn)
        .await
        .unwrap();
        let records: Vec<Record<'_>> = chunk.iter().map(Record::Account).collect();
        duplicates::insert_keys(&txn, &records).await.unwrap();
        txn.commit().await.unwrap();
    }
    for chunk in contacts.chunks(500) {
        let txn = db.write.begin().await.unwrap();
        contact::Entity::insert_many(chunk.iter().map(|c| {
            let m: contact::ActiveModel = c.clone().into();
            m
        }))
        .exec_without_returning(&txn)
        .await
        .unwrap();
        let records: Vec<Record<'_>> = chunk.iter().map(Record::Contact).collect();
        duplicates::insert_keys(&txn, &records).await.unwrap();
        txn.commit().await.unwrap();
    }
}

/// The account → account and contact → contact rules of a set.
async fn rule_set(
    db: &Db,
    recommended: bool,
    defaults: &HashSet<Uuid>,
) -> (Vec<LoadedRule>, Vec<LoadedRule>) {
    let all = duplicate_rules::list(&db.read).await.unwrap();
    let chosen: Vec<_> = all
        .into_iter()
        .map(|(rule, _)| rule)
        .filter(|r| {
            if recommended {
                r.name.starts_with("Recommended: ")
            } else {
                defaults.contains(&r.id)
            }
        })
        .collect();
    let loaded = duplicates::load_rules(&db.read, chosen).await.unwrap();
    let of = |t: DuplicateRecordType| -> Vec<LoadedRule> {
        loaded
            .iter()
            .filter(|r| r.rule.base_record_type == t && r.rule.matching_record_type == t)
            .cloned()
            .collect()
    };
    (
        of(DuplicateRecordType::Account),
        of(DuplicateRecordType::Contact),
    )
}

#[derive(Default)]
struct Counts {
    tp: u64,
    fp: u64,
    fn_: u64,
}

impl Counts {
    fn add(&mut self, original: Option<Uuid>, found: &[Uuid]) {
        let hit = original.is_some_and(|o| found.contains(&o));
        self.tp += u64::from(hit);
        self.fp += found.iter().filter(|id| Some(**id) != original).count() as u64;
        self.fn_ += u64::from(original.is_some() && !hit);
    }

    fn row(&self, name: &str) -> String {
        let precision = if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        };
        let recall = self.tp as f64 / (self.tp + self.fn_).max(1) as f64;
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        format!(
            "| {name:<34} | {precision:>9.3} | {recall:>6.3} | {f1:>5.3} | {:>5} | {:>4} | {:>4} |",
            self.tp, self.fp, self.fn_
        )
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

async fn connect(url: &str) -> Db {
    let db = db::connect(url, db::ConnectOptions::with_pool_size(4))
        .await
        .unwrap();
    Migrator::up(&db.write, None).await.unwrap();
    db
}

#[tokio::main]
async fn main() {
    let o = options();
    let dir = tempfile::tempdir().unwrap();
    let url = o.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("matching.db").display()
        )
    });
    let db = connect(&url).await;
    let admin = leadq::service::users::upsert_by_name(&db, "bench", &[Role::SystemAdministrator])
        .await
        .unwrap();
    let owner = admin.id;
    // The recommended set is published, as an administrator would before relying on it: FUZZY
    // candidates come from blocking keys, which are kept only for the fields a published FUZZY
    // condition reads. The defaults are evaluated from the rules published before.
    let defaults: HashSet<Uuid> = duplicate_rules::list(&db.read)
        .await
        .unwrap()
        .into_iter()
        .filter(|(rule, _)| rule.published)
        .map(|(rule, _)| rule.id)
        .collect();
    let recommended: Vec<Uuid> = duplicate_rules::list(&db.read)
        .await
        .unwrap()
        .into_iter()
        .filter(|(rule, _)| rule.name.starts_with("Recommended: "))
        .map(|(rule, _)| rule.id)
        .collect();
    duplicate_rules::publish_many(
        &db,
        &leadq::auth::Actor::from_user(&admin),
        &recommended,
        true,
    )
    .await
    .unwrap();
    let mut rng = StdRng::seed_from_u64(o.seed);

    // 1–2. Originals, stored with their keys.
    let mut names = HashSet::new();
    let people: Vec<Person> = (0..o.people)
        .map(|i| person(&mut rng, &mut names, i))
        .collect();
    let mut company_names = HashSet::new();
    let companies: Vec<Company> = (0..o.companies)
        .map(|_| company(&mut rng, &mut company_names))
        .collect();
    let contacts: Vec<contact::Model> = people.iter().map(|p| contact_model(p, owner)).collect();
    let accounts: Vec<account::Model> = companies.iter().map(|c| account_model(c, owner)).collect();
    let started = Instant::now();
    store(&db, &accounts, &contacts).await;
    println!(
        "stored {} contacts and {} accounts in {:.1?} (seed {})",
        contacts.len(),
        accounts.len(),
        started.elapsed(),
        o.seed
    );

    // 3. Probes: a corrupted duplicate of every original, and as many new records.
    let mut contact_probes: Vec<(Option<Uuid>, contact::Model)> = people
        .iter()
        .zip(&contacts)
        .map(|(p, c)| {
            (
                Some(c.id),
                contact_model(&corrupt_person(&mut rng, p), owner),
            )
        })
        .collect();
    let mut fresh_names = names.clone();
    for i in 0..o.people {
        let p = person(&mut rng, &mut fresh_names, o.people + i);
        contact_probes.push((None, contact_model(&p, owner)));
    }
    let mut account_probes: Vec<(Option<Uuid>, account::Model)> = companies
        .iter()
        .zip(&accounts)
        .map(|(c, a)| {
            (
                Some(a.id),
                account_model(&corrupt_company(&mut rng, c), owner),
            )
        })
        .collect();
    let mut fresh_companies = company_names.clone();
    for _ in 0..o.companies {
        let c = company(&mut rng, &mut fresh_companies);
        account_probes.push((None, account_model(&c, owner)));
    }

    // 4. Every probe under each rule set.
    println!();
    println!(
        "| rule set / records                 | precision | recall |    F1 |    TP |   FP |   FN |"
    );
    println!(
        "|------------------------------------|-----------|--------|-------|-------|------|------|"
    );
    for (label, recommended) in [("default", false), ("recommended", true)] {
        let (account_rules, contact_rules) = rule_set(&db, recommended, &defaults).await;
        let mut total = Counts::default();
        let mut per_kind = Vec::new();
        let mut c = Counts::default();
        let mut shown = 0;
        for (original, probe) in &contact_probes {
            let found = duplicates::contact_matches_with(&db.read, &contact_rules, probe)
                .await
                .unwrap();
            let ids: Vec<Uuid> = found.iter().map(|m| m.record.id).collect();
            let missed = original.is_some_and(|o| !ids.contains(&o));
            let wrong: Vec<&contact::Model> = found
                .iter()
                .filter(|m| Some(m.record.id) != *original)
                .map(|m| &m.record)
                .collect();
            if shown < o.show_misses && (missed || !wrong.is_empty()) {
                shown += 1;
                let show = |c: &contact::Model| {
                    format!(
                        "{:?} {:?} {:?} {:?} {:?} {:?}",
                        c.first_name,
                        c.last_name,
                        c.email,
                        c.business_phone,
                        c.mobile_phone,
                        c.postal_code
                    )
                };
                println!("{label} probe    {}", show(probe));
                if let Some(o) = original.filter(|_| missed) {
                    let o = contacts.iter().find(|c| c.id == o).unwrap();
                    println!("  missed   {}", show(o));
                }
                for w in wrong {
                    println!("  wrong    {}", show(w));
                }
            }
            c.add(*original, &ids);
            total.add(*original, &ids);
        }
        per_kind.push(c.row(&format!("{label}: contacts")));
        let mut a = Counts::default();
        for (original, probe) in &account_probes {
            let found = duplicates::account_matches_with(&db.read, &account_rules, probe)
                .await
                .unwrap();
            let ids: Vec<Uuid> = found.iter().map(|m| m.record.id).collect();
            a.add(*original, &ids);
            total.add(*original, &ids);
        }
        per_kind.push(a.row(&format!("{label}: accounts")));
        for row in per_kind {
            println!("{row}");
        }
        println!("{}", total.row(&format!("{label}: all")));
    }

    // Lookup latency of one check (recommended rules, a contact and an account) by size.
    let (account_rules, contact_rules) = rule_set(&db, true, &defaults).await;
    let mut stored = o.people + o.companies;
    let mut filler_names = fresh_names;
    let mut filler_companies = fresh_companies;
    println!();
    println!("| records   | check p50 | check p99 |");
    println!("|-----------|-----------|-----------|");
    for size in &o.lookup_sizes {
        while stored < *size {
            let batch = (*size - stored).min(10_000);
            let people: Vec<contact::Model> = (0..batch / 2)
                .map(|i| contact_model(&person(&mut rng, &mut filler_names, stored + i), owner))
                .collect();
            let firms: Vec<account::Model> = (0..batch - batch / 2)
                .map(|_| account_model(&company(&mut rng, &mut filler_companies), owner))
                .collect();
            store(&db, &firms, &people).await;
            stored += batch;
        }
        let mut times = Vec::with_capacity(300);
        for i in 0..300 {
            let (_, contact_probe) = &contact_probes[i % contact_probes.len()];
            let (_, account_probe) = &account_probes[i % account_probes.len()];
            let started = Instant::now();
            duplicates::contact_matches_with(&db.read, &contact_rules, contact_probe)
                .await
                .unwrap();
            duplicates::account_matches_with(&db.read, &account_rules, account_probe)
                .await
                .unwrap();
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "| {stored:>9} | {:>9.2?} | {:>9.2?} |",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }
    db.close().await;
}
