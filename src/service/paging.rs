//! Relay-style pagination (`first` / `after` with opaque keyset cursors) and the list filters
//! every record list shares.
//!
//! A cursor encodes the sort key of the last row seen and its id, so the next page starts right
//! after it whatever was inserted meanwhile, and the database reads only the page (an index on
//! the sort key serves it) instead of skipping an offset.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, Condition, DbBackend};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Page size when the client does not say.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 500;

/// A page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub first: u64,
    pub after: Option<Cursor>,
}

/// Where the previous page ended: the sort key (as text) and the id of its last row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub id: Uuid,
}

/// One page of rows, with whether more follow and how many match in all.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<(Cursor, T)>,
    pub has_next_page: bool,
    pub total_count: u64,
}

impl PageRequest {
    /// Parses `first` and `after` as a client sent them.
    pub fn parse(first: Option<i32>, after: Option<&str>) -> AppResult<Self> {
        let first = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if n >= 0 && (n as u64) <= MAX_PAGE_SIZE => n as u64,
            Some(n) => {
                return Err(AppError::bad_input(
                    "first",
                    format!("first must be between 0 and {MAX_PAGE_SIZE}, got {n}"),
                ));
            }
        };
        let after = after.map(Cursor::decode).transpose()?;
        Ok(Self { first, after })
    }
}

impl Cursor {
    /// The opaque text a client sees.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.id, self.key))
    }

    /// Parses a cursor a client sent back.
    pub fn decode(text: &str) -> AppResult<Self> {
        let bad = || AppError::bad_input("after", "after is not a cursor this API returned");
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (id, key) = text.split_once('|').ok_or_else(bad)?;
        Ok(Self {
            key: key.to_owned(),
            id: Uuid::parse_str(id).map_err(|_| bad())?,
        })
    }
}

/// Builds a page from up to `first + 1` rows fetched after the cursor.
pub fn page_from_rows<T>(
    mut rows: Vec<T>,
    first: u64,
    total_count: u64,
    cursor_of: impl Fn(&T) -> Cursor,
) -> Page<T> {
    let has_next_page = rows.len() as u64 > first;
    rows.truncate(first as usize);
    Page {
        items: rows.into_iter().map(|r| (cursor_of(&r), r)).collect(),
        has_next_page,
        total_count,
    }
}

/// Rows strictly after the cursor in (sort key, id) order.
pub fn after_cursor<C: ColumnTrait>(
    column: C,
    key: sea_orm::Value,
    id_column: C,
    id: Uuid,
    descending: bool,
) -> Condition {
    if descending {
        Condition::any()
            .add(column.lt(key.clone()))
            .add(Condition::all().add(column.eq(key)).add(id_column.lt(id)))
    } else {
        Condition::any()
            .add(column.gt(key.clone()))
            .add(Condition::all().add(column.eq(key)).add(id_column.gt(id)))
    }
}

/// `text` anywhere in any of `columns` of `table`, ignoring case: `lower(column) LIKE '%text%'`
/// (wildcards in `text` escaped), the same on SQLite and PostgreSQL.
///
/// Served by an index (migration `m20261130_000007_text_search_indexes`): on PostgreSQL the
/// trigram GIN index of each `lower(column)` answers this very condition; on SQLite the table's
/// FTS5 trigram index first narrows the rows to those holding the text (case-folded, in any of
/// the columns), and the `LIKE` then keeps exactly today's matches. A text shorter than three
/// characters has no trigram: SQLite then scans (PostgreSQL's index scan reads the whole index),
/// with the same results.
pub fn text_search<C: ColumnTrait>(
    backend: DbBackend,
    table: &str,
    text: &str,
    columns: &[C],
) -> Condition {
    let lowered = text.to_lowercase();
    let escaped = lowered
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = format!("%{escaped}%");
    let like = columns.iter().fold(Condition::any(), |any, column| {
        any.add(
            Expr::expr(Func::lower(Expr::col(column.as_column_ref())))
                .like(LikeExpr::new(pattern.clone()).escape('\\')),
        )
    });
    if backend != DbBackend::Sqlite || lowered.chars().count() < 3 {
        return like;
    }
    // An FTS5 phrase: the text as one quoted string (quotes doubled), i.e. these trigrams in a row.
    let phrase = format!("\"{}\"", lowered.replace('"', "\"\""));
    Condition::all()
        .add(Expr::cust_with_values(
            format!(
                "{table}.rowid IN (SELECT rowid FROM {table}_search WHERE {table}_search MATCH ?)"
            ),
            [phrase],
        ))
        .add(like)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor {
            key: "2026-01-01|x".into(),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("!!").is_err());
        assert!(PageRequest::parse(Some(-1), None).is_err());
        assert!(PageRequest::parse(Some(501), None).is_err());
        assert_eq!(PageRequest::parse(None, None).unwrap().first, 50);
    }
}
