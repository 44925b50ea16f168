//! How to reach someone: [`Email`], [`Phone`], [`Website`].

use email_address::{EmailAddress, Options};
use url::{Host, Url};

use super::text::{is_invisible, text};
use crate::error::{AppError, AppResult};

/// Longest e-mail address accepted (the product's field length).
pub const EMAIL_MAX: usize = 100;
/// Longest website accepted.
pub const WEBSITE_MAX: usize = 200;

/// An e-mail address, checked by the `email_address` crate (RFC 5322 addr-spec) with a dotted
/// domain, no display text, no domain literal and no invisible characters (`a\u{200b}@b.com`
/// would look like `a@b.com` and slip past the e-mail duplicate rules).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses an e-mail address; blank is `None`.
    pub fn parse(field: &str, input: Option<String>) -> AppResult<Option<Self>> {
        let Some(value) = text(field, input, EMAIL_MAX)? else {
            return Ok(None);
        };
        let bad = || {
            AppError::bad_input(
                field,
                format!("{field} is not a valid e-mail address: {value:?}"),
            )
        };
        if value
            .chars()
            .any(|c| is_invisible(c) || c.is_whitespace() || c.is_control())
        {
            return Err(bad());
        }
        let options = Options::default()
            .with_required_tld()
            .without_display_text()
            .without_domain_literal();
        let parsed = EmailAddress::parse_with_options(&value, options).map_err(|_| bad())?;
        if parsed.domain().starts_with('.') || parsed.domain().ends_with('.') {
            return Err(bad());
        }
        Ok(Some(Self(value)))
    }

    /// The address as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stored text.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A phone number as people write it: digits with `+ - ( ) . /` spaces and an `x`/`ext`
/// extension, at least three digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Parses a phone number of at most `max` characters; blank is `None`.
    pub fn parse(field: &str, input: Option<String>, max: usize) -> AppResult<Option<Self>> {
        let Some(value) = text(field, input, max)? else {
            return Ok(None);
        };
        let digits = value.chars().filter(char::is_ascii_digit).count();
        let allowed = value
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().,/#*xXeEtT".contains(c));
        if digits >= 3 && allowed {
            Ok(Some(Self(value)))
        } else {
            Err(AppError::bad_input(
                field,
                format!("{field} is not a valid phone number: {value:?}"),
            ))
        }
    }

    /// The number as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stored text.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A website: an absolute `http://` or `https://` URL whose host is a dotted domain name or an IP
/// address, without user info (`https://user:pass@evil.com/` is refused) and without invisible
/// characters. A value without a scheme (`contoso.com/about`) is taken as `https://` and stored
/// so; a scheme-relative `//evil.com` or another scheme (`javascript:`, `ftp:`) is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Website(String);

impl Website {
    /// Parses a website; blank is `None`.
    pub fn parse(field: &str, input: Option<String>) -> AppResult<Option<Self>> {
        let Some(value) = text(field, input, WEBSITE_MAX)? else {
            return Ok(None);
        };
        let bad = |why: &str| {
            AppError::bad_input(
                field,
                format!("{field} is not a valid website ({why}): {value:?}"),
            )
        };
        if value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || is_invisible(c))
        {
            return Err(bad("spaces or invisible characters"));
        }
        if value.starts_with('/') || value.starts_with('\\') {
            return Err(bad("write it as https://host/..."));
        }
        let has_scheme = value.split_once(':').is_some_and(|(scheme, _)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !scheme.contains('.')
        });
        let absolute = if has_scheme {
            value.clone()
        } else {
            format!("https://{value}")
        };
        let url = Url::parse(&absolute).map_err(|_| bad("not a URL"))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(bad("only http:// and https:// websites are accepted"));
        }
        if !absolute[url.scheme().len()..].starts_with("://") {
            return Err(bad("write it as https://host/..."));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("user names and passwords are not accepted"));
        }
        match url.host() {
            Some(Host::Domain(domain)) => {
                let labels: Vec<&str> = domain.trim_end_matches('.').split('.').collect();
                if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
                    return Err(bad("the host must be a domain name such as contoso.com"));
                }
            }
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => {}
            None => return Err(bad("no host")),
        }
        if absolute.chars().count() > WEBSITE_MAX {
            return Err(bad("too long"));
        }
        Ok(Some(Self(absolute)))
    }

    /// The website as stored (with its scheme).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stored text.
    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> AppResult<Option<Email>> {
        Email::parse("email", Some(s.into()))
    }

    fn website(s: &str) -> AppResult<Option<Website>> {
        Website::parse("website", Some(s.into()))
    }

    #[test]
    fn emails_are_checked_by_the_crate_and_refuse_invisible_characters() {
        assert_eq!(
            email(" john@x.com ").unwrap().unwrap().as_str(),
            "john@x.com"
        );
        assert!(email("first.last+tag@sub.example.co.uk").unwrap().is_some());
        for bad in [
            "john.x.com",
            "jo hn@x.com",
            "a\u{200b}@b.com",
            "a@b\u{200d}.com",
            "\u{feff}a@b.com",
            "a@b",
            "a@@b.com",
            "a@.b.com",
            "a@[127.0.0.1]",
            "Ann <ann@x.com>",
        ] {
            let err = email(bad).unwrap_err();
            assert_eq!(err.code(), "BAD_USER_INPUT", "{bad:?}");
        }
    }

    #[test]
    fn phones_are_checked() {
        assert!(
            Phone::parse("p", Some("+1 (555) 010-2000".into()), 50)
                .unwrap()
                .is_some()
        );
        assert!(Phone::parse("p", Some("call me".into()), 50).is_err());
    }

    #[test]
    fn websites_are_http_urls_with_a_host_and_no_user_info() {
        assert_eq!(
            website("https://www.contoso.com/")
                .unwrap()
                .unwrap()
                .as_str(),
            "https://www.contoso.com/"
        );
        assert_eq!(
            website("contoso.com").unwrap().unwrap().as_str(),
            "https://contoso.com"
        );
        assert!(website("http://10.0.0.1:8080/x").unwrap().is_some());
        for bad in [
            "//evil.com",
            "https://user:pass@evil.com/",
            "https://user@evil.com/",
            "javascript:alert(1)",
            "ftp://files.example.com",
            "https:evil.com",
            "not a site",
            "https://localhost/",
            "https://exa\u{200b}mple.com",
            "http:///x",
        ] {
            assert!(website(bad).is_err(), "{bad:?}");
        }
    }
}
