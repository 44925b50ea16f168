//! Relay connections: `edges { cursor node }`, `pageInfo { hasNextPage endCursor }`, `totalCount`.

use async_graphql::SimpleObject;

use super::records::{Account, Contact, Lead, Opportunity};
use crate::service::paging::Page;

/// Where a page ends.
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    /// Whether more items follow this page.
    pub has_next_page: bool,
    /// Whether items precede this page (true when the page was asked for with `after`).
    pub has_previous_page: bool,
    /// The cursor of the first item of the page.
    pub start_cursor: Option<String>,
    /// The cursor of the last item of the page; pass it as `after` for the next page.
    pub end_cursor: Option<String>,
}

macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ident, $model:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, ".")]
        #[derive(SimpleObject)]
        pub struct $connection {
            #[doc = concat!("The ", $what, " of this page, each with its cursor.")]
            pub edges: Vec<$edge>,
            /// Where this page ends and whether more follow.
            pub page_info: PageInfo,
            #[doc = concat!("How many ", $what, " match in all pages together.")]
            pub total_count: i64,
        }

        #[doc = concat!("One of ", $what, " in a page.")]
        #[derive(SimpleObject)]
        pub struct $edge {
            /// Pass as `after` to continue after this item.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        impl $connection {
            /// Maps a service page, noting whether the client paged with `after`.
            pub fn from_page(page: Page<$model>, had_cursor: bool) -> Self {
                let edges: Vec<$edge> = page
                    .items
                    .into_iter()
                    .map(|(cursor, model)| $edge {
                        cursor: cursor.encode(),
                        node: $node(model),
                    })
                    .collect();
                Self {
                    page_info: PageInfo {
                        has_next_page: page.has_next_page,
                        has_previous_page: had_cursor,
                        start_cursor: edges.first().map(|e| e.cursor.clone()),
                        end_cursor: edges.last().map(|e| e.cursor.clone()),
                    },
                    edges,
                    total_count: i64::try_from(page.total_count).unwrap_or(i64::MAX),
                }
            }
        }
    };
}

connection!(LeadConnection, LeadEdge, Lead, entity::lead::Model, "leads");
connection!(
    AccountConnection,
    AccountEdge,
    Account,
    entity::account::Model,
    "accounts"
);
connection!(
    ContactConnection,
    ContactEdge,
    Contact,
    entity::contact::Model,
    "contacts"
);
connection!(
    OpportunityConnection,
    OpportunityEdge,
    Opportunity,
    entity::opportunity::Model,
    "opportunities"
);
