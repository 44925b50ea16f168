//! `previewQualification`: the pipeline run up to the writes, on a read connection, and what it
//! decided shown as the records and values qualification would create. Writes nothing.

use std::collections::HashMap;

use entity::{account, contact, lead, opportunity};
use serde_json::Value;
use uuid::Uuid;

use super::pipeline::{Decided, Pipeline};
use crate::auth::Actor;
use crate::domain::field_mapping::TargetRecord;
use crate::domain::qualification::{
    Decision, MappedRecord, MappedValue, Mappings, Plan, PlanError, QualifyRequest, RequiredChoice,
    mapped_account, mapped_contact, mapped_opportunity, mapped_values,
};
use crate::error::{AppError, AppResult};
use crate::service::duplicates::DuplicateReport;

/// What `previewQualification` answers.
#[derive(Debug, Clone)]
pub struct Preview {
    pub lead: lead::Model,
    pub plan: Option<Plan>,
    pub required_choices: Vec<RequiredChoice>,
    /// The error `qualifyLead` would give, if any.
    pub error: Option<(&'static str, String, Option<String>)>,
    pub account: Option<account::Model>,
    pub account_fields: Vec<MappedValue>,
    pub contact: Option<contact::Model>,
    pub contact_fields: Vec<MappedValue>,
    pub opportunities: Vec<(opportunity::Model, Vec<MappedValue>)>,
    pub duplicates: DuplicateReport,
}

impl Preview {
    fn of(lead: lead::Model) -> Self {
        Self {
            lead,
            plan: None,
            required_choices: Vec::new(),
            error: None,
            account: None,
            account_fields: Vec::new(),
            contact: None,
            contact_fields: Vec::new(),
            opportunities: Vec::new(),
            duplicates: DuplicateReport::default(),
        }
    }

    /// The records and values of `plan` with the given resulting account and contact;
    /// `custom` are the lead's custom values the mappings read.
    fn show(
        &mut self,
        mappings: &Mappings,
        custom: &HashMap<Uuid, Value>,
        plan: Plan,
        account: Option<account::Model>,
        contact: Option<contact::Model>,
        opportunities: Option<Vec<opportunity::Model>>,
    ) -> AppResult<()> {
        let now = crate::domain::now();
        let custom_of = |record| mappings.custom_values(record, &self.lead, custom);
        if let (Decision::CreateNew { .. }, Some(new)) = (plan.account, &account) {
            self.account_fields = mapped_values(
                MappedRecord::Account(new),
                mappings,
                &custom_of(TargetRecord::Account)?,
            );
        }
        if let (Decision::CreateNew { .. }, Some(new)) = (plan.contact, &contact) {
            self.contact_fields = mapped_values(
                MappedRecord::Contact(new),
                mappings,
                &custom_of(TargetRecord::Contact)?,
            );
        }
        let opportunities = match opportunities {
            Some(built) => built,
            None => plan
                .opportunities
                .iter()
                .map(|draft| {
                    mapped_opportunity(
                        &self.lead,
                        custom,
                        draft,
                        account.as_ref().map(|a| a.id),
                        contact.as_ref().map(|c| c.id),
                        &plan.currency_code,
                        self.lead.owner_id,
                        now,
                        mappings,
                    )
                })
                .collect::<AppResult<_>>()?,
        };
        let opportunity_custom = custom_of(TargetRecord::Opportunity)?;
        self.opportunities = opportunities
            .into_iter()
            .map(|o| {
                let fields =
                    mapped_values(MappedRecord::Opportunity(&o), mappings, &opportunity_custom);
                (o, fields)
            })
            .collect();
        self.account = account;
        self.contact = contact;
        self.plan = Some(plan);
        Ok(())
    }
}

/// What qualifying would do with `request`, writing nothing.
pub async fn preview(
    pipeline: &Pipeline,
    actor: &Actor,
    request: QualifyRequest,
) -> AppResult<Preview> {
    let (decided, config) = pipeline.preview(actor, request).await?;
    let mappings = &config.mappings;
    let lead_id = match &decided {
        Decided::Refused { lead, .. } => lead.as_ref().map(|l| l.id),
        Decided::Duplicates { lead, .. } => Some(lead.id),
        Decided::Ready { lead, .. } => Some(lead.id),
    };
    let custom = match (lead_id, mappings.reads_lead_custom_fields()) {
        (Some(id), true) => {
            let fields = mappings.lead_custom_fields();
            crate::service::custom_fields::raw_values(&pipeline.db.read, &[id], &fields)
                .await?
                .remove(&id)
                .unwrap_or_default()
        }
        _ => HashMap::new(),
    };
    match decided {
        Decided::Refused {
            lead: None, error, ..
        } => Err(error.into()),
        Decided::Refused {
            lead: Some(lead),
            plan,
            error,
        } => {
            let mut preview = Preview::of(lead);
            let error = match error {
                PlanError::ChoicesRequired(choices) => {
                    preview.required_choices = choices.clone();
                    AppError::from(PlanError::ChoicesRequired(choices))
                }
                PlanError::Other(error) => error,
            };
            preview.error = Some((
                error.code(),
                error.message(),
                error.field().map(str::to_owned),
            ));
            if let Some(plan) = plan {
                let now = crate::domain::now();
                let owner = preview.lead.owner_id;
                let account = match plan.account {
                    Decision::CreateNew { .. } => Some(mapped_account(
                        &preview.lead,
                        &custom,
                        owner,
                        now,
                        mappings,
                    )?),
                    _ => None,
                };
                let contact = match plan.contact {
                    Decision::CreateNew { .. } => Some(mapped_contact(
                        &preview.lead,
                        &custom,
                        owner,
                        now,
                        mappings,
                    )?),
                    _ => None,
                };
                preview.show(mappings, &custom, plan, account, contact, None)?;
            }
            Ok(preview)
        }
        Decided::Duplicates {
            lead,
            plan,
            report,
            account,
            contact,
        } => {
            let mut preview = Preview::of(lead);
            preview.duplicates = report;
            preview.show(mappings, &custom, plan, account, contact, None)?;
            Ok(preview)
        }
        Decided::Ready { lead, plan, writes } => {
            let mut preview = Preview::of(*lead);
            let q = writes.qualified;
            preview.show(
                mappings,
                &custom,
                plan,
                q.account,
                q.contact,
                Some(q.opportunities),
            )?;
            Ok(preview)
        }
    }
}
