//! `leadq seed`: a realistic demo data set for the playground. Users of every role, accounts and
//! contacts, and a few dozen leads in every state (open, qualified, disqualified), some of them
//! near-duplicates of existing accounts and contacts (other case, other phone formatting), so
//! duplicate detection has something to show. Everything goes through the service layer, exactly
//! as the API would do it.

use entity::{LeadRating, LeadSource, LeadStatusReason, PurchaseProcess, PurchaseTimeframe, Role};

use crate::auth::Actor;
use crate::domain::qualification::{Outcome, QualifyRequest};
use crate::domain::records::{AddressChanges, Change, LeadChanges, NewAccount, NewContact, limits};
use crate::domain::values::{CurrencyCode, Email, Money, Name, Phone, Topic, Website};
use crate::error::{AppError, AppResult};
use crate::service::{self, qualification::Qualifier};

/// What was seeded.
#[derive(Debug, Default)]
pub struct SeedSummary {
    pub users: usize,
    pub accounts: usize,
    pub contacts: usize,
    pub open_leads: usize,
    pub qualified_leads: usize,
    pub disqualified_leads: usize,
}

const COMPANIES: &[(&str, &str, &str, &str)] = &[
    ("Contoso Ltd", "contoso.com", "Redmond", "USA"),
    ("Fabrikam Inc", "fabrikam.com", "Seattle", "USA"),
    (
        "Northwind Traders",
        "northwindtraders.com",
        "London",
        "United Kingdom",
    ),
    ("Adventure Works", "adventure-works.com", "Bothell", "USA"),
    ("Litware Inc", "litware.com", "Dallas", "USA"),
    ("Tailspin Toys", "tailspintoys.com", "Toronto", "Canada"),
    (
        "Wide World Importers",
        "wideworldimporters.com",
        "Sydney",
        "Australia",
    ),
    ("Proseware Inc", "proseware.com", "Berlin", "Germany"),
];

const PEOPLE: &[(&str, &str, &str)] = &[
    ("Ann", "Smith", "CTO"),
    ("Bo", "Chen", "Head of Purchasing"),
    ("Carla", "Diaz", "Operations Manager"),
    ("Dev", "Patel", "IT Director"),
    ("Eva", "Nowak", "CFO"),
    ("Farid", "Haddad", "Procurement Lead"),
    ("Grace", "Kim", "Office Manager"),
    ("Hugo", "Martin", "VP Sales"),
];

const NEW_COMPANIES: &[&str] = &[
    "Blue Yonder Airlines",
    "Coho Winery",
    "Alpine Ski House",
    "Margie's Travel",
    "Lucerne Publishing",
    "Graphic Design Institute",
    "Humongous Insurance",
    "Trey Research",
    "Woodgrove Bank",
    "Southridge Video",
    "Consolidated Messenger",
    "Fourth Coffee",
    "City Power & Light",
    "School of Fine Art",
    "Wingtip Toys",
    "VanArsdel Ltd",
    "Relecloud",
    "First Up Consultants",
    "Bellows College",
    "Munson's Pickles",
    "Nod Publishers",
    "Datum Corporation",
    "Baldwin Museum",
    "Best For You Organics",
];

const FIRST: &[&str] = &[
    "Iris", "Jon", "Kai", "Lena", "Mo", "Nia", "Omar", "Pia", "Quinn", "Rosa", "Sven", "Tara",
];
const LAST: &[&str] = &[
    "Berg", "Costa", "Dubois", "Ekström", "Fischer", "García", "Hansen", "Ito", "Jensen",
    "Kowalski", "Larsen", "Moreau",
];
const TOPICS: &[&str] = &[
    "50 laptops for the new office",
    "Annual support contract",
    "Point-of-sale rollout",
    "Cloud migration assessment",
    "Conference room displays",
    "Fleet tablets",
    "Security audit",
    "Warehouse scanners",
];

fn text(value: &str) -> Option<Option<String>> {
    Some(Some(value.to_owned()))
}

