//! The lead state machine, in one place: which state each transition starts from, where it
//! leads, and the error a client gets when the lead is not in a state it may start from.
//!
//! | transition | from | to |
//! |---|---|---|
//! | qualify | Open | Qualified / Qualified |
//! | disqualify | Open | Disqualified / Lost, Cannot Contact, No Longer Interested, Canceled |
//! | reactivate | Qualified, Disqualified | Open / New, back at the Qualify stage |
//! | edit (update, notes' stakeholders) | Open | Open |
//!
//! Services check a transition on the lead they read, then guard the write with the same
//! [`Transition::from_states`] (`UPDATE ... WHERE id = ? AND state IN (...)`, rows affected
//! counted): the check gives the clear error, the guard makes a race lose cleanly.

use entity::{LeadState, LeadStatusReason};

use crate::error::{AppError, AppResult};

/// Something that changes (or writes to) a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Qualify,
    Disqualify(LeadStatusReason),
    Reactivate,
    /// An update of an open lead's fields; the state does not change.
    Edit,
}

impl Transition {
    /// The states the transition may start from.
    pub fn from_states(self) -> &'static [LeadState] {
        match self {
            Self::Qualify | Self::Disqualify(_) | Self::Edit => &[LeadState::Open],
            Self::Reactivate => &[LeadState::Qualified, LeadState::Disqualified],
        }
    }

    /// Whether a lead in `state` may go through the transition; the client's error if not.
    pub fn check(self, state: LeadState) -> AppResult<()> {
        if self.from_states().contains(&state) {
            return Ok(());
        }
        Err(match self {
            Self::Reactivate => AppError::Conflict("the lead is already open".to_owned()),
            Self::Qualify | Self::Disqualify(_) | Self::Edit => AppError::LeadClosed,
        })
    }

    /// The error when the guarded write found the lead no longer in a starting state (a
    /// concurrent transition won).
    pub fn lost_race(self) -> AppError {
        match self {
            Self::Reactivate => AppError::Conflict("the lead changed meanwhile; try again".into()),
            Self::Qualify | Self::Disqualify(_) | Self::Edit => AppError::LeadClosed,
        }
    }

    /// The state and status reason the lead ends in; `None` for an edit (unchanged).
    pub fn target(self) -> Option<(LeadState, LeadStatusReason)> {
        match self {
            Self::Qualify => Some((LeadState::Qualified, LeadStatusReason::Qualified)),
            Self::Disqualify(reason) => Some((LeadState::Disqualified, reason)),
            Self::Reactivate => Some((LeadState::Open, LeadStatusReason::New)),
            Self::Edit => None,
        }
    }
}

/// A disqualification with `reason` (LOST when none is given); `BAD_USER_INPUT` for a status
/// reason that does not close a lead as disqualified.
pub fn disqualify(reason: Option<LeadStatusReason>) -> AppResult<Transition> {
    let reason = reason.unwrap_or(LeadStatusReason::Lost);
    match reason {
        LeadStatusReason::Lost
        | LeadStatusReason::CannotContact
        | LeadStatusReason::NoLongerInterested
        | LeadStatusReason::Canceled => Ok(Transition::Disqualify(reason)),
        other => Err(AppError::bad_input(
            "statusReason",
            format!(
                "{} is not a disqualified status reason: use LOST, CANNOT_CONTACT, \
                 NO_LONGER_INTERESTED or CANCELED",
                other.as_str()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_open_leads_are_qualified_disqualified_or_edited() {
        for t in [
            Transition::Qualify,
            Transition::Disqualify(LeadStatusReason::Lost),
            Transition::Edit,
        ] {
            assert!(t.check(LeadState::Open).is_ok());
            for closed in [LeadState::Qualified, LeadState::Disqualified] {
                assert!(matches!(t.check(closed), Err(AppError::LeadClosed)));
            }
        }
    }

    #[test]
    fn only_closed_leads_are_reactivated() {
        assert!(Transition::Reactivate.check(LeadState::Qualified).is_ok());
        assert!(
            Transition::Reactivate
                .check(LeadState::Disqualified)
                .is_ok()
        );
        assert!(matches!(
            Transition::Reactivate.check(LeadState::Open),
            Err(AppError::Conflict(_))
        ));
        assert_eq!(
            Transition::Reactivate.target(),
            Some((LeadState::Open, LeadStatusReason::New))
        );
    }

    #[test]
    fn disqualification_needs_a_disqualified_reason() {
        assert_eq!(
            disqualify(None).unwrap(),
            Transition::Disqualify(LeadStatusReason::Lost)
        );
        assert!(disqualify(Some(LeadStatusReason::Canceled)).is_ok());
        assert!(disqualify(Some(LeadStatusReason::Qualified)).is_err());
        assert!(disqualify(Some(LeadStatusReason::New)).is_err());
    }
}
