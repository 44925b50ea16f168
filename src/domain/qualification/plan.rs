//! Deciding what a qualification does, before anything is read or written beyond the lead and
//! the settings: for each of account, contact and opportunity, create new, use an existing
//! record, or nothing. Pure, so `previewQualification` shows exactly what `qualifyLead` would do.

use entity::{CreationMode, QualificationExperience, lead, qualification_settings};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::request::{
    DuplicatePolicy, OpportunityDraft, QualifyRequest, RecordAction, RecordChoice,
};
use crate::error::AppError;

/// Something the caller should know that did not stop the qualification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub code: String,
    pub message: String,
}

/// What happens to an account or a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    CreateNew { ignore_duplicates: bool },
    UseExisting(Uuid),
    Nothing,
}

impl Decision {
    /// Whether the decision creates a record that is checked for duplicates.
    pub fn checks_duplicates(self) -> bool {
        matches!(
            self,
            Decision::CreateNew {
                ignore_duplicates: false
            }
        )
    }
}

/// A choice the seller has to make before the lead can be qualified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredChoice {
    /// `account`, `contact` or `opportunity`.
    pub record: &'static str,
    pub message: String,
    /// The actions the seller may choose from.
    pub options: Vec<RecordAction>,
}

/// What a qualification will do.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub account: Decision,
    pub contact: Decision,
    /// The opportunities to create, first = primary; empty: none.
    pub opportunities: Vec<OpportunityDraft>,
    pub currency_code: String,
    pub warnings: Vec<Warning>,
    /// How each record type is decided under the settings.
    pub modes: [CreationMode; 3],
}

/// Why there is no plan.
#[derive(Debug)]
pub enum PlanError {
    /// The seller must choose; every missing choice is listed.
    ChoicesRequired(Vec<RequiredChoice>),
    Other(AppError),
}

impl From<AppError> for PlanError {
    fn from(err: AppError) -> Self {
        Self::Other(err)
    }
}