/// A change to a value parsed like client input (the seed's data obeys the API's rules).
fn set<T>(parsed: AppResult<Option<T>>) -> AppResult<Change<T>> {
    parsed.map(Some)
}

fn some(value: impl Into<String>) -> Option<String> {
    Some(value.into())
}

/// Seeds an empty database; refuses one that already has leads.
pub async fn seed(qualifier: &Qualifier) -> AppResult<SeedSummary> {
    let db = qualifier.db();
    if service::leads::count(db).await? > 0 {
        return Err(AppError::Conflict(
            "the database already has leads; seed an empty database".to_owned(),
        ));
    }
    let mut summary = SeedSummary::default();
    service::users::development_admin(db).await?;
    let manager = Actor::from_user(
        &service::users::upsert_by_name(db, "Dana Manager", &[Role::SalesManager]).await?,
    );
    let sellers = [
        Actor::from_user(
            &service::users::upsert_by_name(db, "Sam Seller", &[Role::Salesperson]).await?,
        ),
        Actor::from_user(
            &service::users::upsert_by_name(db, "Riley Seller", &[Role::Salesperson]).await?,
        ),
    ];
    summary.users = 4;

    // Existing customers: an account and a contact at each.
    let mut accounts = Vec::new();
    let mut contacts = Vec::new();
    for (i, (name, domain, city, country)) in COMPANIES.iter().enumerate() {
        let account = service::accounts::create(
            db,
            &manager,
            NewAccount {
                name: Name::parse_required("name", some(*name), limits::ACCOUNT_NAME)?,
                website: Website::parse("website", some(format!("https://www.{domain}/")))?,
                phone: Phone::parse(
                    "phone",
                    some(format!("+1 (555) 01{i}-1000")),
                    limits::BUSINESS_PHONE,
                )?,
                email: Email::parse("email", some(format!("info@{domain}")))?,
                address: AddressChanges {
                    city: text(city),
                    country_or_region: text(country),
                    ..Default::default()
                },
                custom_fields: Vec::new(),
            },
            None,
        )
        .await?;
        let (first, last, title) = PEOPLE[i];
        let contact = service::contacts::create(
            db,
            &manager,
            NewContact {
                first_name: Name::parse("firstName", some(first), limits::FIRST_NAME)?,
                last_name: Name::parse_required("lastName", some(last), limits::LAST_NAME)?,
                job_title: Some(title.to_owned()),
                business_phone: Phone::parse(
                    "businessPhone",
                    some(format!("+1 (555) 01{i}-2000")),
                    limits::BUSINESS_PHONE,
                )?,
                mobile_phone: None,
                email: Email::parse("email", some(format!("{}@{domain}", first.to_lowercase())))?,
                address: AddressChanges::default(),
                parent_account_id: Some(account.id),
                custom_fields: Vec::new(),
            },
        )
        .await?;
        accounts.push(account);
        contacts.push(contact);
    }
    summary.accounts = accounts.len();
    summary.contacts = contacts.len();

    // New prospects.
    let mut new_leads = Vec::new();
    for (i, company) in NEW_COMPANIES.iter().enumerate() {
        let owner = &sellers[i % 2];
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i * 5 + i / LAST.len()) % LAST.len()];
        let slug: String = company
            .to_lowercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let changes = LeadChanges {
            topic: set(Topic::parse("topic", some(TOPICS[i % TOPICS.len()])))?,
            first_name: set(Name::parse("firstName", some(first), limits::FIRST_NAME))?,
            last_name: set(Name::parse("lastName", some(last), limits::LAST_NAME))?,
            job_title: text(["Buyer", "CIO", "Founder", "Facilities Manager"][i % 4]),
            business_phone: set(Phone::parse(
                "businessPhone",
                some(format!("+1 555 02{:02} 3000", i)),
                limits::BUSINESS_PHONE,
            ))?,
            email: set(Email::parse(
                "email",
                some(format!("{}.{}@{slug}.example", first.to_lowercase(), i)),
            ))?,
            company_name: set(Name::parse(
                "companyName",
                some(*company),
                limits::COMPANY_NAME,
            ))?,
            website: set(Website::parse("website", some(format!("{slug}.example"))))?,
            description: text("Came in through the spring campaign."),
            lead_source: Some(Some(
                [
                    LeadSource::Web,
                    LeadSource::TradeShow,
                    LeadSource::Partner,
                    LeadSource::Seminar,
                ][i % 4],
            )),
            rating: Some(Some(
                [LeadRating::Hot, LeadRating::Warm, LeadRating::Cold][i % 3],
            )),
            purchase_timeframe: Some(Some(
                [
                    PurchaseTimeframe::ThisQuarter,
                    PurchaseTimeframe::NextQuarter,
                    PurchaseTimeframe::ThisYear,
                ][i % 3],
            )),
            purchase_process: Some(Some(if i % 2 == 0 {
                PurchaseProcess::Committee
            } else {
                PurchaseProcess::Individual
            })),
            budget_amount: set(Money::parse(
                "budgetAmount",
                Some(&format!("{}", (i + 1) * 12_500)),
            ))?,
            decision_maker: Some(Some(i % 3 == 0)),
            currency_code: set(CurrencyCode::parse(
                "currencyCode",
                some(if i % 5 == 0 { "EUR" } else { "USD" }),
            ))?,
            address: AddressChanges {
                city: text(["Paris", "Austin", "Oslo", "Lima"][i % 4]),
                ..Default::default()
            },
            ..Default::default()
        };
        let lead = service::leads::create(db, qualifier.events(), owner, changes, None)
            .await?
            .lead;
        if i % 3 == 0 {
            service::notes::add(
                db,
                owner,
                lead.id,
                Some("Discovery call".to_owned()),
                Some(format!(
                    "{first} wants a proposal before the end of the quarter."
                )),
            )
            .await?;
        }
        new_leads.push((lead, owner.clone()));
    }

    // Near-duplicates of existing customers: other case, spacing and phone formatting.
    for (i, (name, domain, _, _)) in COMPANIES.iter().enumerate().take(6) {
        let (first, last, _) = PEOPLE[i];
        let changes = LeadChanges {
            topic: set(Topic::parse("topic", some(format!("Expansion at {name}"))))?,
            first_name: set(Name::parse(
                "firstName",
                some(first.to_uppercase()),
                limits::FIRST_NAME,
            ))?,
            last_name: set(Name::parse("lastName", some(last), limits::LAST_NAME))?,
            email: set(Email::parse(
                "email",
                some(format!(
                    "  {}@{} ",
                    first.to_uppercase(),
                    domain.to_uppercase()
                )),
            ))?,
            business_phone: set(Phone::parse(
                "businessPhone",
                some(format!("1555 01{i} 2000")),
                limits::BUSINESS_PHONE,
            ))?,
            company_name: set(Name::parse(
                "companyName",
                some(name.to_lowercase()),
                limits::COMPANY_NAME,
            ))?,
            website: set(Website::parse("website", some(*domain)))?,
            ..Default::default()
        };
        service::leads::create(db, qualifier.events(), &sellers[i % 2], changes, None).await?;
        summary.open_leads += 1;
    }

    // Qualify some, disqualify some, leave the rest open.
    for (i, (lead, owner)) in new_leads.iter().enumerate() {
        match i % 3 {
            0 => {
                let request = QualifyRequest {
                    lead_id: lead.id,
                    ..Default::default()
                };
                match qualifier.qualify_lead(owner, request).await? {
                    Outcome::Qualified(_) => summary.qualified_leads += 1,
                    Outcome::DuplicatesFound { .. } => summary.open_leads += 1,
                }
            }
            1 if i % 2 == 1 => {
                let reason = [
                    LeadStatusReason::Lost,
                    LeadStatusReason::CannotContact,
                    LeadStatusReason::NoLongerInterested,
                    LeadStatusReason::Canceled,
                ][i % 4];
                service::leads::disqualify(db, qualifier.events(), owner, lead.id, Some(reason))
                    .await?;
                summary.disqualified_leads += 1;
            }
            _ => summary.open_leads += 1,
        }
    }
    Ok(summary)
}
