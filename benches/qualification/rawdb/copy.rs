//! PostgreSQL's binary `COPY` format, encoded from the benchmark's rows: what the limit scenario
//! streams with `COPY ... FROM STDIN (FORMAT binary)`.
//!
//! The format (PostgreSQL manual, `COPY`, "Binary Format"): a signature, flags and header
//! extension length; per row the field count (int16), then per field its length (int32, -1 for
//! NULL) and its value in the type's binary send format; a trailer of -1 (int16). Every value
//! must be the column's exact type: the benchmark's columns are `uuid` (16 bytes), `text`
//! (UTF-8), `timestamptz` (int64 microseconds since 2000-01-01 UTC), `int8` and `bool`.

use anyhow::{Result, bail, ensure};
use chrono::{DateTime, Utc};

use super::P;
use super::tables::Table;

/// The signature, the flags (none) and the header extension length (zero).
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01 00:00:00 UTC.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// `rows` (each in `table.columns` order) as one binary `COPY` stream.
pub fn copy_binary(table: &Table, rows: &[Vec<P>]) -> Result<Vec<u8>> {
    let ncols = table.columns.len();
    let fields = i16::try_from(ncols)?;
    let mut out = Vec::with_capacity(HEADER.len() + rows.len() * (2 + ncols * 24) + 2);
    out.extend_from_slice(HEADER);
    for row in rows {
        ensure!(
            row.len() == ncols,
            "a {} row has {} values",
            table.name,
            row.len()
        );
        out.extend_from_slice(&fields.to_be_bytes());
        for p in row {
            field(&mut out, p)?;
        }
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    Ok(out)
}

fn field(out: &mut Vec<u8>, p: &P) -> Result<()> {
    fn value(out: &mut Vec<u8>, bytes: &[u8]) -> Result<()> {
        out.extend_from_slice(&i32::try_from(bytes.len())?.to_be_bytes());
        out.extend_from_slice(bytes);
        Ok(())
    }
    match p {
        P::Uuid(Some(v)) => value(out, v.as_bytes()),
        P::Text(Some(v)) => value(out, v.as_bytes()),
        P::Time(Some(v)) => value(out, &micros(v).to_be_bytes()),
        P::I64(Some(v)) => value(out, &v.to_be_bytes()),
        P::Bool(Some(v)) => value(out, &[u8::from(*v)]),
        P::Uuid(None) | P::Text(None) | P::Time(None) | P::I64(None) | P::Bool(None) => {
            out.extend_from_slice(&(-1i32).to_be_bytes());
            Ok(())
        }
        P::Array(_) => bail!("arrays are not copied"),
    }
}

fn micros(t: &DateTime<Utc>) -> i64 {
    t.timestamp_micros() - PG_EPOCH_MICROS
}
