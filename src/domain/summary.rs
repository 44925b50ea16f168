//! Lead summaries: after qualification (when `summarizeLead` is on) a summary of the lead is added
//! as a note to the timeline of the primary opportunity and of the lead.
//!
//! The product uses a generative model; leadq's default [`TemplateSummarizer`] is deterministic
//! and built only from the data, so a seller can trust every word. Another generator plugs in
//! behind [`LeadSummarizer`].

use entity::{account, contact, lead, opportunity};

use super::values::format_cents;

/// The subject of summary notes.
pub const SUMMARY_SUBJECT: &str = "Lead summary";

/// What a summary is built from.
pub struct SummaryInput<'a> {
    pub lead: &'a lead::Model,
    pub account: Option<&'a account::Model>,
    pub contact: Option<&'a contact::Model>,
    pub opportunities: &'a [opportunity::Model],
    /// Notes on the lead before qualification.
    pub note_count: u64,
}

/// Writes a lead summary.
pub trait LeadSummarizer: Send + Sync {
    /// The summary text.
    fn summarize(&self, input: &SummaryInput<'_>) -> String;
}

/// A plain-text summary from a fixed template.
pub struct TemplateSummarizer;

fn label(value: &str) -> String {
    value.to_lowercase().replace('_', " ")
}

impl LeadSummarizer for TemplateSummarizer {
    fn summarize(&self, input: &SummaryInput<'_>) -> String {
        let lead = input.lead;
        let name = match &lead.first_name {
            Some(first) => format!("{first} {}", lead.last_name),
            None => lead.last_name.clone(),
        };
        let mut lines = Vec::new();
        let mut who = name;
        if let Some(title) = &lead.job_title {
            who.push_str(&format!(", {title}"));
        }
        if let Some(company) = &lead.company_name {
            who.push_str(&format!(" at {company}"));
        }
        lines.push(format!("{who}, interested in \"{}\".", lead.topic));
        let contact_details: Vec<String> = [
            lead.email.as_ref().map(|e| format!("e-mail {e}")),
            lead.business_phone
                .as_ref()
                .map(|p| format!("business phone {p}")),
            lead.mobile_phone.as_ref().map(|p| format!("mobile {p}")),
            lead.website.as_ref().map(|w| format!("website {w}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !contact_details.is_empty() {
            lines.push(format!("Contact: {}.", contact_details.join(", ")));
        }
        let address: Vec<&str> = [
            &lead.street1,
            &lead.city,
            &lead.state_or_province,
            &lead.postal_code,
            &lead.country_or_region,
        ]
        .into_iter()
        .filter_map(|p| p.as_deref())
        .collect();
        if !address.is_empty() {
            lines.push(format!("Address: {}.", address.join(", ")));
        }
        let mut deal = Vec::new();
        if let Some(cents) = lead.budget_amount_cents {
            let currency = lead.currency_code.as_deref().unwrap_or("");
            deal.push(
                format!("budget {} {currency}", format_cents(cents))
                    .trim_end()
                    .to_owned(),
            );
        }
        if let Some(timeframe) = lead.purchase_timeframe {
            deal.push(format!("timeframe {}", label(timeframe.as_str())));
        }
        if let Some(process) = lead.purchase_process {
            deal.push(format!("{} purchase", label(process.as_str())));
        }
        if let Some(decision_maker) = lead.decision_maker {
            deal.push(if decision_maker {
                "decision maker identified".to_owned()
            } else {
                "decision maker not identified".to_owned()
            });
        }
        if !deal.is_empty() {
            lines.push(format!("Deal: {}.", deal.join(", ")));
        }
        let mut records = Vec::new();
        if let Some(account) = input.account {
            records.push(format!("account \"{}\"", account.name));
        }
        if let Some(contact) = input.contact {
            let name = match &contact.first_name {
                Some(first) => format!("{first} {}", contact.last_name),
                None => contact.last_name.clone(),
            };
            records.push(format!("contact \"{name}\""));
        }
        for opportunity in input.opportunities {
            records.push(format!("opportunity \"{}\"", opportunity.topic));
        }
        if records.is_empty() {
            lines.push("Qualified without creating records.".to_owned());
        } else {
            lines.push(format!("Qualified to {}.", records.join(", ")));
        }
        lines.push(match input.note_count {
            0 => "No notes on the lead.".to_owned(),
            1 => "1 note on the lead.".to_owned(),
            n => format!("{n} notes on the lead."),
        });
        lines.join("\n")
    }
}
