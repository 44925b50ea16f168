//! The API's enums. Most mirror a stored enum of the `entity` crate (`remote`), which gives the
//! conversions both ways.

use async_graphql::Enum;

/// A user's security role.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::Role")]
pub enum Role {
    /// Configures the organization: qualification settings, duplicate rules; works every record.
    SystemAdministrator,
    /// Manages sellers: works and assigns every seller's leads.
    SalesManager,
    /// Works their own leads.
    Salesperson,
}

/// Where a lead is in its life.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::LeadState")]
pub enum LeadState {
    /// Being worked; editable.
    Open,
    /// Turned into an account, contact and/or opportunities; read-only until reactivated.
    Qualified,
    /// Closed without a sale; kept as a record; read-only until reactivated.
    Disqualified,
}

/// Why a lead is in its state.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::LeadStatusReason")]
pub enum LeadStatusReason {
    /// Open: not contacted yet (the default).
    New,
    /// Open: contacted.
    Contacted,
    /// Qualified.
    Qualified,
    /// Disqualified: lost (the default).
    Lost,
    /// Disqualified: could not be reached.
    CannotContact,
    /// Disqualified: no longer interested.
    NoLongerInterested,
    /// Disqualified: canceled.
    Canceled,
}

/// Stage of the Lead to Opportunity Sales Process.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ProcessStage")]
pub enum ProcessStage {
    /// Qualify the lead.
    Qualify,
    /// Develop the opportunity.
    Develop,
    /// Propose.
    Propose,
    /// Close.
    Close,
}

/// The product's lead views.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum LeadView {
    /// Open leads owned by the caller.
    MyOpenLeads,
    /// All open leads.
    OpenLeads,
    /// Qualified and disqualified leads.
    ClosedLeads,
    /// Every lead.
    AllLeads,
}

impl From<LeadView> for crate::service::leads::LeadView {
    fn from(view: LeadView) -> Self {
        match view {
            LeadView::MyOpenLeads => Self::MyOpenLeads,
            LeadView::OpenLeads => Self::OpenLeads,
            LeadView::ClosedLeads => Self::ClosedLeads,
            LeadView::AllLeads => Self::AllLeads,
        }
    }
}

/// When the customer means to buy.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::PurchaseTimeframe")]
pub enum PurchaseTimeframe {
    /// Now.
    Immediate,
    /// This quarter.
    ThisQuarter,
    /// Next quarter.
    NextQuarter,
    /// This year.
    ThisYear,
    /// Not known.
    Unknown,
}

/// How the customer decides to buy.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::PurchaseProcess")]
pub enum PurchaseProcess {
    /// One person decides.
    Individual,
    /// A committee decides.
    Committee,
    /// Not known.
    Unknown,
}

/// Where a lead came from.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::LeadSource")]
pub enum LeadSource {
    /// An advertisement.
    Advertisement,
    /// An employee's referral.
    EmployeeReferral,
    /// An outside referral.
    ExternalReferral,
    /// A partner.
    Partner,
    /// Public relations.
    PublicRelations,
    /// A seminar.
    Seminar,
    /// A trade show.
    TradeShow,
    /// The web site.
    Web,
    /// Word of mouth.
    WordOfMouth,
    /// Anything else.
    Other,
}

/// How promising a lead is.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::LeadRating")]
pub enum LeadRating {
    /// Very promising.
    Hot,
    /// Promising.
    Warm,
    /// Not very promising.
    Cold,
}

/// How the lead prefers to be contacted.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::PreferredContactMethod")]
pub enum PreferredContactMethod {
    /// Any way.
    Any,
    /// E-mail.
    Email,
    /// Phone.
    Phone,
    /// Fax.
    Fax,
    /// Mail.
    Mail,
}

/// Whether an account or contact is in use.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::RecordState")]
pub enum RecordState {
    /// In use.
    Active,
    /// Deactivated; kept for history.
    Inactive,
}

/// Where an opportunity is in its life.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::OpportunityState")]
pub enum OpportunityState {
    /// Being worked.
    Open,
    /// Closed as won.
    Won,
    /// Closed as lost.
    Lost,
}

/// The part a stakeholder plays in the purchase.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::StakeholderRole")]
pub enum StakeholderRole {
    /// Involved (the default).
    Stakeholder,
    /// Makes the decision.
    DecisionMaker,
    /// Judges the technical fit.
    TechnicalBuyer,
    /// Holds the budget.
    EconomicBuyer,
    /// Influences the decision.
    Influencer,
}

/// Which lead qualification experience the organization uses.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::QualificationExperience")]
pub enum QualificationExperience {
    /// One switch: create account, contact and opportunity automatically, or let the seller choose.
    Legacy,
    /// A creation mode per record type, multiple opportunities and lead summaries.
    New,
}

/// Who decides whether a record is created when a lead is qualified (new experience).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::CreationMode")]
pub enum CreationMode {
    /// The system creates it; the seller may only pick a matched existing record instead.
    Automatic,
    /// The seller chooses: create new, use existing, or skip.
    Seller,
}

/// Kinds of record a note or an audit event is about.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::RecordType")]
pub enum RecordType {
    /// A lead.
    Lead,
    /// An account.
    Account,
    /// A contact.
    Contact,
    /// An opportunity.
    Opportunity,
    /// A user.
    User,
    /// The organization's qualification settings.
    QualificationSettings,
    /// A duplicate detection rule.
    DuplicateRule,
    /// A custom field's definition.
    CustomField,
    /// A field mapping.
    FieldMapping,
}

/// The type of a custom field's values (as JSON: TEXT and CHOICE a string, INTEGER a number,
/// DECIMAL an exact decimal string, BOOLEAN true/false, DATE "YYYY-MM-DD", DATETIME RFC 3339,
/// MULTI_CHOICE an array of strings).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::CustomFieldType")]
pub enum CustomFieldType {
    /// Text up to the field's maxLength.
    Text,
    /// A whole number.
    Integer,
    /// An exact decimal number.
    Decimal,
    /// True or false.
    Boolean,
    /// A calendar date.
    Date,
    /// An instant (UTC).
    #[graphql(name = "DATETIME")]
    DateTime,
    /// One of the field's options.
    Choice,
    /// Any number of the field's options.
    MultiChoice,
}

/// Sort keys of a lead list.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum LeadOrderField {
    /// When the lead was created (the default).
    CreatedAt,
    /// When the lead was last changed.
    ModifiedAt,
    /// The topic.
    Topic,
    /// The last name.
    LastName,
}

/// Sort direction.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum OrderDirection {
    /// Smallest first.
    Asc,
    /// Largest (newest) first.
    Desc,
}
