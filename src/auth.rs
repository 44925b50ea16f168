//! Who is calling: bearer tokens (JWT, HS256) → [`Actor`].
//!
//! A token's subject is a user id in the database; the user's roles are read from the database
//! on each request, so a role change takes effect at once. Only HS256 is accepted (no `none`, no
//! algorithm confusion); `exp` is required; `iss` and `aud` are checked when configured; `nbf`
//! and `iat` may not lie in the future (beyond [`LEEWAY_SECONDS`] of clock skew); and a token may
//! not live longer than the maximum lifetime (`exp` − `iat`, or `exp` − now without `iat`;
//! default [`DEFAULT_MAX_LIFETIME_HOURS`]), so `exp` = 2^63−1 is refused.

use chrono::Utc;
use entity::Role;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Uuid,
    pub name: String,
    pub roles: Vec<Role>,
}

impl Actor {
    /// The actor for a stored user.
    pub fn from_user(user: &entity::user::Model) -> Self {
        Self {
            user_id: user.id,
            name: user.name.clone(),
            roles: user.role_list(),
        }
    }

    /// Whether the caller has `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Sales Managers and System Administrators manage every seller's records.
    pub fn is_manager(&self) -> bool {
        self.has_role(Role::SalesManager) || self.has_role(Role::SystemAdministrator)
    }
}

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECONDS: i64 = 30;
/// Default longest lifetime of a token, in hours (30 days).
pub const DEFAULT_MAX_LIFETIME_HOURS: i64 = 24 * 30;

/// The claims of a leadq bearer token.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<String>,
}

/// Signs and checks bearer tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: Option<String>,
    audience: Option<String>,
    max_lifetime: chrono::Duration,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys").finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Keys for an HS256 secret, checking `iss` / `aud` when given.
    pub fn new(secret: &[u8], issuer: Option<String>, audience: Option<String>) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY_SECONDS.unsigned_abs();
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        if issuer.is_some() {
            required.push("iss");
        }
        if audience.is_some() {
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        match &issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match &audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer,
            audience,
            max_lifetime: chrono::Duration::hours(DEFAULT_MAX_LIFETIME_HOURS),
        }
    }

    /// The same keys, refusing tokens that live longer than `max_lifetime`.
    pub fn with_max_lifetime(mut self, max_lifetime: chrono::Duration) -> Self {
        self.max_lifetime = max_lifetime;
        self
    }

    /// The longest lifetime a token may have.
    pub fn max_lifetime(&self) -> chrono::Duration {
        self.max_lifetime
    }

    /// A token for `user_id`, valid for `ttl`.
    pub fn mint(&self, user_id: Uuid, ttl: chrono::Duration) -> AppResult<String> {
        if ttl > self.max_lifetime {
            return Err(AppError::bad_input(
                "ttlHours",
                format!(
                    "a token may be valid for at most {} hours (LEADQ_JWT_MAX_LIFETIME_HOURS)",
                    self.max_lifetime.num_hours()
                ),
            ));
        }
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            exp: now + ttl.num_seconds(),
            iat: Some(now),
            nbf: None,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(AppError::internal)
    }

    /// The user id in a valid token.
    pub fn verify(&self, token: &str) -> AppResult<Uuid> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
            AppError::Unauthenticated(format!("invalid bearer token: {}", describe(&e)))
        })?;
        let refuse = |why: &str| AppError::Unauthenticated(format!("invalid bearer token: {why}"));
        let now = Utc::now().timestamp();
        if let Some(iat) = data.claims.iat
            && iat > now.saturating_add(LEEWAY_SECONDS)
        {
            return Err(refuse("issued in the future"));
        }
        let start = data.claims.iat.unwrap_or(now).min(now);
        let lifetime = data.claims.exp.saturating_sub(start);
        if lifetime
            > self
                .max_lifetime
                .num_seconds()
                .saturating_add(LEEWAY_SECONDS)
        {
            return Err(refuse("valid for longer than the maximum token lifetime"));
        }
        Uuid::parse_str(&data.claims.sub).map_err(|_| {
            AppError::Unauthenticated("invalid bearer token: subject is not a user id".to_owned())
        })
    }
}

