//! The edge of the server (issue 12): introspection by standard tools, the GraphQL-over-HTTP
//! media types, observability endpoints, the embedded playground and persisted operations; the
//! built single-page app served by `--spa` (issue 17).

mod introspection;
mod logs;
mod media;
mod observability;
mod persisted;
mod playground;
mod spa;
