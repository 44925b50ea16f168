//! `previewQualification`: the pipeline run up to the writes, on a read connection, and what it
//! decided shown as the records and values qualification would create. Writes nothing.

use entity::{account, contact, lead, opportunity};

use super::pipeline::{Decided, Pipeline};
use crate::auth::Actor;
use crate::domain::field_mapping::TargetRecord;
use crate::domain::qualification::{
    Decision, MappedValue, Plan, PlanError, QualifyRequest, RequiredChoice, mapped_account,
    mapped_contact, mapped_opportunity, mapped_values,
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
    pub error: Option<(&'static str, String)>,
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

    /// The records and values of `plan` with the given resulting account and contact.
    fn show(
        &mut self,
        plan: Plan,
        account: Option<account::Model>,
        contact: Option<contact::Model>,
        opportunities: Option<Vec<opportunity::Model>>,
    ) -> AppResult<()> {
        let now = crate::domain::now();
        if let (Decision::CreateNew { .. }, Some(new)) = (plan.account, &account) {
            self.account_fields = mapped_values(new, TargetRecord::Account)?;
        }
        if let (Decision::CreateNew { .. }, Some(new)) = (plan.contact, &contact) {
            self.contact_fields = mapped_values(new, TargetRecord::Contact)?;
        }
        let opportunities = match opportunities {
            Some(built) => built,
            None => plan
                .opportunities
                .iter()
                .map(|draft| {
                    mapped_opportunity(
                        &self.lead,
                        draft,
                        account.as_ref().map(|a| a.id),
                        contact.as_ref().map(|c| c.id),
                        &plan.currency_code,
                        self.lead.owner_id,
                        now,
                    )
                })
                .collect::<AppResult<_>>()?,
        };
        self.opportunities = opportunities
            .into_iter()
            .map(|o| {
                let fields = mapped_values(&o, TargetRecord::Opportunity)?;
                Ok((o, fields))
            })
            .collect::<AppResult<_>>()?;
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
    match pipeline.preview(actor, request).await? {
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
            preview.error = Some((error.code(), error.message()));
            if let Some(plan) = plan {
                let now = crate::domain::now();
                let owner = preview.lead.owner_id;
                let account = match plan.account {
                    Decision::CreateNew { .. } => Some(mapped_account(&preview.lead, owner, now)?),
                    _ => None,
                };
                let contact = match plan.contact {
                    Decision::CreateNew { .. } => Some(mapped_contact(&preview.lead, owner, now)?),
                    _ => None,
                };
                preview.show(plan, account, contact, None)?;
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
            preview.show(plan, account, contact, None)?;
            Ok(preview)
        }
        Decided::Ready { lead, plan, writes } => {
            let mut preview = Preview::of(*lead);
            let q = writes.qualified;
            preview.show(plan, q.account, q.contact, Some(q.opportunities))?;
            Ok(preview)
        }
    }
}
