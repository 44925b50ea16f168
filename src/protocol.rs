//! GraphQL over HTTP (the GraphQL Foundation's spec): the request parameters checked one by one,
//! and the media type of the answer.
//!
//! - A request is a JSON object with `query` (a string), and optionally `operationName` (a
//!   string), `variables` (an object) and `extensions` (an object); each may also be `null`.
//!   Anything else (no `query`, a `query` that is not a string, `variables` that is a list...) is
//!   a *request error*: HTTP 400 with a message that names the parameter, whatever the media
//!   type. A request with no `query` but an `extensions.persistedQuery` is a persisted operation
//!   ([`crate::service::persisted`]).
//! - The answer is `application/graphql-response+json` when the client's `Accept` prefers it (or
//!   only accepts it), else `application/json` (no `Accept`, `*/*`, `application/json`). Under
//!   `application/graphql-response+json` a request that fails before it runs (syntax, validation,
//!   variable coercion, the cost limits) is HTTP 400 and has no `data` entry; under
//!   `application/json` it stays HTTP 200 with `"data": null`, as legacy clients expect.

use async_graphql::{Request, Variables};
use serde_json::{Map, Value};

/// The media type of a GraphQL answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMedia {
    /// `application/json`: the legacy type; request errors are HTTP 200 with `"data": null`.
    Json,
    /// `application/graphql-response+json`: request errors are HTTP 400 with no `data`.
    GraphqlResponseJson,
}

/// The spec's media type.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

impl ResponseMedia {
    /// The type to answer with, given the request's `Accept` header: the new type when it is
    /// accepted at least as much as `application/json` (by name, `application/*` or `*/*`),
    /// else `application/json` (also when neither is accepted: the spec allows it, and an
    /// answer the client can read beats a 406).
    pub fn negotiate(accept: Option<&str>) -> Self {
        let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
            return Self::Json;
        };
        let mut graphql_response: Option<f32> = None;
        let mut json: Option<f32> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let best =
                |slot: &mut Option<f32>| *slot = Some(slot.map_or(quality, |q| q.max(quality)));
            match media.as_str() {
                GRAPHQL_RESPONSE_JSON => best(&mut graphql_response),
                "application/json" | "application/*" | "*/*" => best(&mut json),
                _ => {}
            }
        }
        match graphql_response {
            Some(g) if g > 0.0 && g >= json.unwrap_or(0.0) => Self::GraphqlResponseJson,
            _ => Self::Json,
        }
    }

    /// The `Content-Type` of the answer.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
        }
    }
}

/// A request's parameters, each checked.
#[derive(Debug, Default)]
pub struct Params {
    pub query: Option<String>,
    pub operation_name: Option<String>,
    pub variables: Option<Map<String, Value>>,
    pub extensions: Option<Map<String, Value>>,
}

/// A request error: the client sent something that is not a GraphQL request (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError(pub String);

