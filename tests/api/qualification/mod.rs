//! Qualifying leads end to end, one file per topic: the settings and mappings, what the default
//! settings create, the seller's choices, opportunities, the preview, bulk qualification,
//! concurrency and idempotency, crash safety, several server processes, database outages.

use entity::{LeadState, Role, account, contact, lead, opportunity};
use futures_util::future::join_all;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, error_field, spawn_app};

const QUALIFY: &str = "mutation($input: QualifyLeadInput!) { qualifyLead(input: $input) {
    outcome
    lead { id state statusReason processStage qualifiedAt }
    account { id name }
    contact { id fullName }
    opportunities { id topic currencyCode }
    warnings { code message } } }";

const UPDATE_SETTINGS: &str = "mutation($input: UpdateQualificationSettingsInput!) {
    updateQualificationSettings(input: $input) { settings { experience autoCreateRecords
    accountCreation contactCreation opportunityCreation allowMultipleOpportunities
    maxOpportunitiesPerLead summarizeLead opportunityFormFields baseCurrencyCode
    modifiedBy { name } } } }";

const PREVIEW: &str = "query($input: QualifyLeadInput!) { previewQualification(input: $input) {
    outcome error { code message } requiredChoices { record message options }
    account { action mode existing { id } fields { field sourceField value } }
    contact { action mode existing { id } fields { field sourceField value } }
    opportunities { topic currencyCode budgetAmount fields { field sourceField value } }
    warnings { code } } }";

/// What a lead was qualified to.
const LEAD_RESULT: &str = "id state statusReason processStage qualifiedAt
    qualifiedAccount { id } qualifiedContact { id } qualifyingOpportunity { id }
    opportunities { id topic } notes { subject text }";

/// The id of a record in a response.
fn id(record: &Value) -> &str {
    record["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {record:#}"))
}

/// Changes the qualification settings as the administrator; returns the settings in force.
async fn update_settings(app: &TestApp, input: Value) -> Value {
    app.ok(UPDATE_SETTINGS, json!({ "input": input })).await["updateQualificationSettings"]
        ["settings"]
        .clone()
}

/// Runs `qualifyLead` as the administrator; returns the whole response body.
async fn qualify(app: &TestApp, input: Value) -> Value {
    app.graphql(QUALIFY, json!({ "input": input })).await
}

/// Runs `qualifyLead`, which must qualify the lead; returns the payload.
async fn qualified(app: &TestApp, input: Value) -> Value {
    let body = qualify(app, input).await;
    assert!(body.get("errors").is_none(), "qualifyLead failed: {body:#}");
    let payload = body["data"]["qualifyLead"].clone();
    assert_eq!(payload["outcome"], "QUALIFIED", "{payload:#}");
    payload
}

/// Runs `previewQualification`; returns the preview.
async fn preview(app: &TestApp, input: Value) -> Value {
    app.ok(PREVIEW, json!({ "input": input })).await["previewQualification"].clone()
}

/// How many accounts, contacts and opportunities exist.
async fn count(app: &TestApp) -> (i64, i64, i64) {
    let data = app
        .ok(
            "{ accounts { totalCount } contacts { totalCount } opportunities { totalCount } }",
            json!({}),
        )
        .await;
    let total = |name: &str| data[name]["totalCount"].as_i64().unwrap();
    (total("accounts"), total("contacts"), total("opportunities"))
}

/// The lead's state and what it was qualified to.
async fn lead_result(app: &TestApp, lead_id: &str) -> Value {
    app.ok(
        &format!("query($id: ID!) {{ lead(id: $id) {{ {LEAD_RESULT} }} }}"),
        json!({ "id": lead_id }),
    )
    .await["lead"]
        .clone()
}

