//! Storing what a run built (`domain::qualification::build`), for any number of leads, with a
//! few multi-row statements under the bind-variable limits, inside the run's transaction.

use chrono::{DateTime, Utc};
use entity::{LeadState, LeadStatusReason, account, contact, lead};
use sea_orm::sea_query::{CaseStatement, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
    Value,
};

use crate::domain::lead_state::Transition;
use crate::domain::qualification::Writes;
use crate::error::AppResult;
use crate::service::{duplicates, insert_all};

/// Leads (or accounts) updated by one `CASE` statement: small enough that matching each row
/// against the `WHEN` list stays cheap.
const CASE_GROUP: usize = 100;

/// Stores `writes`. The leads' update is guarded by the qualify transition's starting states
/// (rows counted); the run holds the leads' locks (or SQLite's one writer), so a mismatch means
/// a bug or an outside writer, and the run rolls back with `LEAD_CLOSED`.
pub async fn store(
    conn: &impl ConnectionTrait,
    writes: &[Writes],
    now: DateTime<Utc>,
) -> AppResult<()> {
    if writes.is_empty() {
        return Ok(());
    }
    let new_accounts: Vec<&account::Model> = writes
        .iter()
        .filter(|w| w.new_account)
        .filter_map(|w| w.qualified.account.as_ref())
        .collect();
    let new_contacts: Vec<&contact::Model> = writes
        .iter()
        .filter(|w| w.new_contact)
        .filter_map(|w| w.qualified.contact.as_ref())
        .collect();

    // Accounts first without their primary contact (the contacts point back at them).
    insert_all(
        conn,
        new_accounts
            .iter()
            .map(|a| {
                let mut active = (*a).clone().into_active_model().reset_all();
                active.primary_contact_id = Set(None);
                active
            })
            .collect(),
    )
    .await?;
    insert_all(
        conn,
        new_contacts
            .iter()
            .map(|c| (*c).clone().into_active_model().reset_all())
            .collect(),
    )
    .await?;
    let with_primary: Vec<&&account::Model> = new_accounts
        .iter()
        .filter(|a| a.primary_contact_id.is_some())
        .collect();
    for group in with_primary.chunks(CASE_GROUP) {
        let mut case = CaseStatement::new();
        for account in group {
            case = case.case(
                account::Column::Id.eq(account.id),
                Expr::val(account.primary_contact_id),
            );
        }
        account::Entity::update_many()
            .col_expr(account::Column::PrimaryContactId, case.into())
            .filter(account::Column::Id.is_in(group.iter().map(|a| a.id)))
            .exec(conn)
            .await?;
    }
    insert_all(
        conn,
        writes
            .iter()
            .flat_map(|w| &w.qualified.opportunities)
            .map(|o| o.clone().into_active_model().reset_all())
            .collect(),
    )
    .await?;
    crate::service::custom_fields::insert_rows(
        conn,
        writes
            .iter()
            .flat_map(|w| w.custom_values.iter().cloned())
            .collect(),
    )
    .await?;
    let keyed: Vec<duplicates::Record<'_>> = new_accounts
        .iter()
        .map(|a| duplicates::Record::Account(a))
        .chain(new_contacts.iter().map(|c| duplicates::Record::Contact(c)))
        .collect();
    duplicates::insert_keys(conn, &keyed).await?;
    insert_all(
        conn,
        writes.iter().flat_map(|w| w.stakeholders.clone()).collect(),
    )
    .await?;
    insert_all(conn, writes.iter().flat_map(|w| w.notes.clone()).collect()).await?;
    insert_all(conn, writes.iter().flat_map(|w| w.audit.clone()).collect()).await?;

    // The leads: state, links and stage, one statement per group.
    let transition = Transition::Qualify;
    let (state, status_reason) = transition
        .target()
        .unwrap_or((LeadState::Qualified, LeadStatusReason::Qualified));
    for group in writes.chunks(CASE_GROUP) {
        let case = |value: fn(&lead::Model) -> Value| {
            let mut case = CaseStatement::new();
            for w in group {
                let lead = &w.qualified.lead;
                case = case.case(lead::Column::Id.eq(lead.id), Expr::val(value(lead)));
            }
            case
        };
        let updated = lead::Entity::update_many()
            .col_expr(lead::Column::State, Expr::value(state))
            .col_expr(lead::Column::StatusReason, Expr::value(status_reason))
            .col_expr(lead::Column::QualifiedAt, Expr::value(now))
            .col_expr(lead::Column::ModifiedAt, Expr::value(now))
            .col_expr(
                lead::Column::QualifiedAccountId,
                case(|l| l.qualified_account_id.into()).into(),
            )
            .col_expr(
                lead::Column::QualifiedContactId,
                case(|l| l.qualified_contact_id.into()).into(),
            )
            .col_expr(
                lead::Column::QualifyingOpportunityId,
                case(|l| l.qualifying_opportunity_id.into()).into(),
            )
            .col_expr(
                lead::Column::ProcessStage,
                case(|l| l.process_stage.into()).into(),
            )
            .filter(lead::Column::Id.is_in(group.iter().map(|w| w.qualified.lead.id)))
            .filter(lead::Column::State.is_in(transition.from_states().iter().copied()))
            .exec(conn)
            .await?;
        if updated.rows_affected != group.len() as u64 {
            return Err(transition.lost_race());
        }
    }
    // Qualified leads no longer count for rules that exclude inactive records.
    let qualified: Vec<uuid::Uuid> = writes.iter().map(|w| w.qualified.lead.id).collect();
    duplicates::set_active(conn, entity::DuplicateRecordType::Lead, &qualified, false).await?;
    Ok(())
}
