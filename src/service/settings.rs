//! The organization's lead qualification settings: one row, System Administrators only, every
//! change audited. A change applies to every lead qualified after it.

use entity::{CreationMode, QualificationExperience, RecordType, qualification_settings};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use super::access::ensure_admin;
use super::audit::{self, action};
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// The product's limit of opportunities per lead.
pub const PRODUCT_MAX_OPPORTUNITIES: i32 = 5;

/// The opportunity fields a quick-create form (an opportunity draft) may show.
pub const OPPORTUNITY_FORM_FIELDS: &[&str] = &[
    "topic",
    "budgetAmount",
    "purchaseTimeframe",
    "purchaseProcess",
    "decisionMaker",
    "description",
];

/// The settings in force.
pub async fn get(conn: &impl ConnectionTrait) -> AppResult<qualification_settings::Model> {
    qualification_settings::Entity::find_by_id(1)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::internal("the qualification settings row is missing"))
}

/// The parsed fields of `updateQualificationSettings`; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct SettingsChanges {
    pub experience: Option<QualificationExperience>,
    pub auto_create_records: Option<bool>,
    pub account_creation: Option<CreationMode>,
    pub contact_creation: Option<CreationMode>,
    pub opportunity_creation: Option<CreationMode>,
    pub allow_multiple_opportunities: Option<bool>,
    pub max_opportunities_per_lead: Option<i32>,
    pub summarize_lead: Option<bool>,
    pub opportunity_form_fields: Option<Vec<String>>,
    pub base_currency_code: Option<String>,
    /// An ISO 3166 alpha-2 code the phone-number metadata knows.
    pub phone_region: Option<String>,
}

pub use crate::domain::qualification::form_fields;

/// Changes the settings (System Administrators only) and audits what changed.
pub async fn update(
    db: &Db,
    actor: &Actor,
    changes: SettingsChanges,
) -> AppResult<qualification_settings::Model> {
    ensure_admin(actor, "the lead qualification settings")?;
    let txn = db.begin_write().await?;
    let before = get(&txn).await?;
    let mut after = before.clone();
    if let Some(v) = changes.experience {
        after.experience = v;
    }
    if let Some(v) = changes.auto_create_records {
        after.auto_create_records = v;
    }
    if let Some(v) = changes.account_creation {
        after.account_creation = v;
    }
    if let Some(v) = changes.contact_creation {
        after.contact_creation = v;
    }
    if let Some(v) = changes.opportunity_creation {
        after.opportunity_creation = v;
    }
    if let Some(v) = changes.allow_multiple_opportunities {
        after.allow_multiple_opportunities = v;
    }
    if let Some(v) = changes.max_opportunities_per_lead {
        after.max_opportunities_per_lead = v;
    }
    if let Some(v) = changes.summarize_lead {
        after.summarize_lead = v;
    }
    if let Some(fields) = changes.opportunity_form_fields {
        after.opportunity_form_fields =
            serde_json::to_string(&fields).map_err(AppError::internal)?;
    }
    if let Some(v) = changes.base_currency_code {
        after.base_currency_code = v;
    }
    if let Some(v) = changes.phone_region {
        after.phone_region = v;
    }
    validate(&after)?;
    after.modified_at = super::now();
    after.modified_by = Some(actor.user_id);

    let mut model: qualification_settings::ActiveModel = before.clone().into();
    model.experience = Set(after.experience);
    model.auto_create_records = Set(after.auto_create_records);
    model.account_creation = Set(after.account_creation);
    model.contact_creation = Set(after.contact_creation);
    model.opportunity_creation = Set(after.opportunity_creation);
    model.allow_multiple_opportunities = Set(after.allow_multiple_opportunities);
    model.max_opportunities_per_lead = Set(after.max_opportunities_per_lead);
    model.summarize_lead = Set(after.summarize_lead);
    model.opportunity_form_fields = Set(after.opportunity_form_fields.clone());
    model.base_currency_code = Set(after.base_currency_code.clone());
    model.phone_region = Set(after.phone_region.clone());
    model.modified_at = Set(after.modified_at);
    model.modified_by = Set(after.modified_by);
    let saved = model.update(&txn).await?;
    if saved.phone_region != before.phone_region {
        // Phones without a country code now mean other numbers: rewrite the stored keys.
        let normalizer = super::duplicates::normalizer_of(Some(&saved.phone_region));
        super::duplicates::recompute_all(&txn, &normalizer).await?;
    }
    super::qualification::load::bump(&txn, super::qualification::load::SETTINGS_VERSION).await?;

    let mut diff = audit::diff(
        &serde_json::to_value(&before).map_err(AppError::internal)?,
        &serde_json::to_value(&saved).map_err(AppError::internal)?,
    );
    if let Some(map) = diff.as_object_mut() {
        map.remove("modified_at");
        map.remove("modified_by");
    }
    audit::record(
        &txn,
        Some(actor),
        RecordType::QualificationSettings,
        uuid::Uuid::nil(),
        action::SETTINGS_CHANGED,
        diff,
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Refuses combinations the product does not allow.
fn validate(s: &qualification_settings::Model) -> AppResult<()> {
    if !(1..=PRODUCT_MAX_OPPORTUNITIES).contains(&s.max_opportunities_per_lead) {
        return Err(AppError::bad_input(
            "maxOpportunitiesPerLead",
            format!(
                "maxOpportunitiesPerLead must be between 1 and {PRODUCT_MAX_OPPORTUNITIES}, got {}",
                s.max_opportunities_per_lead
            ),
        ));
    }
    if s.allow_multiple_opportunities
        && (s.experience != QualificationExperience::New
            || s.opportunity_creation != CreationMode::Seller)
    {
        return Err(AppError::bad_input(
            "allowMultipleOpportunities",
            "multiple opportunities need the NEW experience with opportunityCreation SELLER \
             (an automatic opportunity is always exactly one)",
        ));
    }
    if s.summarize_lead && s.experience != QualificationExperience::New {
        return Err(AppError::bad_input(
            "summarizeLead",
            "lead summaries are part of the NEW experience",
        ));
    }
    let fields = form_fields(s);
    if fields.is_empty() || !fields.iter().any(|f| f == "topic") {
        return Err(AppError::bad_input(
            "opportunityFormFields",
            "opportunityFormFields must include topic",
        ));
    }
    if let Some(unknown) = fields
        .iter()
        .find(|f| !OPPORTUNITY_FORM_FIELDS.contains(&f.as_str()))
    {
        return Err(AppError::bad_input(
            "opportunityFormFields",
            format!(
                "{unknown:?} is not an opportunity form field; use {}",
                OPPORTUNITY_FORM_FIELDS.join(", ")
            ),
        ));
    }
    Ok(())
}