impl Params {
    /// The parameters of one request given as a JSON object (a POST body, or one entry of a
    /// batch).
    pub fn from_json(value: Value) -> Result<Self, RequestError> {
        let Value::Object(mut object) = value else {
            return Err(RequestError(format!(
                "a GraphQL request is a JSON object with a \"query\" string, not {}",
                kind(&value)
            )));
        };
        let query = match object.remove("query") {
            None | Some(Value::Null) => None,
            Some(Value::String(query)) => Some(query),
            Some(other) => {
                return Err(RequestError(format!(
                    "\"query\" must be a string holding a GraphQL document, not {}",
                    kind(&other)
                )));
            }
        };
        let operation_name = match object.remove("operationName") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name).filter(|n| !n.is_empty()),
            Some(other) => {
                return Err(RequestError(format!(
                    "\"operationName\" must be a string or null, not {}",
                    kind(&other)
                )));
            }
        };
        let variables = object_param(object.remove("variables"), "variables")?;
        let extensions = object_param(object.remove("extensions"), "extensions")?;
        Ok(Self {
            query,
            operation_name,
            variables,
            extensions,
        })
    }

    /// The parameters of a GET request, from its URL query string (`variables` and
    /// `extensions` as JSON text).
    pub fn from_query_string(query_string: &str) -> Result<Self, RequestError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query_string)
            .map_err(|e| RequestError(format!("the URL's query string does not decode: {e}")))?;
        let mut params = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "query" => params.query = Some(value),
                "operationName" => params.operation_name = Some(value).filter(|v| !v.is_empty()),
                "variables" if !value.is_empty() => {
                    params.variables =
                        object_param(Some(json_text(&value, "variables")?), "variables")?;
                }
                "extensions" if !value.is_empty() => {
                    params.extensions =
                        object_param(Some(json_text(&value, "extensions")?), "extensions")?;
                }
                _ => {}
            }
        }
        Ok(params)
    }

    /// Whether the request names a persisted operation (`extensions.persistedQuery`).
    pub fn persisted_query(&self) -> Option<&Value> {
        self.extensions.as_ref()?.get("persistedQuery")
    }

    /// The async-graphql request for `query` (the request's own, or the persisted one).
    pub fn into_request(self, query: String) -> Request {
        let mut request = Request::new(query);
        if let Some(name) = self.operation_name {
            request = request.operation_name(name);
        }
        if let Some(variables) = self.variables {
            request = request.variables(Variables::from_json(Value::Object(variables)));
        }
        if let Some(extensions) = self.extensions {
            for (key, value) in extensions {
                if let Ok(value) = async_graphql::Value::from_json(value) {
                    request.extensions.insert(key, value);
                }
            }
        }
        request
    }
}

/// The message for a request without a query.
pub const MISSING_QUERY: &str = "the request has no \"query\": send a JSON object such as \
                                 {\"query\": \"{ me { name } }\"} (or the hash of a persisted \
                                 operation in extensions.persistedQuery)";

fn json_text(text: &str, name: &str) -> Result<Value, RequestError> {
    serde_json::from_str(text)
        .map_err(|e| RequestError(format!("\"{name}\" is not valid JSON text: {e}")))
}

fn object_param(
    value: Option<Value>,
    name: &str,
) -> Result<Option<Map<String, Value>>, RequestError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(other) => Err(RequestError(format!(
            "\"{name}\" must be a JSON object (or null), not {}",
            kind(&other)
        ))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Whether a GraphQL answer is a request error: it has no data and every error came before
/// execution (no `path`): syntax, validation, variable coercion or a limit.
pub fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_new_media_type_is_chosen_when_preferred_or_alone() {
        use ResponseMedia::*;
        assert_eq!(ResponseMedia::negotiate(None), Json);
        assert_eq!(ResponseMedia::negotiate(Some("*/*")), Json);
        assert_eq!(ResponseMedia::negotiate(Some("application/json")), Json);
        assert_eq!(
            ResponseMedia::negotiate(Some("application/graphql-response+json")),
            GraphqlResponseJson
        );
        assert_eq!(
            ResponseMedia::negotiate(Some(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            GraphqlResponseJson
        );
        assert_eq!(
            ResponseMedia::negotiate(Some(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Json
        );
        assert_eq!(
            ResponseMedia::negotiate(Some("application/graphql-response+json;q=0")),
            Json
        );
        assert_eq!(ResponseMedia::negotiate(Some("text/html")), Json);
    }

    #[test]
    fn parameters_of_the_wrong_type_are_request_errors() {
        assert!(Params::from_json(json!({ "query": 1 })).is_err());
        assert!(Params::from_json(json!({ "query": "{a}", "variables": "x" })).is_err());
        assert!(Params::from_json(json!({ "query": "{a}", "operationName": [] })).is_err());
        assert!(Params::from_json(json!({ "query": "{a}", "extensions": false })).is_err());
        assert!(Params::from_json(json!("{a}")).is_err());
        let params = Params::from_json(
            json!({ "query": "{a}", "variables": null, "operationName": null, "extensions": null }),
        )
        .unwrap();
        assert_eq!(params.query.as_deref(), Some("{a}"));
        assert!(
            Params::from_json(json!({ "qeury": "{a}" }))
                .unwrap()
                .query
                .is_none()
        );
    }
}