/// A client-safe reason for a rejected token.
fn describe(err: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match err.kind() {
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => "algorithm not accepted",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
        ErrorKind::ImmatureSignature => "not valid yet",
        _ => "malformed",
    }
}

/// Parses `Authorization: Bearer <token>`.
pub fn bearer_token(header: Option<&str>) -> Option<&str> {
    let header = header?.trim();
    let (scheme, token) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_token_verifies_and_a_tampered_one_does_not() {
        let keys = TokenKeys::new(b"secret-secret-secret-secret-1234", None, None);
        let id = Uuid::now_v7();
        let token = keys.mint(id, chrono::Duration::hours(1)).unwrap();
        assert_eq!(keys.verify(&token).unwrap(), id);
        let other = TokenKeys::new(b"another-secret-another-secret-12", None, None);
        assert!(other.verify(&token).is_err());
    }

    #[test]
    fn expired_tokens_and_wrong_audiences_are_refused() {
        let keys = TokenKeys::new(b"secret-secret-secret-secret-1234", None, None);
        let token = keys
            .mint(Uuid::now_v7(), chrono::Duration::hours(-2))
            .unwrap();
        assert!(keys.verify(&token).is_err());
        let a = TokenKeys::new(b"k", Some("leadq".into()), Some("a".into()));
        let b = TokenKeys::new(b"k", Some("leadq".into()), Some("b".into()));
        let token = a.mint(Uuid::now_v7(), chrono::Duration::hours(1)).unwrap();
        assert!(b.verify(&token).is_err());
        assert!(a.verify(&token).is_ok());
    }

    /// A token with these claims, signed with `keys`' secret.
    fn signed(claims: serde_json::Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"secret-secret-secret-secret-1234"),
        )
        .unwrap()
    }

    #[test]
    fn future_nbf_and_iat_and_overlong_lifetimes_are_refused() {
        let keys = TokenKeys::new(b"secret-secret-secret-secret-1234", None, None);
        let sub = Uuid::now_v7().to_string();
        let now = Utc::now().timestamp();
        let ok = signed(serde_json::json!({ "sub": sub, "exp": now + 3600, "iat": now }));
        assert!(keys.verify(&ok).is_ok());
        let skewed = signed(serde_json::json!({ "sub": sub, "exp": now + 3600, "iat": now + 10 }));
        assert!(
            keys.verify(&skewed).is_ok(),
            "small clock skew is tolerated"
        );
        for claims in [
            serde_json::json!({ "sub": sub, "exp": now + 3600, "nbf": now + 600 }),
            serde_json::json!({ "sub": sub, "exp": now + 3600, "iat": now + 10 * 365 * 86_400 }),
            serde_json::json!({ "sub": sub, "exp": i64::MAX }),
            serde_json::json!({ "sub": sub, "exp": i64::MAX, "iat": now }),
            serde_json::json!({ "sub": sub, "exp": now + 31 * 86_400, "iat": now }),
        ] {
            assert!(keys.verify(&signed(claims.clone())).is_err(), "{claims}");
        }
        let short = keys.clone().with_max_lifetime(chrono::Duration::hours(1));
        assert!(short.verify(&ok).is_ok());
        assert!(
            short
                .mint(Uuid::now_v7(), chrono::Duration::hours(2))
                .is_err()
        );
    }

    #[test]
    fn alg_none_is_refused() {
        let keys = TokenKeys::new(b"k", None, None);
        // {"alg":"none","typ":"JWT"} . {"sub":"<uuid>","exp":9999999999} . (no signature)
        let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        let payload =
            "eyJzdWIiOiIwMTkzNDhmNi0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDAiLCJleHAiOjk5OTk5OTk5OTl9";
        assert!(keys.verify(&format!("{header}.{payload}.")).is_err());
    }

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer_token(Some("Basic abc")), None);
        assert_eq!(bearer_token(Some("Bearer ")), None);
        assert_eq!(bearer_token(None), None);
    }
}
