//! Enumerations stored as text columns, in the same SCREAMING_CASE as the public API.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        pub enum $name {
            $(
                #[sea_orm(string_value = $value)]
                #[serde(rename = $value)]
                $variant,
            )+
        }

        impl $name {
            /// The stored (and API) spelling of the value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $value,)+
                }
            }

            /// Parses the stored spelling.
            pub fn parse(value: &str) -> Option<Self> {
                match value {
                    $($value => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

text_enum!(
    /// A user's security role.
    Role { SystemAdministrator = "SYSTEM_ADMINISTRATOR", SalesManager = "SALES_MANAGER", Salesperson = "SALESPERSON" }
);
text_enum!(
    /// Where a lead is in its life: open, or closed as qualified or disqualified.
    LeadState { Open = "OPEN", Qualified = "QUALIFIED", Disqualified = "DISQUALIFIED" }
);
text_enum!(
    /// Why a lead is in its state.
    LeadStatusReason {
        New = "NEW",
        Contacted = "CONTACTED",
        Qualified = "QUALIFIED",
        Lost = "LOST",
        CannotContact = "CANNOT_CONTACT",
        NoLongerInterested = "NO_LONGER_INTERESTED",
        Canceled = "CANCELED",
    }
);
text_enum!(
    /// Stage of the Lead to Opportunity Sales Process.
    ProcessStage { Qualify = "QUALIFY", Develop = "DEVELOP", Propose = "PROPOSE", Close = "CLOSE" }
);
text_enum!(
    /// When the customer means to buy.
    PurchaseTimeframe {
        Immediate = "IMMEDIATE",
        ThisQuarter = "THIS_QUARTER",
        NextQuarter = "NEXT_QUARTER",
        ThisYear = "THIS_YEAR",
        Unknown = "UNKNOWN",
    }
);
text_enum!(
    /// How the customer decides.
    PurchaseProcess { Individual = "INDIVIDUAL", Committee = "COMMITTEE", Unknown = "UNKNOWN" }
);
text_enum!(
    /// Where a lead came from.
    LeadSource {
        Advertisement = "ADVERTISEMENT",
        EmployeeReferral = "EMPLOYEE_REFERRAL",
        ExternalReferral = "EXTERNAL_REFERRAL",
        Partner = "PARTNER",
        PublicRelations = "PUBLIC_RELATIONS",
        Seminar = "SEMINAR",
        TradeShow = "TRADE_SHOW",
        Web = "WEB",
        WordOfMouth = "WORD_OF_MOUTH",
        Other = "OTHER",
    }
);
text_enum!(
    /// How promising a lead is.
    LeadRating { Hot = "HOT", Warm = "WARM", Cold = "COLD" }
);
text_enum!(
    /// How the lead prefers to be contacted.
    PreferredContactMethod { Any = "ANY", Email = "EMAIL", Phone = "PHONE", Fax = "FAX", Mail = "MAIL" }
);
text_enum!(
    /// Whether an account or contact is in use.
    RecordState { Active = "ACTIVE", Inactive = "INACTIVE" }
);
text_enum!(
    /// Where an opportunity is in its life.
    OpportunityState { Open = "OPEN", Won = "WON", Lost = "LOST" }
);
text_enum!(
    /// The part a stakeholder plays.
    StakeholderRole {
        Stakeholder = "STAKEHOLDER",
        DecisionMaker = "DECISION_MAKER",
        TechnicalBuyer = "TECHNICAL_BUYER",
        EconomicBuyer = "ECONOMIC_BUYER",
        Influencer = "INFLUENCER",
    }
);
text_enum!(
    /// Which lead qualification experience the organization uses.
    QualificationExperience { Legacy = "LEGACY", New = "NEW" }
);
text_enum!(
    /// Who decides whether a record is created on qualification (new experience).
    CreationMode { Automatic = "AUTOMATIC", Seller = "SELLER" }
);
text_enum!(
    /// The kind of record a note is regarding, or an audit event is about.
    RecordType {
        Lead = "LEAD",
        Account = "ACCOUNT",
        Contact = "CONTACT",
        Opportunity = "OPPORTUNITY",
        User = "USER",
        QualificationSettings = "QUALIFICATION_SETTINGS",
        DuplicateRule = "DUPLICATE_RULE",
        CustomField = "CUSTOM_FIELD",
        FieldMapping = "FIELD_MAPPING",
    }
);
text_enum!(
    /// The type of a custom field's values.
    CustomFieldType {
        Text = "TEXT",
        Integer = "INTEGER",
        Decimal = "DECIMAL",
        Boolean = "BOOLEAN",
        Date = "DATE",
        DateTime = "DATETIME",
        Choice = "CHOICE",
        MultiChoice = "MULTI_CHOICE",
    }
);
text_enum!(
    /// The record type a field mapping fills.
    MappingTargetType { Account = "ACCOUNT", Contact = "CONTACT", Opportunity = "OPPORTUNITY" }
);
text_enum!(
    /// Record types duplicate detection rules compare.
    DuplicateRecordType { Account = "ACCOUNT", Contact = "CONTACT", Lead = "LEAD" }
);
text_enum!(
    /// How a duplicate rule condition compares two field values.
    MatchOperator {
        Exact = "EXACT",
        SameFirstCharacters = "SAME_FIRST_CHARACTERS",
        SameLastCharacters = "SAME_LAST_CHARACTERS",
        Fuzzy = "FUZZY",
    }
);
text_enum!(
    /// Where a qualification job is in its life.
    JobState {
        Queued = "QUEUED",
        Running = "RUNNING",
        Succeeded = "SUCCEEDED",
        Failed = "FAILED",
        Canceled = "CANCELED",
    }
);
text_enum!(
    /// How the qualification of one lead of a bulk call or a job ended.
    ItemOutcome { Qualified = "QUALIFIED", DuplicatesFound = "DUPLICATES_FOUND", Failed = "FAILED" }
);