impl From<PlanError> for AppError {
    fn from(err: PlanError) -> Self {
        match err {
            PlanError::Other(err) => err,
            PlanError::ChoicesRequired(choices) => {
                let record = choices.first().map_or("account", |c| c.record);
                let message = choices
                    .iter()
                    .map(|c| c.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                AppError::ChoiceRequired { record, message }
            }
        }
    }
}

/// The opportunity form's fields, as the settings keep them (a JSON array).
pub fn form_fields(settings: &qualification_settings::Model) -> Vec<String> {
    serde_json::from_str(&settings.opportunity_form_fields).unwrap_or_default()
}

/// The creation mode of account, contact and opportunity under the settings.
pub fn creation_modes(settings: &qualification_settings::Model) -> [CreationMode; 3] {
    match settings.experience {
        QualificationExperience::Legacy if settings.auto_create_records => {
            [CreationMode::Automatic; 3]
        }
        QualificationExperience::Legacy => [CreationMode::Seller; 3],
        QualificationExperience::New => [
            settings.account_creation,
            settings.contact_creation,
            settings.opportunity_creation,
        ],
    }
}

/// Decides what qualifying `lead` with `request` does under `settings`.
pub fn plan(
    settings: &qualification_settings::Model,
    lead: &lead::Model,
    request: &QualifyRequest,
) -> Result<Plan, PlanError> {
    let modes = creation_modes(settings);
    let mut required = Vec::new();
    let mut warnings = Vec::new();

    let has_company = lead
        .company_name
        .as_deref()
        .is_some_and(|c| !c.trim().is_empty());
    let account = decide(
        "account",
        modes[0],
        request.account.as_ref(),
        lead.existing_account_id,
        &mut required,
    )?;
    let account = match account {
        Decision::CreateNew { .. } if !has_company => match (modes[0], &request.account) {
            (CreationMode::Automatic, None) => {
                warnings.push(Warning {
                    code: "NO_COMPANY_NAME".to_owned(),
                    message: "The lead has no company name, so no account was created".to_owned(),
                });
                Decision::Nothing
            }
            _ => return Err(AppError::CompanyNameRequired.into()),
        },
        other => other,
    };
    let contact = decide(
        "contact",
        modes[1],
        request.contact.as_ref(),
        lead.existing_contact_id,
        &mut required,
    )?;

    let opportunities = plan_opportunities(settings, modes[2], request, &mut required)?;
    if !required.is_empty() {
        return Err(PlanError::ChoicesRequired(required));
    }
    let currency_code = request
        .currency_code
        .map(|c| c.as_str().to_owned())
        .or_else(|| lead.currency_code.clone())
        .unwrap_or_else(|| settings.base_currency_code.clone());
    Ok(Plan {
        account,
        contact,
        opportunities,
        currency_code,
        warnings,
        modes,
    })
}

/// [`plan`] under a bulk duplicate policy: with CREATE_ANYWAY, automatic records skip the
/// duplicate check too.
pub fn plan_with_policy(
    settings: &qualification_settings::Model,
    lead: &lead::Model,
    request: &QualifyRequest,
    policy: DuplicatePolicy,
) -> Result<Plan, PlanError> {
    let mut plan = plan(settings, lead, request)?;
    if policy == DuplicatePolicy::CreateAnyway {
        for decision in [&mut plan.account, &mut plan.contact] {
            if let Decision::CreateNew { ignore_duplicates } = decision {
                *ignore_duplicates = true;
            }
        }
    }
    Ok(plan)
}

/// Account or contact: create new, use existing, or nothing.
fn decide(
    record: &'static str,
    mode: CreationMode,
    choice: Option<&RecordChoice>,
    lead_existing: Option<Uuid>,
    required: &mut Vec<RequiredChoice>,
) -> Result<Decision, PlanError> {
    let Some(choice) = choice else {
        // No choice: the lead's existing record is the default "use existing"; otherwise an
        // automatic record is created and a seller's choice is required.
        return Ok(match (lead_existing, mode) {
            (Some(id), _) => Decision::UseExisting(id),
            (None, CreationMode::Automatic) => Decision::CreateNew {
                ignore_duplicates: false,
            },
            (None, CreationMode::Seller) => {
                required.push(RequiredChoice {
                    record,
                    message: format!(
                        "choose what to do with the {record}: CREATE_NEW, USE_EXISTING or SKIP"
                    ),
                    options: vec![
                        RecordAction::CreateNew,
                        RecordAction::UseExisting,
                        RecordAction::Skip,
                    ],
                });
                Decision::Nothing
            }
        });
    };
    match choice.action {
        RecordAction::CreateNew => Ok(Decision::CreateNew {
            ignore_duplicates: choice.ignore_duplicates,
        }),
        RecordAction::UseExisting => match choice.existing_id.or(lead_existing) {
            Some(id) => Ok(Decision::UseExisting(id)),
            None => Err(AppError::bad_input(
                format!("{record}.existingId"),
                format!("USE_EXISTING needs an existingId: the lead has no existing {record}"),
            )
            .into()),
        },
        RecordAction::Skip if mode == CreationMode::Automatic => Err(AppError::bad_input(
            format!("{record}.action"),
            format!("{record} creation is automatic in the settings; it cannot be skipped"),
        )
        .into()),
        RecordAction::Skip => Ok(Decision::Nothing),
    }
}

fn plan_opportunities(
    settings: &qualification_settings::Model,
    mode: CreationMode,
    request: &QualifyRequest,
    required: &mut Vec<RequiredChoice>,
) -> Result<Vec<OpportunityDraft>, PlanError> {
    let action = request.opportunity.as_ref().map(|c| c.action);
    if action == Some(RecordAction::UseExisting) {
        return Err(AppError::bad_input(
            "opportunity.action",
            "an opportunity is created new or skipped: use CREATE_NEW or SKIP",
        )
        .into());
    }
    let drafts = request.drafts.clone().unwrap_or_default();
    let create = match (action, mode) {
        (Some(RecordAction::Skip), CreationMode::Automatic) => {
            return Err(AppError::bad_input(
                "opportunity.action",
                "opportunity creation is automatic in the settings; it cannot be skipped",
            )
            .into());
        }
        (Some(RecordAction::Skip), CreationMode::Seller) => {
            if !drafts.is_empty() {
                return Err(AppError::bad_input(
                    "opportunities",
                    "opportunity drafts were sent with opportunity action SKIP",
                )
                .into());
            }
            false
        }
        (Some(_), _) | (None, CreationMode::Automatic) => true,
        (None, CreationMode::Seller) if !drafts.is_empty() => true,
        (None, CreationMode::Seller) => {
            required.push(RequiredChoice {
                record: "opportunity",
                message: "choose what to do with the opportunity: CREATE_NEW (or send drafts) \
                          or SKIP"
                    .to_owned(),
                options: vec![RecordAction::CreateNew, RecordAction::Skip],
            });
            false
        }
    };
    if !create {
        return Ok(Vec::new());
    }
    if drafts.len() > 1 && !settings.allow_multiple_opportunities {
        return Err(AppError::TooManyOpportunities(
            "multiple opportunities per lead are not enabled in the qualification settings"
                .to_owned(),
        )
        .into());
    }
    let max = usize::try_from(settings.max_opportunities_per_lead).unwrap_or(1);
    if drafts.len() > max {
        return Err(AppError::TooManyOpportunities(format!(
            "a lead can be qualified into at most {max} opportunities; {} were sent",
            drafts.len()
        ))
        .into());
    }
    let form = form_fields(settings);
    for (i, draft) in drafts.iter().enumerate() {
        if let Some(field) = draft
            .given_fields()
            .into_iter()
            .find(|f| !form.iter().any(|x| x == f))
        {
            return Err(AppError::bad_input(
                format!("opportunities.{i}.{field}"),
                format!("{field} is not on the opportunity form (opportunityFormFields)"),
            )
            .into());
        }
    }
    Ok(if drafts.is_empty() {
        vec![OpportunityDraft::default()]
    } else {
        drafts
    })
}