/// An opportunity with its links.
async fn opportunity(app: &TestApp, opportunity_id: &str) -> Value {
    app.ok(
        "query($id: ID!) { opportunity(id: $id) { id topic description currencyCode budgetAmount
            purchaseTimeframe purchaseProcess decisionMaker processStage state
            customer { __typename ... on Account { id } ... on Contact { id } }
            account { id } contact { id } originatingLead { id }
            notes { subject text regardingType }
            stakeholders { contact { id } role } } }",
        json!({ "id": opportunity_id }),
    )
    .await["opportunity"]
        .clone()
}

/// Asserts that the lead is still open and was qualified to nothing.
async fn assert_still_open(app: &TestApp, lead_id: &str) {
    let lead = lead_result(app, lead_id).await;
    assert_eq!(lead["state"], "OPEN", "{lead:#}");
    assert_eq!(lead["statusReason"], "NEW", "{lead:#}");
    assert_eq!(lead["processStage"], "QUALIFY", "{lead:#}");
    assert_eq!(lead["qualifiedAt"], Value::Null, "{lead:#}");
    assert_eq!(lead["qualifiedAccount"], Value::Null, "{lead:#}");
    assert_eq!(lead["qualifiedContact"], Value::Null, "{lead:#}");
    assert_eq!(lead["qualifyingOpportunity"], Value::Null, "{lead:#}");
}

/// A lead with every mapped field set.
fn full_lead() -> Value {
    json!({
        "topic": "Need 50 laptops", "firstName": "Ann", "lastName": "Smith", "jobTitle": "CTO",
        "businessPhone": "+1 (555) 010-2000", "mobilePhone": "555 0101",
        "email": "ann@contoso.com", "companyName": "Contoso", "website": "https://contoso.com",
        "description": "Met at the fair", "purchaseTimeframe": "THIS_QUARTER",
        "purchaseProcess": "COMMITTEE", "budgetAmount": "125000.5", "decisionMaker": true,
        "address": { "street1": "1 Main St", "street2": "Floor 2", "street3": "Suite 3",
                     "city": "Redmond", "stateOrProvince": "WA", "postalCode": "98052",
                     "countryOrRegion": "USA" }
    })
}

/// The ids of the leads in a view.
async fn view(app: &TestApp, view: &str) -> Vec<String> {
    let data = app
        .ok(
            "query($view: LeadView) { leads(view: $view) { edges { node { id } } } }",
            json!({ "view": view }),
        )
        .await;
    data["leads"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every lead is either qualified with all its records, or open with none.
pub async fn assert_all_or_nothing(db: &leadq::db::Db) -> u64 {
    let leads = lead::Entity::find().all(&db.read).await.unwrap();
    let mut qualified = 0;
    for lead in &leads {
        let accounts = account::Entity::find()
            .filter(account::Column::OriginatingLeadId.eq(lead.id))
            .count(&db.read)
            .await
            .unwrap();
        let contacts = contact::Entity::find()
            .filter(contact::Column::OriginatingLeadId.eq(lead.id))
            .count(&db.read)
            .await
            .unwrap();
        let opportunities = opportunity::Entity::find()
            .filter(opportunity::Column::OriginatingLeadId.eq(lead.id))
            .count(&db.read)
            .await
            .unwrap();
        match lead.state {
            LeadState::Qualified => {
                qualified += 1;
                assert_eq!(
                    (accounts, contacts, opportunities),
                    (1, 1, 1),
                    "lead {}",
                    lead.id
                );
                assert!(
                    lead.qualified_account_id.is_some()
                        && lead.qualified_contact_id.is_some()
                        && lead.qualifying_opportunity_id.is_some()
                );
            }
            _ => {
                assert_eq!(
                    (accounts, contacts, opportunities),
                    (0, 0, 0),
                    "open lead {} has records",
                    lead.id
                );
                assert!(lead.qualified_account_id.is_none());
            }
        }
    }
    qualified
}

mod bulk;
mod choices;
mod concurrency;
mod crash;
mod defaults;
mod idempotency;
mod jobs;
mod opportunities;
mod outage;
mod preview;
mod scale_out;
mod settings;
